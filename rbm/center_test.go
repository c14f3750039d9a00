package rbm

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/tensor"
)

// One centred step against the plain step from the same model and batch (the
// same negative samples: both trainers draw from the same seed before the
// update): with no momentum or decay, the plain step is lr times the gradient
// (ΔW, Δb, Δc), and the centred one must be
//
//	ΔW' = ΔW − μ Δcᵀ − Δb λᵀ,   Δb' = Δb − ΔW'λ,   Δc' = Δc − ΔW'ᵀμ,
//
// μ and λ being the batch's mean visible and mean p(h | v) under the model: the
// step of gradient ascent in the centred parameters, mapped back to the model's
// own (b = b_c − Wλ, c = c_c − Wᵀμ). A second step on another batch uses those
// offsets and then moves them to (1−ν)·old + ν·(that batch's means, λ's under
// the model after the first step). Dense and sparse products alike; a sign or a
// transposition wrong in centerStep fails it. With a mask (a DBM's blocks of
// non-neighbouring layers), the masked entries do not move and the biases move
// by the masked ΔW'.
func TestCenteredStep(t *testing.T) {
	data := repeat(barsAndStripes(4), 4) // 16 visible, 120 rows
	b1, b2 := data.Slice(0, 30).Clone(), data.Slice(40, 70).Clone()
	masked := func(i, j int) bool { return i < 5 && j >= 4 }
	for _, c := range []struct{ dense, mask bool }{{true, false}, {false, false}, {true, true}} {
		dense := c.dense
		const nu = 0.25
		cfg := Config{Method: PCD, K: 2, BatchSize: 30, LearningRate: 0.3, Seed: 4, Dense: dense}
		m0, _ := trainNew(t, Bernoulli, 6, data, cfg)
		mp, tp := trainNew(t, Bernoulli, 6, data, cfg)
		cfg.Center = nu
		mc, tc := trainNew(t, Bernoulli, 6, data, cfg)
		if c.mask {
			tc.maskV = func(w *tensor.Mat) {
				for i := 0; i < w.Rows; i++ {
					for j := 0; j < w.Cols; j++ {
						if masked(i, j) {
							w.Set(i, j, 0)
						}
					}
				}
			}
		}
		tp.Update(b1)
		tc.Update(b1)
		nv, nh := m0.NumVisible(), m0.NumHidden()
		mu, lam := colMeans(b1), hiddenMeans(m0, b1)
		dW := func(m *RBM, i, j int) float64 { return float64(m.W.At(i, j)) - float64(m0.W.At(i, j)) }
		db := func(m *RBM, i int) float64 { return float64(m.B[i]) - float64(m0.B[i]) }
		dc := func(m *RBM, j int) float64 { return float64(m.C[j]) - float64(m0.C[j]) }
		want := tensor.New(nv, nh)
		for i := 0; i < nv; i++ {
			for j := 0; j < nh; j++ {
				want.Set(i, j, float32(dW(mp, i, j)-mu[i]*dc(mp, j)-db(mp, i)*lam[j]))
				if c.mask && masked(i, j) {
					want.Set(i, j, 0)
				}
				if d := dW(mc, i, j) - float64(want.At(i, j)); math.Abs(d) > 1e-5 {
					t.Fatalf("dense %v: ΔW[%d,%d] %.7f, want %.7f", dense, i, j, dW(mc, i, j), want.At(i, j))
				}
			}
		}
		// Δb' = Δb − ΔW'λ over the rows, Δc' = Δc − ΔW'ᵀμ over the columns.
		for _, side := range []struct {
			name      string
			n, m      int
			got, step func(k int) float64
			w         func(k, l int) float64
			off       []float64
		}{
			{"Δb", nv, nh, func(i int) float64 { return db(mc, i) }, func(i int) float64 { return db(mp, i) }, func(i, j int) float64 { return float64(want.At(i, j)) }, lam},
			{"Δc", nh, nv, func(j int) float64 { return dc(mc, j) }, func(j int) float64 { return dc(mp, j) }, func(j, i int) float64 { return float64(want.At(i, j)) }, mu},
		} {
			for k := 0; k < side.n; k++ {
				w := side.step(k)
				for l := 0; l < side.m; l++ {
					w -= side.w(k, l) * side.off[l]
				}
				if math.Abs(side.got(k)-w) > 1e-5 {
					t.Fatalf("dense %v: %s[%d] %.7f, want %.7f", dense, side.name, k, side.got(k), w)
				}
			}
		}
		if c.mask {
			continue
		}
		lam2 := hiddenMeans(mc, b2)
		tc.Update(b2)
		mu2 := colMeans(b2)
		for i := range mu {
			if w := (1-nu)*mu[i] + nu*mu2[i]; math.Abs(tc.offV[i]-w) > 1e-12 {
				t.Fatalf("dense %v: μ[%d] %.9f after the second step, want %.9f", dense, i, tc.offV[i], w)
			}
		}
		for j := range lam {
			if w := (1-nu)*lam[j] + nu*lam2[j]; math.Abs(tc.offH[j]-w) > 1e-6 {
				t.Fatalf("dense %v: λ[%d] %.7f after the second step, want %.7f", dense, j, tc.offH[j], w)
			}
		}
	}
}

func colMeans(x *tensor.Mat) []float64 {
	m := make([]float64, x.Cols)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			m[j] += float64(v) / float64(x.Rows)
		}
	}
	return m
}

// hiddenMeans returns the mean of p(h | v) over the rows v of x, in float64.
func hiddenMeans(m *RBM, x *tensor.Mat) []float64 {
	nh := m.NumHidden()
	out := make([]float64, nh)
	for r := 0; r < x.Rows; r++ {
		for j := 0; j < nh; j++ {
			a := float64(m.C[j])
			for i, v := range x.Row(r) {
				a += float64(v) * float64(m.W.At(i, j))
			}
			out[j] += 1 / (1 + math.Exp(-a)) / float64(x.Rows)
		}
	}
	return out
}
