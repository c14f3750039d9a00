package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/internal/alloctest"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// refFunc is a float64 reference of a layer: the output rows (flattened) for the
// input rows x (flattened, cols values each) and the parameter values ps, in the
// order of the layer's Params.
type refFunc func(x []float64, rows, cols int, ps [][]float64) []float64

// checkGrad64 checks a float32 layer against a float64 reference of it:
//
//   - the forward pass agrees with ref within fwdTol·(1 + |ref|);
//   - with L = Σ c⊙y for a random c, the layer's ∂L/∂x and ∂L/∂θ agree with central
//     differences of ref (h = 1e-6, in float64, so truncation and rounding errors are
//     ~1e-9) within tol·(1 + |fd|): the remaining error is the float32 arithmetic of
//     the layer's backward pass.
func checkGrad64(t *testing.T, name string, l Layer, x *tensor.Mat, ref refFunc, fwdTol, tol float64) {
	t.Helper()
	s := rng.New(77)
	rows, cols := x.Rows, x.Cols
	x64 := make([]float64, rows*cols)
	for i := range rows {
		for k, v := range x.Row(i) {
			x64[i*cols+k] = float64(v)
		}
	}
	ps := l.Params()
	p64 := make([][]float64, len(ps))
	for k, p := range ps {
		p64[k] = make([]float64, len(p.W))
		for i, v := range p.W {
			p64[k][i] = float64(v)
		}
	}
	y := l.Forward(x)
	want := ref(x64, rows, cols, p64)
	if len(want) != y.Rows*y.Cols {
		t.Fatalf("%s: reference has %d outputs, layer %d×%d", name, len(want), y.Rows, y.Cols)
	}
	for i := range y.Rows {
		for k, v := range y.Row(i) {
			w := want[i*y.Cols+k]
			if math.Abs(float64(v)-w) > fwdTol*(1+math.Abs(w)) {
				t.Fatalf("%s: y[%d,%d] = %.7g, float64 reference %.7g", name, i, k, v, w)
			}
		}
	}
	c := randMat(s, y.Rows, y.Cols, 1)
	dx := l.Backward(c)
	loss := func() float64 {
		yr := ref(x64, rows, cols, p64)
		var sum float64
		for i := range y.Rows {
			for k := range y.Cols {
				sum += yr[i*y.Cols+k] * float64(c.At(i, k))
			}
		}
		return sum
	}
	const h = 1e-6
	fd := func(v *float64) float64 {
		old := *v
		*v = old + h
		fp := loss()
		*v = old - h
		fm := loss()
		*v = old
		return (fp - fm) / (2 * h)
	}
	cmp := func(what string, an float32, num float64) {
		if math.Abs(float64(an)-num) > tol*(1+math.Abs(num)) {
			t.Errorf("%s: %s: analytic %.7g, finite difference (float64) %.7g", name, what, an, num)
		}
	}
	if dx != nil {
		for i := range rows {
			for k := range cols {
				cmp(fmt.Sprintf("dx[%d,%d]", i, k), dx.At(i, k), fd(&x64[i*cols+k]))
			}
		}
	}
	for k, p := range ps {
		for i := range p.W {
			cmp(fmt.Sprintf("param %s[%d]", p.Name, i), p.G[i], fd(&p64[k][i]))
		}
	}
}

// sameBits fails unless a and b hold identical float32 bits.
func sameBits(t *testing.T, name string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d values vs %d", name, len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: value %d differs: %g vs %g", name, i, a[i], b[i])
		}
	}
}

// withWorkers runs f with tensor.SetWorkers(n) and restores the default.
func withWorkers(n int, f func()) {
	tensor.SetWorkers(n)
	defer tensor.SetWorkers(0)
	f()
}

// noAllocs fails if a warm call of f allocates (f is run once first). It is
// skipped under the race detector, which makes sync.Pool drop items at random.
func noAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if raceEnabled {
		return
	}
	f()
	// With several workers the pool's hand-offs can allocate now and then when
	// the machine is loaded (seen beside two busy processes): the least of
	// several trials counts (alloctest.Min); a real allocation shows in all.
	if n := alloctest.Min(5, 5, f); n != 0 {
		t.Errorf("%s: %v allocations per warm call (the least of 5 trials)", name, n)
	}
}
