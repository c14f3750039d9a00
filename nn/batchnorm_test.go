package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// bnStats returns the float64 per-channel mean and biased variance of x
// (rows of pos positions × c channels, NHWC).
func bnStats(x []float64, rows, pos, c int) (mean, vari []float64) {
	mean, vari = make([]float64, c), make([]float64, c)
	m := float64(rows * pos)
	for k := range c {
		for i := range rows * pos {
			mean[k] += x[i*c+k]
		}
		mean[k] /= m
		for i := range rows * pos {
			d := x[i*c+k] - mean[k]
			vari[k] += d * d
		}
		vari[k] /= m
	}
	return mean, vari
}

// bnRef is BatchNorm in float64 by its definition: batch statistics when train,
// else the given running statistics.
func bnRef(train bool, pos, c int, rm, rv []float64, eps float64) refFunc {
	return func(x []float64, rows, cols int, ps [][]float64) []float64 {
		mean, vari := rm, rv
		if train {
			mean, vari = bnStats(x, rows, pos, c)
		}
		y := make([]float64, len(x))
		for i := range rows * pos {
			for k := range c {
				y[i*c+k] = ps[0][k]*(x[i*c+k]-mean[k])/math.Sqrt(vari[k]+eps) + ps[1][k]
			}
		}
		return y
	}
}

func f64s(a []float32) []float64 {
	r := make([]float64, len(a))
	for i, v := range a {
		r[i] = float64(v)
	}
	return r
}

// randomAffine gives γ and β values away from 1 and 0.
func randomAffine(s *rng.Stream, ps ...*Param) {
	for _, p := range ps {
		s.FillNormal(p.W, 0.3, 0.8)
	}
}

var bnShapes = []struct{ batch, h, w, c int }{
	{3, 1, 1, 5},  // dense, odd sizes
	{2, 1, 1, 1},  // dense, one column, smallest trainable batch
	{1, 3, 5, 2},  // conv, batch 1 (M = 15 per channel)
	{2, 3, 3, 3},  // conv, odd sizes
	{5, 2, 1, 7},  // conv, non-square
	{4, 1, 1, 64}, // dense, wider
}

func TestBatchNormTrainGrad(t *testing.T) {
	s := rng.New(21)
	for _, sh := range bnShapes {
		l := NewBatchNorm2D(sh.h, sh.w, sh.c)
		randomAffine(s, l.Gamma, l.Beta)
		x := randMat(s, sh.batch, sh.h*sh.w*sh.c, 1.5)
		for i := range x.Data {
			x.Data[i] += 0.7 // a mean away from zero
		}
		name := fmt.Sprintf("BatchNorm train %+v", sh)
		checkGrad64(t, name, l, x, bnRef(true, sh.h*sh.w, sh.c, nil, nil, l.Eps), 1e-5, 1e-4)
		// also the project's float32 finite-difference check
		checkGrad(t, name+" (float32 FD)", l, x, false)
	}
}

func TestBatchNormEvalGrad(t *testing.T) {
	s := rng.New(22)
	for _, sh := range append(bnShapes, struct{ batch, h, w, c int }{1, 1, 1, 3}) {
		l := NewBatchNorm2D(sh.h, sh.w, sh.c)
		randomAffine(s, l.Gamma, l.Beta)
		s.FillNormal(l.RunMean.W, 0, 1)
		for i := range l.RunVar.W {
			l.RunVar.W[i] = 0.2 + 2*s.Float32()
		}
		l.SetTraining(false)
		x := randMat(s, sh.batch, sh.h*sh.w*sh.c, 1)
		name := fmt.Sprintf("BatchNorm eval %+v", sh)
		checkGrad64(t, name, l, x, bnRef(false, sh.h*sh.w, sh.c, f64s(l.RunMean.W), f64s(l.RunVar.W), l.Eps), 1e-5, 1e-4)
	}
}

// TestBatchNormRunningStats follows PyTorch's update: after n training batches,
// μ̂ = Σ_t m(1−m)^{n−t} μ_t and σ̂² likewise with the unbiased variances, from the
// initial 0 and 1; evaluation then uses them.
func TestBatchNormRunningStats(t *testing.T) {
	s := rng.New(23)
	const batch, h, w, c = 3, 2, 3, 4
	l := NewBatchNorm2D(h, w, c)
	rm, rv := make([]float64, c), make([]float64, c)
	for k := range rv {
		rv[k] = 1
	}
	m := float64(batch * h * w)
	for range 4 {
		x := randMat(s, batch, h*w*c, 2)
		for i := range x.Data {
			x.Data[i] += 3
		}
		l.Forward(x)
		mean, vari := bnStats(f64s(x.Data), batch, h*w, c)
		for k := range c {
			rm[k] = 0.9*rm[k] + 0.1*mean[k]
			rv[k] = 0.9*rv[k] + 0.1*vari[k]*m/(m-1)
		}
	}
	for k := range c {
		if math.Abs(float64(l.RunMean.W[k])-rm[k]) > 1e-5*(1+math.Abs(rm[k])) ||
			math.Abs(float64(l.RunVar.W[k])-rv[k]) > 1e-5*(1+rv[k]) {
			t.Errorf("channel %d: running (%g, %g), want (%g, %g)", k, l.RunMean.W[k], l.RunVar.W[k], rm[k], rv[k])
		}
	}
	// Evaluation mode does not touch them and normalises with them.
	l.SetTraining(false)
	before := append(append([]float32(nil), l.RunMean.W...), l.RunVar.W...)
	x := randMat(s, 2, h*w*c, 1)
	y := l.Forward(x)
	sameBits(t, "running statistics after an evaluation pass", before, append(append([]float32(nil), l.RunMean.W...), l.RunVar.W...))
	ref := bnRef(false, h*w, c, rm, rv, 1e-5)(f64s(x.Data), 2, h*w*c, [][]float64{f64s(l.Gamma.W), f64s(l.Beta.W)})
	for i, v := range y.Data {
		if math.Abs(float64(v)-ref[i]) > 1e-5*(1+math.Abs(ref[i])) {
			t.Fatalf("eval y[%d] = %g, want %g", i, v, ref[i])
		}
	}
}

// TestBatchNormNormalises checks the defining identity: with γ = 1, β = 0, every
// channel of the training output has mean 0 and biased variance σ²/(σ²+ε).
func TestBatchNormNormalises(t *testing.T) {
	s := rng.New(24)
	l := NewBatchNorm2D(4, 4, 3)
	x := randMat(s, 6, 48, 3)
	y := l.Forward(x)
	_, vx := bnStats(f64s(x.Data), 6, 16, 3)
	mean, vari := bnStats(f64s(y.Data), 6, 16, 3)
	for k := range 3 {
		if math.Abs(mean[k]) > 1e-6 || math.Abs(vari[k]-vx[k]/(vx[k]+1e-5)) > 1e-5 {
			t.Errorf("channel %d: mean %g, variance %g", k, mean[k], vari[k])
		}
	}
}

func TestBatchNormTrainBatchOnePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("dense BatchNorm trained on a batch of 1 did not panic")
		}
	}()
	NewBatchNorm(3).Forward(tensor.New(1, 3))
}

// TestBatchNormSaveLoad saves a trained stack (parameters and running statistics)
// and loads it into a fresh one: evaluation outputs must be identical.
func TestBatchNormSaveLoad(t *testing.T) {
	mk := func(seed uint64) *Sequential {
		s := rng.New(seed)
		return NewSequential(NewLinear(4, 6, He, s), NewBatchNorm(6), ReLU(),
			&Reshape{In: 6}, NewBatchNorm2D(1, 2, 3))
	}
	s := rng.New(25)
	a := mk(1)
	for range 3 {
		a.Forward(randMat(s, 5, 4, 1))
	}
	randomAffine(s, a.Params()...)
	if n := len(Buffers(a)); n != 4 {
		t.Fatalf("Buffers: %d, want 4", n)
	}
	f := &checkpoint.File{Kind: "test"}
	SaveLayer(f, "net", a)
	b := mk(2)
	if err := LoadLayer(f, "net", b); err != nil {
		t.Fatal(err)
	}
	SetTraining(a, false)
	SetTraining(b, false)
	x := randMat(s, 3, 4, 1)
	sameBits(t, "eval output after load", a.Forward(x).Data, b.Forward(x).Data)
	if err := LoadLayer(&checkpoint.File{Kind: "test"}, "net", b); err == nil {
		t.Error("LoadLayer from an empty file gave no error")
	}
}

// TestNormSameBits runs BatchNorm (dense and conv, training and evaluation) and
// GroupNorm on batches big enough to be split, with 1 and 2 workers.
func TestNormSameBits(t *testing.T) {
	run := func() []float32 {
		s := rng.New(26)
		var out []float32
		for _, l := range []Layer{NewBatchNorm(700), NewBatchNorm2D(8, 8, 16), NewGroupNorm(4, 8, 8, 16)} {
			randomAffine(s, l.Params()...)
			cols := 700
			if _, ok := l.(*BatchNorm); !ok || l.(*BatchNorm).Pos > 1 {
				cols = 8 * 8 * 16
			}
			for _, train := range []bool{true, false} {
				SetTraining(l, train)
				x := randMat(s, 67, cols, 1)
				y := l.Forward(x)
				dx := l.Backward(randMat(s, 67, cols, 1))
				out = append(out, y.Data...)
				out = append(out, dx.Data...)
				for _, p := range append(l.Params(), Buffers(l)...) {
					out = append(out, p.W...)
					out = append(out, p.G...)
				}
			}
		}
		return out
	}
	var a, b []float32
	withWorkers(1, func() { a = run() })
	withWorkers(2, func() { b = run() })
	sameBits(t, "1 vs 2 workers", a, b)
}

// TestNormNoAllocs: a warm forward-backward step allocates nothing.
func TestNormNoAllocs(t *testing.T) {
	s := rng.New(27)
	for _, tc := range []struct {
		l    Layer
		rows int
		cols int
	}{
		{NewBatchNorm(300), 64, 300},
		{NewBatchNorm2D(8, 8, 16), 64, 1024},
		{NewGroupNorm(4, 8, 8, 16), 64, 1024},
	} {
		x := randMat(s, tc.rows, tc.cols, 1)
		dy := randMat(s, tc.rows, tc.cols, 1)
		step := func() {
			tc.l.Forward(x)
			tc.l.Backward(dy)
		}
		noAllocs(t, fmt.Sprintf("%T step", tc.l), step)
	}
}
