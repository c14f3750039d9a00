package decoder

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/tensor"
)

// A generator with a categorical code (an InfoGAN's, Net.Codes = K) takes z
// with a one-hot code c appended, c uniform over K values, so its density is a
// mixture:
//
//	p(x) = (1/K) Σ_c p(x | c),   p(x | c) = ∫ N(z; 0, I) N(x; G(z, c), σ² I) dz.
//
// forwardAIS estimates each p(x | c) by its own AIS run (the code held fixed,
// as a conditional model's label) and averages the estimates: an unbiased
// estimate of p(x), whose log is again a stochastic lower bound on log p(x).
// Its standard error is the delta-method one of a stratified estimate,
// Var p̂ = (1/K²) Σ_c Var p̂_c, each Var p̂_c from its C chains' weights.

// forwardAIS runs forward AIS on the rows of x (with their labels for a
// conditional net; over every code for a net with codes) with steps
// transitions from seed, reporting progress as step. A problem with the data
// (labels missing or out of range) comes back through dataErr, which names
// where they came from; the AIS runs' own errors come back as they are.
func forwardAIS(ctx context.Context, net Net, sigma2 float64, x *tensor.Mat, labels []int, cfg *EvalConfig, steps int, seed uint64, step string, dataErr func(error) error) (mcmc.DecoderAISResult, error) {
	if net.Codes == 0 {
		dec, rows, err := newDecoder(net, sigma2, x, labels)
		if err != nil {
			return mcmc.DecoderAISResult{}, dataErr(err)
		}
		return mcmc.AISDecoder(dec, rows, aisConfig(ctx, cfg, steps, seed, step))
	}
	k := net.Codes
	cond := net
	cond.Classes, cond.Codes = k, 0
	codes := make([]int, x.Rows)
	runs := make([]mcmc.DecoderAISResult, k)
	for c := range k {
		for i := range codes {
			codes[i] = c
		}
		dec, rows, err := newDecoder(cond, sigma2, x, codes)
		if err != nil {
			return mcmc.DecoderAISResult{}, dataErr(err)
		}
		// Each code's chains draw from a stream of their own.
		runs[c], err = mcmc.AISDecoder(dec, rows, aisConfig(ctx, cfg, steps, seed+uint64(c)*0x9e3779b97f4a7c15, fmt.Sprintf("%s, code %d/%d", step, c+1, k)))
		if err != nil {
			return mcmc.DecoderAISResult{}, err
		}
	}
	return mixCodes(runs, x.Rows), nil
}

// mixCodes combines the AIS runs of every code (runs[c], one per code, n
// examples each) into the estimate of the mixture: per example
// log p̂ = log (1/K) Σ_c p̂_c with p̂_c = (1/C) Σ_j w_cj, and its delta-method
// standard error sd(p̂)/p̂, Var p̂ = (1/K²) Σ_c s_c²/C (s_c² the sample
// variance of code c's weights), computed with every weight scaled by the
// example's largest.
func mixCodes(runs []mcmc.DecoderAISResult, n int) mcmc.DecoderAISResult {
	k := len(runs)
	chains := runs[0].Chains
	out := mcmc.DecoderAISResult{LogLik: make([]float64, n), StdErr: make([]float64, n),
		LogWeights: make([]float64, 0, n*k*chains), Bound: runs[0].Bound, Chains: k * chains}
	var se2, acc float64
	for e := range n {
		top := math.Inf(-1)
		for _, r := range runs {
			for _, lw := range r.LogWeights[e*chains : (e+1)*chains] {
				top = max(top, lw)
			}
		}
		var mean, variance float64 // of p̂ / exp(top)
		for _, r := range runs {
			var s, s2 float64
			for _, lw := range r.LogWeights[e*chains : (e+1)*chains] {
				w := math.Exp(lw - top)
				s += w
				s2 += w * w
				out.LogWeights = append(out.LogWeights, lw)
			}
			m := s / float64(chains)
			mean += m / float64(k)
			if chains > 1 {
				v := (s2 - float64(chains)*m*m) / float64(chains-1) // sample variance of the weights
				variance += max(v, 0) / float64(chains) / float64(k*k)
			}
		}
		out.LogLik[e] = top + math.Log(mean)
		out.StdErr[e] = math.Sqrt(variance) / mean
		out.Mean += out.LogLik[e]
		se2 += out.StdErr[e] * out.StdErr[e]
	}
	for _, r := range runs {
		acc += r.AcceptRate / float64(k)
	}
	out.Mean /= float64(n)
	out.MeanStdErr = math.Sqrt(se2) / float64(n)
	out.AcceptRate = acc
	return out
}
