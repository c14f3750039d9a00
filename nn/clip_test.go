package nn

import (
	"math"
	"testing"
)

func TestClipGradNorm(t *testing.T) {
	mk := func() []*Param {
		a, b := NewParam("a", 2), NewParam("b", 1, 1)
		copy(a.G, []float32{3, 0})
		b.G[0] = -4 // ‖g‖ = 5
		return []*Param{a, b}
	}
	ps := mk()
	if n := GradNorm(ps); n != 5 {
		t.Fatalf("GradNorm = %g, want 5", n)
	}
	// below the limit: untouched
	if n := ClipGradNorm(ps, 5); n != 5 || ps[0].G[0] != 3 || ps[1].G[0] != -4 {
		t.Errorf("maxNorm 5: norm %g, gradients %v %v", n, ps[0].G, ps[1].G)
	}
	// above: scaled to norm 1 (up to PyTorch's 1e-6)
	if n := ClipGradNorm(ps, 1); n != 5 {
		t.Errorf("returned %g, want the norm before clipping, 5", n)
	}
	if n := GradNorm(ps); math.Abs(n-1) > 1e-6 {
		t.Errorf("norm after clipping %g, want 1", n)
	}
	if math.Abs(float64(ps[0].G[0])-0.6) > 1e-6 || math.Abs(float64(ps[1].G[0])+0.8) > 1e-6 {
		t.Errorf("direction changed: %v %v", ps[0].G, ps[1].G)
	}
	// NaN: reported, gradients untouched
	ps = mk()
	ps[0].G[1] = float32(math.NaN())
	if n := ClipGradNorm(ps, 1); !math.IsNaN(n) || ps[1].G[0] != -4 {
		t.Errorf("NaN gradient: norm %g, gradient %v", n, ps[1].G)
	}
}
