package tensor

import (
	"math"
	"testing"
)

// TestAdamUpdateMatchesScalar checks every kernel path against adamGeneric bit for
// bit, on lengths that leave vector tails, and the scalar reference itself against
// the update computed in float64 from its definition (within float32 rounding).
func TestAdamUpdateMatchesScalar(t *testing.T) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	step := float32(1e-3 / (1 - math.Pow(b1, 3)))
	isq := float32(1 / math.Sqrt(1-math.Pow(b2, 3)))
	for _, n := range []int{1, 7, 8, 15, 16, 17, 33, 100, 1001} {
		mk := func(seed uint32, scale float32) []float32 {
			x := make([]float32, n)
			s := seed
			for i := range x {
				s = s*1664525 + 1013904223
				x[i] = scale * (float32(s>>8)/(1<<24) - 0.5)
			}
			return x
		}
		g, m0, w0 := mk(1, 4), mk(2, 1), mk(3, 2)
		v0 := mk(4, 1)
		for i := range v0 {
			v0[i] *= v0[i] // second moments are ≥ 0
		}
		g[0] = 0 // exercises m = v = 0 where eps alone is the denominator
		m0[0], v0[0] = 0, 0
		wm, wv, ww := append([]float32(nil), m0...), append([]float32(nil), v0...), append([]float32(nil), w0...)
		fb1, fb2 := float32(b1), float32(b2)
		adamGeneric(wm, wv, ww, g, fb1, 1-fb1, fb2, 1-fb2, step, isq, eps)
		for i := range g {
			m := 0.9*float64(m0[i]) + 0.1*float64(g[i])
			v := 0.999*float64(v0[i]) + 0.001*float64(g[i])*float64(g[i])
			w := float64(w0[i]) - float64(step)*m/(math.Sqrt(v)*float64(isq)+eps)
			if math.Abs(m-float64(wm[i])) > 1e-6*(1+math.Abs(m)) || math.Abs(v-float64(wv[i])) > 1e-6*(1+v) ||
				math.Abs(w-float64(ww[i])) > 1e-6*(1+math.Abs(w)) {
				t.Fatalf("n=%d i=%d: scalar (m, v, w) = (%g, %g, %g), float64 definition (%g, %g, %g)",
					n, i, wm[i], wv[i], ww[i], m, v, w)
			}
		}
		withPath(t, func(t *testing.T) {
			m, v, w := append([]float32(nil), m0...), append([]float32(nil), v0...), append([]float32(nil), w0...)
			AdamUpdate(m, v, w, g, b1, b2, eps, step, isq)
			for i := range g {
				if math.Float32bits(m[i]) != math.Float32bits(wm[i]) || math.Float32bits(v[i]) != math.Float32bits(wv[i]) ||
					math.Float32bits(w[i]) != math.Float32bits(ww[i]) {
					t.Fatalf("n=%d i=%d: (m, v, w) = (%g, %g, %g), scalar (%g, %g, %g)", n, i, m[i], v[i], w[i], wm[i], wv[i], ww[i])
				}
			}
		})
	}
}

func TestAdamUpdateLengthsPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("AdamUpdate with a short v did not panic")
		}
	}()
	AdamUpdate(make([]float32, 4), make([]float32, 3), make([]float32, 4), make([]float32, 4), 0.9, 0.999, 1e-8, 1e-3, 1)
}

// BenchmarkAdamUpdate updates 648k values (the 784-400-20 VAE's parameters) per op.
func BenchmarkAdamUpdate(b *testing.B) {
	const n = 648000
	m, v, w, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) - 3
	}
	saved := elemImpl
	defer func() { elemImpl = saved }()
	for _, p := range elemPaths() {
		elemImpl = p
		b.Run(p.name, func(b *testing.B) {
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				AdamUpdate(m, v, w, g, 0.9, 0.999, 1e-8, 1e-3, 1)
			}
			if cpu := cpuSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(cpu/float64(b.N)*1e3, "cpu-ms/op")
			}
		})
	}
}
