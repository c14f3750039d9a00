package nn

import (
	"testing"

	"github.com/latent-ml/latent/rng"
)

func TestLinearGrad(t *testing.T) {
	s := rng.New(1)
	for _, in := range []Init{Glorot, He, LeCunUniform} {
		l := NewLinear(5, 4, in, s)
		l.B.W[1] = 0.3
		checkGrad(t, "Linear/"+in.String(), l, randMat(s, 3, 5, 1), false)
	}
}

func TestLinearNoInputGrad(t *testing.T) {
	s := rng.New(1)
	l := NewLinear(5, 4, Glorot, s)
	l.NoInputGrad = true
	x := randMat(s, 3, 5, 1)
	checkGrad(t, "Linear/NoInputGrad", l, x, true)
	l.Forward(x)
	if dx := l.Backward(randMat(s, 3, 4, 1)); dx != nil {
		t.Errorf("NoInputGrad: Backward returned %v, want nil", dx)
	}
}
