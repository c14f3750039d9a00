package rbm

import (
	"fmt"
	"math"
	"slices"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// ISResult is the result of DBM.ImportanceLogProb.
type ISResult struct {
	// LogProb[n] is the estimate of log p(v_n) for row n (log Z subtracted).
	LogProb []float64
	// ESS[n] is the effective sample size of row n's K importance weights,
	// (Σw)²/Σw², between 1 and K: near 1, one draw carries the estimate and
	// it is likely well below log p(v_n).
	ESS []float64
}

// ImportanceLogProb estimates log p(v_n) for the rows of mf's data (mf =
// MeanField of them) by importance sampling over the even hidden layers with
// the odd layers summed out in closed form:
//
//	p*(v) = Σ_{h_e} p*(v, h_e),   p*(x_e) = exp(bᵀx_e) Π_j (1 + exp((x_eᵀW + c)_j)),
//	log p̂(v) = log (1/K) Σ_k p*(v, h_e^k) / q(h_e^k) − log Z,   h_e^k ~ q,
//
// with q the factorial Bernoulli of the mean-field means of the even hidden
// layers, each clamped to [floor, 1 − floor] so that no state the posterior
// can reach is left out. For a DBM with two hidden layers the sum is over h_2
// alone. p̂ is unbiased for p(v)·Z/Ẑ, so by Jensen E[log p̂(v)] ≤ log p(v) (for
// the exact log Z): a stochastic lower bound that rises with k towards log p(v).
// With K = 1 its expectation already lies at or above the mean-field bound of
// LowerBound, because summing out the odd layers exactly beats any factorial
// Q over them. Row n of mf draws from its own stream (seed, first + n), first
// being the index of mf's first row in the whole data set, so the result does
// not depend on how the rows are chunked. It panics if k < 1 or floor is
// outside [0, 0.5].
func (d *DBM) ImportanceLogProb(mf *MeanField, first, k int, floor float64, seed uint64, logZ float64) ISResult {
	if k < 1 || !(floor >= 0 && floor <= 0.5) {
		panic(fmt.Sprintf("rbm: DBM.ImportanceLogProb: k = %d, floor = %g", k, floor))
	}
	n, nv, ne, no := mf.Even.Rows, d.NumVisible(), d.R.NumVisible(), d.R.NumHidden()
	nh := ne - nv
	res := ISResult{LogProb: make([]float64, n), ESS: make([]float64, n)}
	wv, wh := d.R.W.Slice(0, nv), d.R.W.Slice(nv, ne)
	av := make([]float32, no) // v·W_v, this row's
	H := tensor.New(k, nh)    // the K draws of the even hidden layers
	A := tensor.New(k, no)
	q := make([]float64, nh)
	gain := make([]float64, nh) // what h_j = 1 adds to log w: b_j − log(q_j/(1−q_j))
	logw := make([]float64, k)
	for r := 0; r < n; r++ {
		v := mf.Even.Row(r)[:nv]
		var bv float64
		clear(av)
		for i, x := range v {
			if x != 0 {
				bv += float64(x) * float64(d.R.B[i])
				for j, w := range wv.Row(i) {
					av[j] += x * w
				}
			}
		}
		var logq0 float64 // log q(all zero); each 1 adds log(q/(1−q))
		for j, m := range mf.Even.Row(r)[nv:] {
			q[j] = min(max(float64(m), floor), 1-floor)
			logq0 += math.Log1p(-q[j])
			gain[j] = float64(d.R.B[nv+j]) - math.Log(q[j]) + math.Log1p(-q[j])
		}
		s := rng.NewStream(seed, uint64(first+r))
		for i := 0; i < k; i++ {
			h := H.Row(i)
			lw := bv - logq0
			for j := range h {
				if s.Float64() < q[j] {
					h[j] = 1
					lw += gain[j]
				} else {
					h[j] = 0
				}
			}
			logw[i] = lw
		}
		tensor.Gemm(false, false, 1, H, wh, 0, A)
		for i := 0; i < k; i++ {
			for j, a := range A.Row(i) {
				logw[i] += softplus(float64(a) + float64(av[j]) + float64(d.R.C[j]))
			}
		}
		lm, _, ess := mcmc.LogWeights(logw)
		res.LogProb[r], res.ESS[r] = lm-logZ, ess
	}
	return res
}

// median returns the median of x (0 for none); x is left as it was.
func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
