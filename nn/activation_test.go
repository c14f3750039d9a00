package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func TestActivationGrad(t *testing.T) {
	s := rng.New(2)
	for _, k := range []ActKind{ActReLU, ActLeakyReLU, ActTanh, ActSigmoid, ActSoftplus, ActIdentity, ActSiLU} {
		x := randMat(s, 3, 7, 2)
		awayFromKinks(x)
		checkGrad(t, k.String(), NewActivation(k), x, false)
	}
}

func TestActivationValues(t *testing.T) {
	x := tensor.FromSlice(1, 5, []float32{-3, -0.5, 0, 0.5, 3})
	ref := map[ActKind]func(float64) float64{
		ActReLU:      func(v float64) float64 { return math.Max(v, 0) },
		ActLeakyReLU: func(v float64) float64 { return math.Max(v, 0.01*v) },
		ActTanh:      math.Tanh,
		ActSigmoid:   func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
		ActSoftplus:  func(v float64) float64 { return math.Log1p(math.Exp(v)) },
		ActIdentity:  func(v float64) float64 { return v },
		ActSiLU:      func(v float64) float64 { return v / (1 + math.Exp(-v)) },
	}
	for k, f := range ref {
		y := NewActivation(k).Forward(x)
		for j, v := range x.Data {
			if d := math.Abs(float64(y.Data[j]) - f(float64(v))); d > 1e-6 {
				t.Errorf("%v(%g) = %g, want %g", k, v, y.Data[j], f(float64(v)))
			}
		}
	}
}

func TestParseNames(t *testing.T) {
	for _, k := range []ActKind{ActReLU, ActLeakyReLU, ActTanh, ActSigmoid, ActSoftplus, ActIdentity, ActSiLU} {
		if got, err := ParseAct(k.String()); err != nil || got != k {
			t.Errorf("ParseAct(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseAct("gelu"); err == nil {
		t.Error("ParseAct(gelu) gave no error")
	}
	for _, in := range []Init{Glorot, He, LeCunUniform} {
		if got, err := ParseInit(in.String()); err != nil || got != in {
			t.Errorf("ParseInit(%q) = %v, %v", in.String(), got, err)
		}
	}
}

// TestSiLUGrad checks SiLU against its float64 definition, far into both tails
// (σ(x) underflows for x < −88 in float32) and near 0.
func TestSiLUGrad(t *testing.T) {
	x := tensor.FromSlice(1, 9, []float32{-120, -20, -3.5, -0.7, 0, 0.3, 2.2, 15, 90})
	ref := func(x []float64, rows, cols int, _ [][]float64) []float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = v / (1 + math.Exp(-v))
		}
		return y
	}
	checkGrad64(t, "SiLU", SiLU(), x, ref, 1e-6, 1e-5)
}
