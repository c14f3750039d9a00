// Package diffusion holds the diffusion models: Gaussian diffusion on images
// (DDPM, Ho et al. 2020, sampled ancestrally or by DDIM, Song et al. 2021) and
// binary diffusion on binary data (multinomial diffusion with two categories,
// Hoogeboom et al. 2021, the uniform D3PM of Austin et al. 2021), registered as
// the families "ddpm" and "bdiff".
//
// Both report the variational bound L = L_T + Σ_t L_{t−1} + L_0 on −log p(x) in
// nats per example (Estimate.Method "vlb", Bound "lower" on log p(x)), so they
// stand in the same table as the other families. The noise schedule (β_t, ᾱ_t
// and the posterior coefficients) is computed once, in float64, by Schedule.
package diffusion
