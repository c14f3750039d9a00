// Package vae implements autoencoders and variational autoencoders: the plain
// autoencoder, the VAE with a Bernoulli (logits) or Gaussian decoder, the conditional
// VAE, the convolutional VAE of the Keras example, and importance-weighted (IWAE)
// log-likelihood estimates and training.
//
// The VAE fits p(x) = ∫ p(x|h) N(h; 0, I) dh with an encoder Q(h|x) = N(μ(x),
// diag σ²(x)) by maximising the evidence lower bound
//
//	ELBO(x) = E_Q[log p(x|h)] − β·KL(Q(h|x) ‖ N(0, I)) ≤ log p(x)      (β = 1)
//
// with h = μ + σ⊙ε, ε ~ N(0, I) (the reparameterisation trick; Kingma & Welling 2014)
// and the KL term in closed form. With k > 1 samples the bound is the IWAE bound
// (Burda, Grosse & Salakhutdinov 2016), tighter and converging to log p(x) as k → ∞:
//
//	L_k(x) = E[ log (1/k) Σ_i w_i ],   w_i = p(x|h_i) N(h_i; 0, I) / Q(h_i|x).
//
// The conditional VAE models p(x|y) for a one-hot y; by Bayes' rule with the class
// frequencies of its training data as p(y) it is also a classifier,
// p(y|x) ∝ p(x|y) p(y), with each log p(x|y) an importance-weighted estimate
// (Model.ClassLogProbs, EvaluateClassifier).
//
// Training minimises the sum over a mini-batch of −ELBO (or −L_k), as
// pytorch/examples vae does, with nn's Adam or SGD, at a constant learning rate or
// on the schedule of Burda et al. (TrainConfig.Schedule "burda"). A Trainer trains
// one epoch at a time under model.Train, which owns the order of the examples
// (one seeded shuffle per epoch), dynamic binarisation, saving and resume; the
// noise ε comes from stream 1 of the seed, whose state Save writes with the
// parameters and optimiser moments, so a resumed run is bit-identical to an
// uninterrupted one. The kinds ae, vae, cvae and convvae are registered with
// package model (family.go): `latent train vae` and the rest.
package vae
