package nn

import "testing"

// BenchmarkAdamStep updates the 648k parameters of the 784-400-20 VAE.
func BenchmarkAdamStep(b *testing.B) {
	ps := []*Param{NewParam("W1", 784, 400), NewParam("W2", 400, 40), NewParam("W3", 20, 400), NewParam("W4", 400, 784)}
	for _, p := range ps {
		for i := range p.G {
			p.G[i] = float32(i%7) - 3
		}
	}
	a := NewAdam(1e-3)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a.Step(ps)
	}
}

func BenchmarkSGDStep(b *testing.B) {
	ps := []*Param{NewParam("W1", 784, 400), NewParam("W2", 400, 40), NewParam("W3", 20, 400), NewParam("W4", 400, 784)}
	o := &SGD{LR: 1e-3, Momentum: 0.9}
	for i := 0; i < b.N; i++ {
		o.Step(ps)
	}
}
