package ising

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

func TestEnergyMagnetization(t *testing.T) {
	for _, L := range []int{2, 3, 4, 7} {
		l := New(L)
		N := L * L
		if e, m := l.Energy(), l.Magnetization(); e != -2*N || m != N {
			t.Errorf("L=%d all up: E=%d M=%d, want %d %d", L, e, m, -2*N, N)
		}
		if L%2 == 0 { // checkerboard: every bond unsatisfied
			for r := 0; r < L; r++ {
				for c := 0; c < L; c++ {
					l.Spin[r*L+c] = int8(1 - 2*((r+c)%2))
				}
			}
			if e, m := l.Energy(), l.Magnetization(); e != 2*N || m != 0 {
				t.Errorf("L=%d checkerboard: E=%d M=%d, want %d 0", L, e, m, 2*N)
			}
		}
	}
	// One flipped spin in an up lattice breaks its 4 bonds: E = −2N + 8.
	l := New(5)
	l.Spin[7] = -1
	if e, m := l.Energy(), l.Magnetization(); e != -50+8 || m != 23 {
		t.Errorf("one flip: E=%d M=%d, want -42 23", e, m)
	}
}

// bruteExact sums over all states directly with Lattice.Energy, independently
// of the Gray-code enumeration.
func bruteExact(L int, T float64) Observables {
	l := New(L)
	N := L * L
	var z, se, se2, sm, sm2 float64
	for st := 0; st < 1<<N; st++ {
		for i := range l.Spin {
			l.Spin[i] = int8(2*(st>>i&1) - 1)
		}
		E := float64(l.Energy())
		am := math.Abs(float64(l.Magnetization())) / float64(N)
		w := math.Exp(-(E + 2*float64(N)) / T)
		z += w
		se += w * E
		se2 += w * E * E
		sm += w * am
		sm2 += w * am * am
	}
	me, mm := se/z, sm/z
	return Observables{T, me / float64(N), mm, (se2/z - me*me) / (float64(N) * T * T), float64(N) * (sm2/z - mm*mm) / T}
}

func TestExactMatchesBruteForce(t *testing.T) {
	for _, L := range []int{2, 3, 4} {
		for _, T := range []float64{0.5, 1.5, 2.27, 4, 20} {
			got, err := Exact(L, T)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteExact(L, T)
			for _, p := range [][2]float64{{got.Energy, want.Energy}, {got.AbsMag, want.AbsMag},
				{got.SpecificHeat, want.SpecificHeat}, {got.Susceptibility, want.Susceptibility}} {
				if math.Abs(p[0]-p[1]) > 1e-9*(1+math.Abs(p[1])) {
					t.Errorf("L=%d T=%v: exact %+v, brute force %+v", L, T, got, want)
					break
				}
			}
		}
	}
	d, _ := Enumerate(4)
	var total int64
	for _, r := range d.G {
		for _, c := range r {
			total += c
		}
	}
	if total != 1<<16 || d.G[0][0] != 1 || d.G[0][16] != 1 {
		t.Errorf("L=4: %d states, ground states %d %d; want 65536, 1, 1", total, d.G[0][0], d.G[0][16])
	}
}

// The fluctuation formula for C must equal the temperature derivative of the
// exact energy per spin, and the limits must be right.
func TestExactThermodynamics(t *testing.T) {
	for _, T := range []float64{1, 2, 2.5, 4} {
		h := 1e-4
		ep, _ := Exact(4, T+h)
		em, _ := Exact(4, T-h)
		o, _ := Exact(4, T)
		dudT := (ep.Energy - em.Energy) / (2 * h)
		if math.Abs(dudT-o.SpecificHeat) > 1e-6 {
			t.Errorf("T=%v: C=%v but du/dT=%v", T, o.SpecificHeat, dudT)
		}
		// ln Z derivative: ⟨E⟩ = T² d lnZ/dT.
		zp, _ := LogZ(4, T+h)
		zm, _ := LogZ(4, T-h)
		if e := T * T * (zp - zm) / (2 * h) / 16; math.Abs(e-o.Energy) > 1e-6 {
			t.Errorf("T=%v: T² dlnZ/dT/N = %v, ⟨E⟩/N = %v", T, e, o.Energy)
		}
	}
	cold, _ := Exact(4, 0.1)
	hot, _ := Exact(4, 1e4)
	if math.Abs(cold.Energy+2) > 1e-9 || math.Abs(cold.AbsMag-1) > 1e-9 || math.Abs(hot.Energy) > 1e-3 {
		t.Errorf("limits: cold %+v hot %+v", cold, hot)
	}
	if lz, _ := LogZ(4, 1e9); math.Abs(lz-16*math.Ln2) > 1e-6 {
		t.Errorf("ln Z at T=∞: %v, want 16 ln 2", lz)
	}
}

func TestEllipticK(t *testing.T) {
	// K against a direct Simpson quadrature of its integral.
	for _, k := range []float64{0, 0.3, 0.7, 0.95, 0.999} {
		n := 20000
		h := math.Pi / 2 / float64(n)
		f := func(th float64) float64 { s := math.Sin(th); return 1 / math.Sqrt(1-k*k*s*s) }
		sum := f(0) + f(math.Pi/2)
		for i := 1; i < n; i++ {
			w := 2.0
			if i%2 == 1 {
				w = 4
			}
			sum += w * f(float64(i)*h)
		}
		q := sum * h / 3
		if got := EllipticK(k); math.Abs(got-q) > 1e-9 {
			t.Errorf("K(%v) = %v, quadrature %v", k, got, q)
		}
	}
	if EllipticK(0) != math.Pi/2 {
		t.Errorf("K(0) = %v", EllipticK(0))
	}
}

func TestOnsager(t *testing.T) {
	if math.Abs(Onsager(Tc)+math.Sqrt2) > 1e-12 {
		t.Errorf("u(Tc) = %v, want -√2", Onsager(Tc))
	}
	// Continuity at Tc and the limits: −2 as T→0, −2 tanh(1/T)-like decay at high T.
	if d := math.Abs(Onsager(Tc*(1+1e-9)) + math.Sqrt2); d > 1e-6 {
		t.Errorf("u just above Tc differs from -√2 by %v", d)
	}
	if math.Abs(Onsager(0.3)+2) > 1e-9 {
		t.Errorf("u(0.3) = %v, want -2", Onsager(0.3))
	}
	// High-temperature series: ln Z/N = ln 2 + 2 ln cosh β + t⁴ + 2t⁶ + (9/2)t⁸ + ...
	// with t = tanh β, so u = −2t − (4t³ + 12t⁵)(1 − t²) + O(t⁷).
	for _, T := range []float64{10, 20} {
		x := math.Tanh(1 / T)
		want := -2*x - (4*x*x*x+12*math.Pow(x, 5))*(1-x*x)
		if math.Abs(Onsager(T)-want) > 40*math.Pow(x, 7) {
			t.Errorf("u(%v) = %v, high-temperature series %v", T, Onsager(T), want)
		}
	}
	// du/dT is finite at Tc only logarithmically: C(T) = du/dT must grow as T → Tc.
	c := func(T float64) float64 { return (Onsager(T+1e-5) - Onsager(T-1e-5)) / 2e-5 }
	if !(c(Tc+0.001) > c(Tc+0.01) && c(Tc+0.01) > c(Tc+0.1)) {
		t.Errorf("specific heat does not grow towards Tc")
	}
	// (1 − sinh⁻⁴(4/3))^(1/8) = 0.986500 (computed by hand), and 0 above Tc.
	if m := OnsagerMag(1.5); math.Abs(m-0.98650) > 2e-5 || OnsagerMag(2.3) != 0 {
		t.Errorf("m(1.5) = %v, want 0.98650; m(2.3) = %v", m, OnsagerMag(2.3))
	}
}

// batchStats returns the mean of x and the standard error from 20 batch means
// (which accounts for autocorrelation shorter than a batch).
func batchStats(x []float64) (mean, se float64) {
	const nb = 20
	bs := len(x) / nb
	var means [nb]float64
	for b := 0; b < nb; b++ {
		var s float64
		for _, v := range x[b*bs : (b+1)*bs] {
			s += v
		}
		means[b] = s / float64(bs)
		mean += means[b] / nb
	}
	var v float64
	for _, m := range means {
		v += (m - mean) * (m - mean)
	}
	return mean, math.Sqrt(v / (nb - 1) / nb)
}

func perSpin(s *Samples) (e, am []float64) {
	e = make([]float64, s.Len())
	am = make([]float64, s.Len())
	for i := range e {
		e[i] = float64(s.Energy[i]) / float64(s.N)
		am[i] = math.Abs(float64(s.Mag[i])) / float64(s.N)
	}
	return e, am
}

// 4×4 lattice: each method's averages of E/N and |m| agree with exact
// enumeration of all 2^16 states within 4 standard errors (batch means).
func TestSampleVsExact4x4(t *testing.T) {
	n := 40000
	if testing.Short() {
		n = 10000
	}
	for mi, method := range []Method{Mixed, Metropolis, Wolff} {
		for ti, T := range []float64{1.5, 2.27, 3.5} {
			s, err := Sample(4, T, n, 200, 1, method, rng.NewStream(11, uint64(10*mi+ti)))
			if err != nil {
				t.Fatal(err)
			}
			ex, _ := Exact(4, T)
			e, am := perSpin(s)
			me, see := batchStats(e)
			mm, sem := batchStats(am)
			if math.Abs(me-ex.Energy) > 4*see+1e-4 || math.Abs(mm-ex.AbsMag) > 4*sem+1e-4 {
				t.Errorf("method %d T=%v: E/N %.4f±%.4f (exact %.4f), |m| %.4f±%.4f (exact %.4f)",
					method, T, me, see, ex.Energy, mm, sem, ex.AbsMag)
			}
			// The fluctuation observables agree too, more loosely (10%).
			o := Measure(16, T, s.Energy, s.Mag)
			if math.Abs(o.SpecificHeat-ex.SpecificHeat) > 0.1*ex.SpecificHeat+0.02 {
				t.Errorf("method %d T=%v: C=%.4f, exact %.4f", method, T, o.SpecificHeat, ex.SpecificHeat)
			}
		}
	}
}

// L = 32: the energy per spin agrees with Onsager's infinite-lattice value
// within 0.01 (finite-size corrections away from Tc are far smaller).
func TestSampleVsOnsager(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 500
	}
	for i, T := range []float64{1.5, 2.0, 3.0} {
		s, err := Sample(32, T, n, 200, 2, Mixed, rng.NewStream(5, uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		e, am := perSpin(s)
		me, se := batchStats(e)
		mm, _ := batchStats(am)
		u := Onsager(T)
		t.Logf("T=%v: E/N = %.5f ± %.5f, Onsager %.5f; |m| = %.4f, Onsager %.4f", T, me, se, u, mm, OnsagerMag(T))
		if math.Abs(me-u) > 0.01 {
			t.Errorf("T=%v: E/N = %.5f ± %.5f, Onsager %.5f", T, me, se, u)
		}
		if T < Tc && math.Abs(mm-OnsagerMag(T)) > 0.01 {
			t.Errorf("T=%v: |m| = %.4f, Onsager-Yang %.4f", T, mm, OnsagerMag(T))
		}
	}
}

func TestSampleDeterministic(t *testing.T) {
	a, _ := Sample(8, 2.3, 50, 10, 2, Mixed, rng.New(3))
	b, _ := Sample(8, 2.3, 50, 10, 2, Mixed, rng.New(3))
	for i := range a.Spins {
		if a.Spins[i] != b.Spins[i] {
			t.Fatal("same seed gave different samples")
		}
	}
	for i := 0; i < a.Len(); i++ {
		l := New(8)
		copy(l.Spin, a.Config(i))
		if l.Energy() != a.Energy[i] || l.Magnetization() != a.Mag[i] {
			t.Fatalf("sample %d: recorded E, M do not match the configuration", i)
		}
	}
}

func TestSampleErrors(t *testing.T) {
	s := rng.New(1)
	for _, c := range []struct {
		L, n, burn, every int
		T                 float64
	}{{1, 10, 0, 1, 2}, {4, 0, 0, 1, 2}, {4, 10, -1, 1, 2}, {4, 10, 0, 0, 2}, {4, 10, 0, 1, 0}, {4, 10, 0, 1, math.NaN()}, {4, 10, 0, 1, math.Inf(1)}} {
		if _, err := Sample(c.L, c.T, c.n, c.burn, c.every, Mixed, s); err == nil {
			t.Errorf("Sample(%+v) gave no error", c)
		}
	}
	if _, err := Exact(6, 2); err == nil {
		t.Error("Exact(6) gave no error")
	}
}

func BenchmarkSweep32(b *testing.B) {
	m, _ := NewSampler(New(32), 2.27)
	s := rng.New(1)
	for i := 0; i < b.N; i++ {
		m.Sweep(s)
	}
}

func BenchmarkStep32(b *testing.B) {
	m, _ := NewSampler(New(32), 2.27)
	s := rng.New(1)
	m.Tune(100, s)
	for i := 0; i < b.N; i++ {
		m.Step(s)
	}
}
