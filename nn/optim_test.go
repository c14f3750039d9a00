package nn

import (
	"math"
	"testing"
)

func TestAdamMatchesAlgorithm(t *testing.T) {
	p := NewParam("w", 3)
	copy(p.W, []float32{1, -2, 0.5})
	a := &Adam{LR: 0.1}
	w := []float64{1, -2, 0.5}
	m, v := make([]float64, 3), make([]float64, 3)
	grads := [][]float32{{0.3, -1, 2}, {0.1, 0.5, -3}, {-0.2, 0, 1}}
	for t1, g := range grads {
		copy(p.G, g)
		a.Step([]*Param{p})
		for i := range w {
			gi := float64(g[i])
			m[i] = 0.9*m[i] + 0.1*gi
			v[i] = 0.999*v[i] + 0.001*gi*gi
			mh := m[i] / (1 - math.Pow(0.9, float64(t1+1)))
			vh := v[i] / (1 - math.Pow(0.999, float64(t1+1)))
			w[i] -= 0.1 * mh / (math.Sqrt(vh) + 1e-8)
		}
	}
	for i := range w {
		if math.Abs(float64(p.W[i])-w[i]) > 1e-5 {
			t.Errorf("w[%d] = %g, want %g", i, p.W[i], w[i])
		}
	}
	if a.T != 3 {
		t.Errorf("T = %d, want 3", a.T)
	}
}

func TestSGDMomentum(t *testing.T) {
	p := NewParam("w", 1)
	p.W[0] = 1
	o := &SGD{LR: 0.5, Momentum: 0.9}
	p.G[0] = 1
	o.Step([]*Param{p}) // u = 1, w = 0.5
	o.Step([]*Param{p}) // u = 1.9, w = −0.45
	if math.Abs(float64(p.W[0])+0.45) > 1e-6 {
		t.Errorf("w = %g, want -0.45", p.W[0])
	}
}
