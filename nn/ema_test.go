package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
)

// TestEMAUpdate checks the closed form: after updates with decay d towards
// values w_1..w_n from θ̄_0, θ̄_n = dⁿθ̄_0 + Σ_t (1−d) d^{n−t} w_t.
func TestEMAUpdate(t *testing.T) {
	s := rng.New(71)
	l := NewLinear(3, 5, Glorot, s)
	e := NewEMA(l.Params())
	const d = 0.9
	want := make([][]float64, 2)
	for k, p := range l.Params() {
		want[k] = f64s(p.W)
	}
	for range 5 {
		for k, p := range l.Params() {
			s.FillNormal(p.W, 0, 1)
			for i, v := range p.W {
				want[k][i] = d*want[k][i] + (1-d)*float64(v)
			}
		}
		e.Update(d)
	}
	for k := range want {
		for i, w := range want[k] {
			if math.Abs(float64(e.Shadow[k][i])-w) > 1e-6 {
				t.Fatalf("param %d[%d]: average %g, want %g", k, i, e.Shadow[k][i], w)
			}
		}
	}
	// d = 0 copies the parameters
	e.Update(0)
	for k, p := range l.Params() {
		sameBits(t, "EMA with decay 0", e.Shadow[k], p.W)
	}
}

// TestEMASwapCopySave: Swap twice is the identity; swapped-in weights are what the
// network computes with (its views see them); CopyTo and Save/Load carry the
// average exactly.
func TestEMASwapCopySave(t *testing.T) {
	s := rng.New(72)
	net := NewSequential(NewLinear(4, 3, He, s), Tanh(), NewLinear(3, 2, He, s))
	e := NewEMA(net.Params())
	for range 3 {
		for _, p := range net.Params() {
			s.FillNormal(p.W, 0, 1)
		}
		e.Update(0.5)
	}
	x := randMat(s, 2, 4, 1)
	live := append([]float32(nil), net.Forward(x).Data...)

	twin := NewSequential(NewLinear(4, 3, He, s), Tanh(), NewLinear(3, 2, He, s))
	e.CopyTo(twin.Params())
	avg := append([]float32(nil), twin.Forward(x).Data...)

	e.Swap()
	sameBits(t, "network after Swap vs CopyTo twin", net.Forward(x).Data, avg)
	e.Swap()
	sameBits(t, "network after two Swaps", net.Forward(x).Data, live)

	f := &checkpoint.File{Kind: "test"}
	e.Save(f, "ema")
	e2 := NewEMA(twin.Params()) // a different starting average
	if err := e2.Load(f, "ema"); err != nil {
		t.Fatal(err)
	}
	for k := range e.Shadow {
		sameBits(t, "average after Save/Load", e2.Shadow[k], e.Shadow[k])
	}
	// the layout is SaveParams': LoadParams reads the average into a network
	if err := LoadParams(f, "ema", twin.Params()); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "LoadParams of the average", twin.Forward(x).Data, avg)
	if err := e2.Load(&checkpoint.File{Kind: "test"}, "ema"); err == nil {
		t.Error("Load from an empty file gave no error")
	}
}

// TestEMANoAllocsSameBits: Update allocates nothing and gives the same bits with
// 1 and 2 workers on a parameter big enough to be split.
func TestEMANoAllocsSameBits(t *testing.T) {
	run := func() []float32 {
		p := NewParam("w", 300, 400)
		rng.New(1).FillNormal(p.W, 0, 1)
		e := NewEMA([]*Param{p})
		rng.New(2).FillNormal(p.W, 0, 1)
		e.Update(0.999)
		noAllocs(t, "EMA.Update", func() { e.Update(0.999) })
		return e.Shadow[0]
	}
	var a, b []float32
	withWorkers(1, func() { a = run() })
	withWorkers(2, func() { b = run() })
	sameBits(t, "1 vs 2 workers", a, b)
}
