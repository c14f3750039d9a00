// Package mixture fits finite mixture models by expectation-maximisation and records
// the variational free energy after every half-step.
//
// For data x_1..x_n, a distribution Q(k|x_n) over components and parameters G, the
// free energy per example is
//
//	F(Q, G) = -(1/n) Σ_n Σ_k Q(k|x_n) log(p(x_n, k | G) / Q(k|x_n)) - log p(G)/n
//	        = -(1/n) [L(G) + log p(G)] + (1/n) Σ_n KL(Q(·|x_n) ‖ p(·|x_n, G)),
//
// where L(G) = Σ_n log p(x_n | G) and p(G) is a prior (1 for maximum likelihood).
// The E-step minimises F in Q with G fixed; for a mixture it is exact, Q(k|x_n) =
// p(k|x_n, G), so after it F = -(L + log p(G))/n. The M-step minimises F in G with Q
// fixed. EM therefore never increases F, and the trace Result.History shows both
// halves: the drop in the E-step is the KL term being closed, the drop in the M-step
// is the gain in the expected complete-data log-likelihood.
//
// The EM loop (EM) is written once over the Model interface; GaussianMixture
// (full, diagonal, spherical and tied covariances) and BernoulliMixture (with a Beta
// prior) implement it. Failing to converge within MaxIter is reported in
// Result.Converged, not as an error.
//
// Sums that decide a reported figure (log-likelihoods, sufficient statistics)
// accumulate in float64, in a fixed order over fixed-size row chunks, so results do
// not depend on the number of workers (tensor.SetWorkers). With FastMath the
// O(n·d·K) products run through tensor.Gemm in float32 inside each chunk (chunk
// results still accumulate in float64); F then carries float32 rounding, about 1e-6
// relative.
//
// The package registers the model families "gmm" and "bmm" with package model
// (GMMConfig, BMMConfig): a Mixture trains one EM iteration per epoch of the
// training driver, with its restarts side by side, and is what their model files
// hold.
package mixture
