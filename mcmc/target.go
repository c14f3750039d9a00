package mcmc

import (
	"fmt"

	"github.com/latent-ml/latent/tensor"
)

// BatchTarget is a differentiable unnormalised log density log p*(x) over ℝ^Dim(),
// evaluated for many chains at once: row i of x is the state of chain i. It is the
// interface the gradient samplers (Langevin, MALA, HMC) run on. A neural network
// (a decoder, an energy network) implements it with one batched forward and backward
// pass; PerRow and EnergyTarget adapt a function of one vector.
type BatchTarget interface {
	// Dim returns the dimension d of the state.
	Dim() int
	// LogDensity sets, for each row x_i of x (x.Cols == Dim()),
	//
	//	out[i] = log p*(x_i),   grad's row i = ∇ log p*(x_i).
	//
	// grad has x's shape and len(out) == x.Rows. It may return −Inf (outside the
	// support) or NaN; samplers reject such proposals. It is called from one goroutine
	// at a time and may parallelise inside; its result for a row must depend on that row
	// alone for results not to depend on how chains are batched.
	LogDensity(grad, x *tensor.Mat, out []float64)
}

// LogDensityFunc is an unnormalised log density of one state: it returns log p*(x)
// and sets grad (len(grad) == len(x)) to ∇ log p*(x).
type LogDensityFunc func(grad, x []float64) float64

// PerRow returns a BatchTarget over ℝ^dim that evaluates f on each row, in float64,
// rows in parallel: f must be safe for concurrent use. It panics if dim < 1 or f is nil.
func PerRow(dim int, f LogDensityFunc) BatchTarget {
	if dim < 1 || f == nil {
		panic(fmt.Sprintf("mcmc: PerRow: need dim >= 1 and a function, got dim %d", dim))
	}
	return perRow{dim: dim, f: f}
}

// EnergyTarget returns the BatchTarget of p*(x) = exp(−E(x)) for an energy e that
// returns E(x) and sets grad to ∇E(x): log p* = −E, ∇ log p* = −∇E. It is PerRow
// around e, with the same concurrency rule.
func EnergyTarget(dim int, e func(grad, x []float64) float64) BatchTarget {
	if e == nil {
		panic("mcmc: EnergyTarget: nil energy")
	}
	return PerRow(dim, func(grad, x []float64) float64 {
		v := e(grad, x)
		for j := range grad {
			grad[j] = -grad[j]
		}
		return -v
	})
}

type perRow struct {
	dim int
	f   LogDensityFunc
}

func (t perRow) Dim() int { return t.dim }

func (t perRow) LogDensity(grad, x *tensor.Mat, out []float64) {
	checkTargetShapes("PerRow", t.dim, grad, x, out)
	d := t.dim
	tensor.ParallelFor(x.Rows, rowGrain(d), func(lo, hi int) {
		xs, gs := make([]float64, d), make([]float64, d)
		for i := lo; i < hi; i++ {
			for j, v := range x.Row(i) {
				xs[j], gs[j] = float64(v), 0
			}
			out[i] = t.f(gs, xs)
			g := grad.Row(i)
			for j := range g {
				g[j] = float32(gs[j])
			}
		}
	})
}

// checkTargetShapes panics unless x is (n, d), grad is (n, d) and len(out) == n.
func checkTargetShapes(op string, d int, grad, x *tensor.Mat, out []float64) {
	if x.Cols != d || grad.Rows != x.Rows || grad.Cols != d || len(out) != x.Rows {
		panic(fmt.Sprintf("mcmc: %s: x %d×%d, grad %d×%d, len(out) %d for dimension %d",
			op, x.Rows, x.Cols, grad.Rows, grad.Cols, len(out), d))
	}
}

// rowGrain returns the number of rows per piece of a parallel loop over rows of d
// values: pieces depend only on d, never on the number of workers.
func rowGrain(d int) int { return max(1, 4096/(d+1)) }
