// Package helmholtz implements the Helmholtz machine (Dayan, Hinton, Neal & Zemel
// 1995): a sigmoid belief net p(x, h) with binary hidden layers h_1..h_L, and a
// recognition network q(h | x) that stands in for the intractable posterior, trained
// by wake-sleep (Hinton, Dayan, Frey & Neal 1995) or reweighted wake-sleep
// (Bornschein & Bengio 2015).
//
// The generative model is
//
//	p(h_L) = Π_j σ(b_j)^h_j (1-σ(b_j))^(1-h_j),
//	p(h_{l-1} | h_l) = Π_i Bernoulli(h_{l-1,i} | σ(G_l h_l + c_{l-1})_i),  h_0 = x,
//
// and the recognition model q(h_l | h_{l-1}) = Π_j Bernoulli(σ(R_l h_{l-1} + r_l)_j).
// In the language of variational free energy, q is the Q of F(Q, G) = -log p(x) +
// KL(q ‖ p(h|x)): the wake phase lowers F in G with samples of q, and the sleep phase
// fits q to the model's own dreams (it minimises KL(p ‖ q) rather than KL(q ‖ p)).
// Reweighted wake-sleep draws K samples h^(k) ~ q(h|x) and weights them by the
// normalised importance weights w̃_k ∝ p(x, h^(k)) / q(h^(k)|x); with K = 1 its wake
// phase is plain wake-sleep's.
//
// log p(x) is estimated by importance sampling with q as the proposal,
//
//	log p(x) ≈ log (1/k) Σ_{i=1..k} p(x, h^(i)) / q(h^(i)|x),
//
// a stochastic lower bound in expectation (Jensen) that tends to log p(x) as k grows;
// k = 1 gives the ELBO. Log-weights accumulate in float64 and are combined by a
// float64 log-sum-exp. For tiny models ExactLogProb enumerates every hidden state.
//
// The package registers the model family "helmholtz" with package model (Config,
// EvalConfig, SampleConfig): Trainer takes its mini-batches from the training
// driver, which owns the shuffle, dynamic binarisation and saving, and steps
// with nn.Adam on the gradient of the negated wake-sleep objective.
package helmholtz
