package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func randMat(s *rng.Stream, r, c int, std float32) *tensor.Mat {
	m := tensor.New(r, c)
	s.FillNormal(m.Data, 0, std)
	return m
}

// projLoss returns L = Σ_ij c_ij·y_ij in float64.
func projLoss(y, c *tensor.Mat) float64 {
	var s float64
	for i := 0; i < y.Rows; i++ {
		for j, v := range y.Row(i) {
			s += float64(v) * float64(c.At(i, j))
		}
	}
	return s
}

// checkGrad compares analytic gradients of L = Σ c⊙layer(x) with central finite
// differences, for the input (unless skipDx) and every parameter.
func checkGrad(t *testing.T, name string, l Layer, x *tensor.Mat, skipDx bool) {
	t.Helper()
	s := rng.New(99)
	y := l.Forward(x)
	c := randMat(s, y.Rows, y.Cols, 1)
	dx := l.Backward(c)
	// copy analytic gradients before the probes overwrite buffers
	var dxa []float32
	if !skipDx {
		dxa = append([]float32(nil), dx.Data[:x.Rows*x.Cols]...)
	}
	grads := map[*Param][]float32{}
	for _, p := range l.Params() {
		grads[p] = append([]float32(nil), p.G...)
	}
	const h = 5e-3
	f := func() float64 { return projLoss(l.Forward(x), c) }
	cmp := func(what string, i int, an float32, v *float32) {
		old := *v
		*v = old + h
		fp := f()
		*v = old - h
		fm := f()
		*v = old
		num := (fp - fm) / (2 * h)
		if d := math.Abs(float64(an) - num); d > 2e-3+1e-2*math.Abs(num) {
			t.Errorf("%s: %s[%d]: analytic %.6g, finite difference %.6g", name, what, i, an, num)
		}
	}
	if !skipDx {
		for i := range dxa {
			cmp("dx", i, dxa[i], &x.Data[i])
		}
	}
	for k, p := range l.Params() {
		for i := range p.W {
			cmp(fmt.Sprintf("param %d %s", k, p.Name), i, grads[p][i], &p.W[i])
		}
	}
}

// awayFromKinks nudges values within 0.05 of zero away from it (ReLU kinks).
func awayFromKinks(m *tensor.Mat) {
	for i, v := range m.Data {
		if v >= 0 && v < 0.05 {
			m.Data[i] = v + 0.05
		} else if v < 0 && v > -0.05 {
			m.Data[i] = v - 0.05
		}
	}
}

func TestSequentialGrad(t *testing.T) {
	s := rng.New(3)
	net := NewSequential(NewLinear(6, 5, He, s), Tanh(), NewLinear(5, 3, Glorot, s), Softplus())
	x := randMat(s, 4, 6, 1)
	// Check dx and every parameter of the whole stack with one FD pass.
	checkGrad(t, "Sequential", net, x, false)
	if n := len(net.Params()); n != 4 {
		t.Errorf("Sequential has %d params, want 4", n)
	}
}

// Sequential satisfies Layer, so it can be checked (and nested) like one.
var _ Layer = (*Sequential)(nil)

// TestWorkersSameBits runs a conv forward/backward and an Adam step with 1 and 2
// workers on a batch big enough to be split, and requires identical bits.
func TestWorkersSameBits(t *testing.T) {
	run := func(workers int) []float32 {
		tensor.SetWorkers(workers)
		defer tensor.SetWorkers(0)
		s := rng.New(11)
		g := ConvGeom{InH: 12, InW: 12, InC: 2, OutC: 8, K: 3, Stride: 2, Pad: 1}
		net := NewSequential(NewConv2D(g, He, s), ReLU(), NewLinear(6*6*8, 300, Glorot, s), Tanh(),
			NewLinear(300, 200, Glorot, s), Softplus())
		x := randMat(s, 64, 12*12*2, 1)
		y := net.Forward(x)
		dy := randMat(s, y.Rows, y.Cols, 1)
		dx := net.Backward(dy)
		a := NewAdam(1e-3)
		a.Step(net.Params())
		out := append([]float32(nil), y.Data...)
		out = append(out, dx.Data...)
		for _, p := range net.Params() {
			out = append(out, p.G...)
			out = append(out, p.W...)
		}
		return out
	}
	a, b := run(1), run(2)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("value %d differs: %g with 1 worker, %g with 2", i, a[i], b[i])
		}
	}
}
