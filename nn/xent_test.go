package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// lossGradCheck compares an analytic gradient g of a scalar loss f(l) with central
// differences. f reads the float32 logits l and computes in float64; the step h is
// a power of two, so l ± h is exact in float32 and the only errors are the
// truncation error h²/6·|f‴| and the float32 rounding of g.
func lossGradCheck(t *testing.T, name string, l *tensor.Mat, g *tensor.Mat, f func() float64) {
	t.Helper()
	const h = 1.0 / 64 // l ± h is exact in float32 for |l| < 2¹⁸
	for i := range l.Data {
		old := l.Data[i]
		l.Data[i] = old + h
		fp := f()
		l.Data[i] = old - h
		fm := f()
		l.Data[i] = old
		num := (fp - fm) / (2 * h)
		// truncation error of central differences ≤ h²/6·|f'''| ≲ 1e-4·|f'''|
		if math.Abs(float64(g.Data[i])-num) > 2e-5+1e-3*math.Abs(num) {
			t.Errorf("%s: dl[%d] = %.7g, finite difference %.7g", name, i, g.Data[i], num)
		}
	}
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	s := rng.New(61)
	for _, sh := range []struct{ n, k int }{{1, 2}, {3, 5}, {7, 10}} {
		l := randMat(s, sh.n, sh.k, 2)
		labels := make([]int, sh.n)
		for i := range labels {
			labels[i] = s.IntN(sh.k)
		}
		dl := tensor.New(sh.n, sh.k)
		loss := SoftmaxCrossEntropy(dl, l, labels)
		// direct definition: −(1/N) Σ log(e^{l_y}/Σ e^{l_k})
		var want float64
		for i := range sh.n {
			var z float64
			for _, v := range l.Row(i) {
				z += math.Exp(float64(v))
			}
			want -= math.Log(math.Exp(float64(l.At(i, labels[i]))) / z)
		}
		want /= float64(sh.n)
		if math.Abs(loss-want) > 1e-12*(1+want) {
			t.Errorf("%+v: loss %.15g, want %.15g", sh, loss, want)
		}
		lossGradCheck(t, "SoftmaxCrossEntropy", l, dl, func() float64 { return SoftmaxCrossEntropy(nil, l, labels) })
		// each row of the gradient sums to zero
		for i := range sh.n {
			var r float64
			for _, v := range dl.Row(i) {
				r += float64(v)
			}
			if math.Abs(r) > 1e-7 {
				t.Errorf("%+v: row %d of the gradient sums to %g", sh, i, r)
			}
		}
	}
}

// TestSoftmaxCrossEntropyStable: logits of ±1000 neither overflow nor lose the
// answer; uniform logits give log K.
func TestSoftmaxCrossEntropyStable(t *testing.T) {
	l := tensor.FromSlice(2, 3, []float32{1000, 0, -1000, 1000, 1000, 1000})
	dl := tensor.New(2, 3)
	loss := SoftmaxCrossEntropy(dl, l, []int{1, 2})
	want := (1000 + math.Log(3)) / 2
	if math.Abs(loss-want) > 1e-9 {
		t.Errorf("loss %.12g, want %.12g", loss, want)
	}
	wantG := []float32{0.5, -0.5, 0, 1. / 6, 1. / 6, -1. / 3}
	for i, v := range dl.Data {
		if math.Abs(float64(v-wantG[i])) > 1e-7 {
			t.Errorf("dl[%d] = %g, want %g", i, v, wantG[i])
		}
	}
	// dl may alias the logits
	if got := SoftmaxCrossEntropy(l, l, []int{1, 2}); got != loss || !sameF32(l.Data, dl.Data) {
		t.Error("aliased dl gave a different result")
	}
}

func sameF32(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestSoftmaxCrossEntropyBadLabelPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("label 3 of 3 classes did not panic")
		}
	}()
	SoftmaxCrossEntropy(nil, tensor.New(1, 3), []int{3})
}

func TestBCEWithLogits(t *testing.T) {
	s := rng.New(62)
	for _, target := range []float64{1, 0, 0.9} {
		for _, sh := range []struct{ n, k int }{{1, 1}, {5, 1}, {3, 4}} {
			l := randMat(s, sh.n, sh.k, 3)
			dl := tensor.New(sh.n, sh.k)
			loss := BCEWithLogits(dl, l, target)
			var want float64
			for _, v := range l.Data {
				p := 1 / (1 + math.Exp(-float64(v)))
				want -= target*math.Log(p) + (1-target)*math.Log(1-p)
			}
			want /= float64(len(l.Data))
			if math.Abs(loss-want) > 1e-12*(1+want) {
				t.Errorf("t=%g %+v: loss %.15g, want %.15g", target, sh, loss, want)
			}
			lossGradCheck(t, "BCEWithLogits", l, dl, func() float64 { return BCEWithLogits(nil, l, target) })
		}
	}
}

// TestBCEWithLogitsStable: a discriminator that is sure and right costs ~0, sure
// and wrong costs |l|, with gradients ±1/n, at logits where σ saturates.
func TestBCEWithLogitsStable(t *testing.T) {
	l := tensor.FromSlice(2, 1, []float32{200, -200})
	dl := tensor.New(2, 1)
	if got := BCEWithLogits(dl, l, 1); math.Abs(got-100) > 1e-12 || dl.Data[0] != 0 || dl.Data[1] != -0.5 {
		t.Errorf("t=1: loss %g (want 100), dl %v (want [0 -0.5])", got, dl.Data)
	}
	if got := BCEWithLogits(dl, l, 0); math.Abs(got-100) > 1e-12 || dl.Data[0] != 0.5 || dl.Data[1] != 0 {
		t.Errorf("t=0: loss %g (want 100), dl %v (want [0.5 0])", got, dl.Data)
	}
}
