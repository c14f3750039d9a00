package mcmc

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/latent-ml/latent/tensor"
)

// MaxExactUnits is the largest smaller-layer size ExactLogZ enumerates (2^30 states).
const MaxExactUnits = 30

// ExactLogZ returns log Z = log Σ_{v,h} exp(−E(v, h)) by summing out the larger layer in
// closed form and enumerating the 2^n states s of the smaller layer (n = min(nv, nh)):
//
//	log Z = logsumexp_s [ aᵀs + Σ_k softplus(d_k + Σ_j U_kj s_j) ],
//
// where (a, d, U) are (c, b, W) when the hidden layer is the smaller one and (b, c, Wᵀ)
// otherwise. States are visited in Gray-code order within blocks of 2^12, so each state
// costs one column update; everything accumulates in float64 with a running
// log-sum-exp. Blocks run in parallel and combine in a fixed order, so the result does
// not depend on the number of workers. It returns an error when n > MaxExactUnits.
func ExactLogZ(m Bipartite) (float64, error) {
	m.check()
	nv, nh := m.W.Rows, m.W.Cols
	n, other := nh, nv
	if nv < nh {
		n, other = nv, nh
	}
	if n > MaxExactUnits {
		return 0, fmt.Errorf("mcmc: exact log Z enumerates 2^%d states; the smaller layer must have at most %d units", n, MaxExactUnits)
	}
	// u[j] is the j-th enumerated unit's weight vector over the other layer (float64).
	u := make([][]float64, n)
	a := make([]float64, n)
	d := make([]float64, other)
	for j := range u {
		u[j] = make([]float64, other)
	}
	if n == nh {
		for i := 0; i < nv; i++ {
			for j, w := range m.W.Row(i) {
				u[j][i] = float64(w)
			}
			d[i] = float64(m.B[i])
		}
		for j := range a {
			a[j] = float64(m.C[j])
		}
	} else {
		for i := 0; i < nv; i++ {
			for j, w := range m.W.Row(i) {
				u[i][j] = float64(w)
			}
			a[i] = float64(m.B[i])
		}
		for j := range d {
			d[j] = float64(m.C[j])
		}
	}
	return enumerateLogSumExp(n, other, a, d, u, func(x []float64) float64 {
		var s float64
		for _, xk := range x {
			s += softplus(xk)
		}
		return s
	}), nil
}

// enumerateLogSumExp returns logsumexp over s ∈ {0,1}^n of aᵀs + g(d + Σ_j s_j u_j).
func enumerateLogSumExp(n, other int, a, d []float64, u [][]float64, g func(x []float64) float64) float64 {
	blk := min(n, 12)
	nBlocks := 1 << (n - blk)
	maxs := make([]float64, nBlocks)
	sums := make([]float64, nBlocks)
	tensor.ParallelFor(nBlocks, 1, func(lo, hi int) {
		x := make([]float64, other)
		for blockIdx := lo; blockIdx < hi; blockIdx++ {
			copy(x, d)
			var lin float64
			high := uint64(blockIdx) << blk
			for j := blk; j < n; j++ {
				if high>>j&1 == 1 {
					lin += a[j]
					for k, w := range u[j] {
						x[k] += w
					}
				}
			}
			var gray uint64
			mx, sm := math.Inf(-1), 0.0
			for g2 := uint64(0); g2 < 1<<blk; g2++ {
				if g2 > 0 {
					bit := bits.TrailingZeros64(g2)
					gray ^= 1 << bit
					sign := -1.0
					if gray>>bit&1 == 1 {
						sign = 1
					}
					lin += sign * a[bit]
					for k, w := range u[bit] {
						x[k] += sign * w
					}
				}
				val := lin + g(x)
				if val > mx {
					sm = sm*math.Exp(mx-val) + 1
					mx = val
				} else {
					sm += math.Exp(val - mx)
				}
			}
			maxs[blockIdx], sums[blockIdx] = mx, sm
		}
	})
	mx := math.Inf(-1)
	for _, v := range maxs {
		mx = max(mx, v)
	}
	var s float64
	for b := range maxs {
		s += sums[b] * math.Exp(maxs[b]-mx)
	}
	return mx + math.Log(s)
}

// EnumerateLogSumExp returns logsumexp over s ∈ {0,1}^n of aᵀs + g(d + Σ_j s_j u_j),
// visiting states in Gray-code order in parallel blocks (deterministic). u[j] is unit
// j's weight vector (len(d) each); g must be safe for concurrent use and must not keep x.
// It is the engine of ExactLogZ, exported for models whose other layer is not binary
// (a Gaussian–Bernoulli RBM integrates its Gaussian visible layer in closed form).
// It panics if n > MaxExactUnits or the shapes disagree.
func EnumerateLogSumExp(a, d []float64, u [][]float64, g func(x []float64) float64) float64 {
	n := len(a)
	if n > MaxExactUnits || len(u) != n {
		panic(fmt.Sprintf("mcmc: EnumerateLogSumExp: %d units, %d weight vectors (max %d)", n, len(u), MaxExactUnits))
	}
	for _, uj := range u {
		if len(uj) != len(d) {
			panic(fmt.Sprintf("mcmc: EnumerateLogSumExp: weight vector of len %d, want %d", len(uj), len(d)))
		}
	}
	return enumerateLogSumExp(n, len(d), a, d, u, g)
}
