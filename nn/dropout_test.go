package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// TestDropoutMask checks the exact identities of one training step: every value
// is either dropped (y = 0, dx = 0) or kept and scaled (y = x/(1−p),
// dx = dy/(1−p)), and the fraction dropped is p within four standard errors.
func TestDropoutMask(t *testing.T) {
	s := rng.New(41)
	for _, p := range []float64{0.1, 0.5, 0.85} {
		d := NewDropout(p, rng.New(5))
		x := randMat(s, 1, 40001, 1) // batch 1, odd width
		for i, v := range x.Data {
			if v == 0 {
				x.Data[i] = 1
			}
		}
		y := d.Forward(x)
		dy := randMat(s, 1, 40001, 1)
		dx := d.Backward(dy)
		scale := float32(1 / (1 - p))
		dropped := 0
		for i, v := range x.Data {
			switch y.Data[i] {
			case 0:
				dropped++
				if dx.Data[i] != 0 {
					t.Fatalf("p=%g: value %d dropped but dx = %g", p, i, dx.Data[i])
				}
			case v * scale:
				if dx.Data[i] != dy.Data[i]*scale {
					t.Fatalf("p=%g: value %d kept but dx = %g, want %g", p, i, dx.Data[i], dy.Data[i]*scale)
				}
			default:
				t.Fatalf("p=%g: y[%d] = %g from x = %g", p, i, y.Data[i], v)
			}
		}
		n := float64(len(x.Data))
		if se := math.Sqrt(p * (1 - p) / n); math.Abs(float64(dropped)/n-p) > 4*se {
			t.Errorf("p=%g: dropped a fraction %g (±%g)", p, float64(dropped)/n, se)
		}
	}
}

// TestDropoutGrad: with the mask held fixed (the stream re-seeded before every
// Forward), y is linear in x and its Jacobian is the mask; checked against
// float64 finite differences on an odd shape.
func TestDropoutGrad(t *testing.T) {
	s := rng.New(42)
	d := NewDropout(0.3, rng.New(9))
	x := randMat(s, 3, 7, 1)
	y := d.Forward(x)
	m := make([]float64, len(x.Data))
	for i, v := range y.Data {
		m[i] = float64(v) / float64(x.Data[i])
	}
	fixed := &reseed{d: d, seed: 9}
	ref := func(x []float64, rows, cols int, _ [][]float64) []float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = v * m[i]
		}
		return y
	}
	checkGrad64(t, "Dropout", fixed, x, ref, 1e-6, 1e-5)
}

// reseed re-seeds a Dropout's stream before every Forward so the mask repeats.
type reseed struct {
	d    *Dropout
	seed uint64
}

func (r *reseed) Forward(x *tensor.Mat) *tensor.Mat {
	r.d.Src.Seed(r.seed, 0)
	return r.d.Forward(x)
}
func (r *reseed) Backward(dy *tensor.Mat) *tensor.Mat { return r.d.Backward(dy) }
func (r *reseed) Params() []*Param                    { return nil }

func TestDropoutEvalAndEdges(t *testing.T) {
	s := rng.New(43)
	x := randMat(s, 2, 5, 1)
	dy := randMat(s, 2, 5, 1)
	d := NewDropout(0.5, nil) // no stream is needed outside training
	SetTraining(d, false)
	if d.Forward(x) != x || d.Backward(dy) != dy {
		t.Error("evaluation mode is not the identity")
	}
	d0 := NewDropout(0, nil)
	if d0.Forward(x) != x || d0.Backward(dy) != dy {
		t.Error("p = 0 is not the identity")
	}
	d1 := NewDropout(1, rng.New(1))
	for _, v := range d1.Forward(x).Data {
		if v != 0 {
			t.Fatal("p = 1 kept a value")
		}
	}
	for _, v := range d1.Backward(dy).Data {
		if v != 0 {
			t.Fatal("p = 1 passed a gradient")
		}
	}
	for _, p := range []float64{-0.1, 1.5, math.NaN()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewDropout(%g) did not panic", p)
				}
			}()
			NewDropout(p, nil)
		}()
	}
}

// TestDropoutSameBits: the mask depends on the stream only, not on the workers,
// and a warm step allocates nothing.
func TestDropoutSameBits(t *testing.T) {
	run := func() []float32 {
		s := rng.New(44)
		d := NewDropout(0.2, rng.New(3))
		x := randMat(s, 67, 1001, 1)
		y := d.Forward(x)
		dx := d.Backward(randMat(s, 67, 1001, 1))
		return append(append([]float32(nil), y.Data...), dx.Data...)
	}
	var a, b []float32
	withWorkers(1, func() { a = run() })
	withWorkers(2, func() { b = run() })
	sameBits(t, "1 vs 2 workers", a, b)

	d := NewDropout(0.2, rng.New(3))
	x := randMat(rng.New(1), 64, 500, 1)
	step := func() { d.Backward(d.Forward(x)) }
	noAllocs(t, "Dropout step", step)
}
