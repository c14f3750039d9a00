package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// TestMinibatchStdForward: the appended channel is the mean over features of
// the batch standard deviation, computed here directly; the other channels are
// the input's.
func TestMinibatchStdForward(t *testing.T) {
	s := rng.New(41)
	l := NewMinibatchStd(2, 3, 2)
	x := randMat(s, 4, 12, 1.5)
	y := l.Forward(x)
	var want float64
	for j := 0; j < 12; j++ {
		var mu, v float64
		for b := 0; b < 4; b++ {
			mu += float64(x.At(b, j)) / 4
		}
		for b := 0; b < 4; b++ {
			v += (float64(x.At(b, j)) - mu) * (float64(x.At(b, j)) - mu) / 4
		}
		want += math.Sqrt(v+1e-8) / 12
	}
	for b := 0; b < 4; b++ {
		for p := 0; p < 6; p++ {
			for c := 0; c < 2; c++ {
				if y.At(b, p*3+c) != x.At(b, p*2+c) {
					t.Fatalf("y[%d] pixel %d channel %d = %g, want the input's %g", b, p, c, y.At(b, p*3+c), x.At(b, p*2+c))
				}
			}
			if got := float64(y.At(b, p*3+2)); math.Abs(got-want) > 1e-6*want {
				t.Fatalf("appended channel %g, want %g", got, want)
			}
		}
	}
	// A batch of identical rows has s = √ε.
	for b := 1; b < 4; b++ {
		copy(x.Row(b), x.Row(0))
	}
	if got := l.Forward(x).At(2, 5); math.Abs(float64(got)-1e-4) > 1e-9 {
		t.Errorf("identical rows: s = %g, want √1e-8", got)
	}
}

// TestMinibatchStdGrad checks ∂L/∂x against central finite differences.
func TestMinibatchStdGrad(t *testing.T) {
	s := rng.New(42)
	for _, sh := range []struct{ batch, h, w, c int }{{2, 1, 1, 1}, {3, 2, 2, 3}, {5, 3, 1, 2}} {
		l := NewMinibatchStd(sh.h, sh.w, sh.c)
		checkGrad(t, "MinibatchStd", l, randMat(s, sh.batch, sh.h*sh.w*sh.c, 1), false)
	}
}
