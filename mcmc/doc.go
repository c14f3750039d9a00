// Package mcmc provides the Markov chain Monte Carlo samplers and partition-function
// estimators that latent's energy-based models use: block Gibbs sampling of bipartite
// binary models (RBMs), Metropolis–Hastings over any energy function on binary or
// continuous states, parallel tempering, annealed importance sampling (AIS) for log Z
// of binary (AIS) and Gaussian–Bernoulli (AISGaussian) bipartite models, and exact
// log Z by enumerating the smaller layer of a bipartite model.
//
// The package knows nothing about model packages: an RBM hands its parameters over as
// a Bipartite or GaussianBipartite value (views, no copies), so the import arrows point down.
//
// Randomness is always explicit. Samplers that run several chains give chain i its own
// stream (rng.NewStream(seed, i) or a Child of a caller's stream), so results do not
// depend on the number of workers. Quantities that decide a reported figure (log
// weights, log Z, free energies) accumulate in float64.
package mcmc
