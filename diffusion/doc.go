// Package diffusion holds the diffusion models: Gaussian diffusion (DDPM, Ho
// et al. 2020; sampled ancestrally or by DDIM, Song et al. 2021; optionally
// class-conditional with classifier-free guidance, Ho & Salimans 2022) and
// binary diffusion on binary data (multinomial diffusion with two categories,
// Hoogeboom et al. 2021, the uniform D3PM of Austin et al. 2021), registered
// as the families "ddpm" and "bdiff".
//
// Both report the variational bound L = L_T + Σ_t L_{t−1} + L_0 on −log p(x)
// in nats per example (Estimate.Method "vlb", Bound "lower" on log p(x)), so
// they stand in the same table as the other families:
//
//   - bdiff sums all T terms, each KL computed exactly (per bit, in float64)
//     for one draw of x_t: an unbiased estimate of the bound. For data of at
//     most 8 bits it also enumerates log p(x) exactly.
//   - ddpm bounds the probability of 8-bit data with the discretised Gaussian
//     decoder (Ho et al. 2020, section 3.3), in nats and bits per dimension,
//     over all T terms or, unbiased, over sampled steps t.
//
// The noise schedule (β_t, ᾱ_t and the posterior coefficients) is computed
// once, in float64, by Schedule. The networks are built from package nn: an
// MLP of (x_t, t) for vectors and bits, and a small U-Net (UNet, ResBlock) for
// images whose sides are multiples of 4. Samplers and bounds take any
// Denoiser or Predictor, so they are tested against closed-form predictors.
//
//	latent train bdiff --data binarized-mnist --out bd.model
//	latent eval --model bd.model --data binarized-mnist:test --n 1000 --json
//	latent train ddpm --data mnist --out dd.model [--conditional]
//	latent sample --model dd.model --n 64 --out s.png --steps 50 --eta 0 --chain chain.png [--label 3 --guidance 2]
//	latent eval --model dd.model --data mnist:test --n 100 --vlb-t 16 --json
package diffusion
