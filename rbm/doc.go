// Package rbm implements restricted Boltzmann machines with binary hidden units and
// either Bernoulli (binary) or Gaussian visible units, trained by maximum likelihood
// with a stochastic negative phase: contrastive divergence CD-k, persistent CD (PCD)
// and parallel tempering (PT). It registers the model families rbm and grbm with
// package model (family.go): a Trainer is their model.Trainer, and samples, scores,
// transforms and draws pictures.
//
// A Bernoulli–Bernoulli RBM has energy
//
//	E(v, h) = −vᵀWh − bᵀv − cᵀh,
//
// a Gaussian–Bernoulli RBM (GRBM), on standardised data z = (x − mean)/std,
//
//	E(z, h) = Σ_i (z_i − b_i)²/(2σ_i²) − Σ_ij (z_i/σ_i) W_ij h_j − cᵀh,
//
// with per-unit σ_i = exp(LogSigma_i), fixed (default 1) or learned. The model keeps
// the standardisation (Mean, Std) and applies it itself: every public method takes and
// returns data in the original units, and GRBM log-likelihoods include the Jacobian
// −Σ_i log Std_i. A column that is constant in a GRBM's training data has nothing to
// standardise: it is left out of the model and restored in samples and means (Keep,
// Fill), and log-likelihoods are those of the other columns.
//
// Evaluation gives log-likelihoods in nats (LogLikelihood): exact, enumerating the
// smaller layer (mcmc.ExactLogZ), when that takes about a minute or less, or on
// request when a layer has at most mcmc.MaxExactUnits units; AIS with an error bar
// otherwise. Beside them: a deterministic pseudo-likelihood over all bits, the
// reconstruction error, and for Ising data the observables of model samples
// (CompareIsing). Training state (parameters, velocities, persistent chains, random
// streams, epoch and step) round-trips through a checkpoint.File, so a resumed run
// continues bit for bit.
//
// The deep forms build on the RBM. A deep belief network (DBN, family dbn) is a
// stack of RBMs trained greedily, its log-likelihood bounded below by the
// variational bound of Salakhutdinov & Murray (2008) with the top RBM's log Z;
// the up-down algorithm of Hinton, Osindero & Teh (2006) fine-tunes it with
// recognition weights untied from the generative ones (UpDown), which the bound
// then uses. A
// deep Boltzmann machine (DBM, family dbm) is held as one RBM between its even
// and its odd layers, so exact log Z, AIS, Gibbs sampling and the PCD trainer are
// the RBM's; it is pretrained with the doubled RBMs of Salakhutdinov & Hinton
// (2009) and trained jointly with a mean-field positive phase, and scored by the
// mean-field lower bound with log Z by AIS. Models small enough to enumerate give
// exact log Z and log p(v) for both.
package rbm
