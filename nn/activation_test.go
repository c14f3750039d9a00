package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func TestActivationGrad(t *testing.T) {
	s := rng.New(2)
	for _, k := range []ActKind{ActReLU, ActLeakyReLU, ActTanh, ActSigmoid, ActSoftplus, ActIdentity} {
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
	for _, k := range []ActKind{ActReLU, ActLeakyReLU, ActTanh, ActSigmoid, ActSoftplus, ActIdentity} {
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
