// Package ebm is the deep energy-based model: a convolutional network E(x; θ) with a
// scalar output defines
//
//	p(x) = exp(−E(x; θ)) / Z(θ),   x ∈ [0, 1]^d,
//
// trained by contrastive divergence with Langevin negatives drawn mostly from a
// replay buffer (Du & Mordatch 2019, "Implicit generation and generalization in
// energy-based models"; Lippe, "Deep Energy-Based Generative Models", UvA deep
// learning tutorial 8), and scored, unlike in those tutorials, by a log-likelihood
// in nats: log Z by annealed importance sampling with HMC transitions
// (mcmc.AISEnergy) on dequantised data.
//
// The network sees s = 2x − 1 ∈ [−1, 1]^d, as in the tutorial; the Langevin
// settings (step size, noise, gradient clamp) act in that space. The support of
// the model is the box: sampling clamps to it, and the likelihood is a density on
// [0, 1]^d.
package ebm
