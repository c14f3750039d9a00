package mcmc

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// isingEnergy returns the nearest-neighbour energy E(s) = −Σ_<ij> s_i s_j of an L×L
// periodic lattice of ±1 spins.
func isingEnergy(L int) Energy {
	return func(s []float64) float64 {
		var e float64
		for y := 0; y < L; y++ {
			for x := 0; x < L; x++ {
				v := s[y*L+x]
				e -= v * (s[y*L+(x+1)%L] + s[((y+1)%L)*L+x])
			}
		}
		return e
	}
}

// isingExact returns ⟨E⟩ and ⟨|m|⟩ (m = mean spin) at inverse temperature beta by
// enumerating all 2^(L²) states, and the probabilities of every state.
func isingExact(L int, beta float64) (meanE, meanAbsM float64, p []float64) {
	n := L * L
	energy := isingEnergy(L)
	s := make([]float64, n)
	p = make([]float64, 1<<n)
	var z float64
	es := make([]float64, len(p))
	ms := make([]float64, len(p))
	for a := range p {
		var m float64
		for i := range s {
			s[i] = float64(2*(a>>i&1) - 1)
			m += s[i]
		}
		es[a], ms[a] = energy(s), math.Abs(m)/float64(n)
	}
	for a := range p {
		p[a] = math.Exp(-beta * (es[a] + 2*float64(n))) // shift by the ground state
		z += p[a]
	}
	for a := range p {
		p[a] /= z
		meanE += p[a] * es[a]
		meanAbsM += p[a] * ms[a]
	}
	return meanE, meanAbsM, p
}

func spinIndex(s []float64) int {
	k := 0
	for i, x := range s {
		if x > 0 {
			k |= 1 << i
		}
	}
	return k
}

func TestMetropolisIsingMatchesEnumeration(t *testing.T) {
	const L, beta = 4, 0.35
	wantE, wantM, _ := isingExact(L, beta)
	m := &Metropolis{Energy: isingEnergy(L), Proposal: FlipOne{Spins: true}, Beta: beta}
	chains, sweeps := 8, 100000
	if testing.Short() {
		sweeps = 20000
	}
	var sumE, sumM float64
	var n int
	for c := 0; c < chains; c++ {
		x0 := make([]float64, L*L)
		for i := range x0 {
			x0[i] = 1
		}
		ch := m.NewChain(x0)
		s := rng.NewStream(1, uint64(c))
		m.Step(ch, 200*L*L, s)
		for k := 0; k < sweeps; k++ {
			m.Step(ch, L*L, s)
			var mag float64
			for _, v := range ch.X {
				mag += v
			}
			sumE += ch.E
			sumM += math.Abs(mag) / (L * L)
			n++
		}
		if r := ch.AcceptRate(); r <= 0 || r >= 1 {
			t.Errorf("accept rate %g", r)
		}
	}
	gotE, gotM := sumE/float64(n), sumM/float64(n)
	// Tolerances: a few Monte Carlo standard errors (sd(E) ≈ 6, τ ≈ 10 sweeps: se ≈ 0.05
	// at n = 1.6e5; the |m| se ≈ 0.003).
	if math.Abs(gotE-wantE) > 0.15 || math.Abs(gotM-wantM) > 0.012 {
		t.Errorf("4×4 Ising at β=%g: Metropolis ⟨E⟩=%.4f ⟨|m|⟩=%.4f, exact %.4f %.4f", beta, gotE, gotM, wantE, wantM)
	}
	t.Logf("⟨E⟩ %.4f (exact %.4f), ⟨|m|⟩ %.4f (exact %.4f)", gotE, wantE, gotM, wantM)
}

// A 1-D double-well E(x) = (x²−1)²·2 sampled by a random walk: mean of x² against
// numerical integration.
func TestMetropolisContinuousMatchesQuadrature(t *testing.T) {
	e := func(x []float64) float64 { return 2 * (x[0]*x[0] - 1) * (x[0]*x[0] - 1) }
	var z, zx2 float64
	for x := -4.0; x <= 4; x += 1e-4 {
		w := math.Exp(-e([]float64{x}))
		z += w
		zx2 += w * x * x
	}
	want := zx2 / z
	m := &Metropolis{Energy: e, Proposal: RandomWalk{Sigma: 0.8}}
	ch := m.NewChain([]float64{0})
	s := rng.New(3)
	m.Step(ch, 1000, s)
	var sum float64
	n := 400000
	if testing.Short() {
		n = 100000
	}
	for i := 0; i < n; i++ {
		m.Step(ch, 1, s)
		sum += ch.X[0] * ch.X[0]
	}
	if got := sum / float64(n); math.Abs(got-want) > 0.03 {
		t.Errorf("double well ⟨x²⟩ = %.4f, quadrature %.4f", got, want)
	}
}

func TestParallelTemperingMatchesEnumeration(t *testing.T) {
	const L = 3
	// β = 0.9 on a 3×3 lattice is strongly bimodal (all up / all down); plain
	// single-flip Metropolis rarely crosses, tempering should.
	betas := []float64{0.9, 0.7, 0.5, 0.35, 0.2}
	_, _, p := isingExact(L, betas[0])
	pt := &Tempering{Energy: isingEnergy(L), Proposal: FlipOne{Spins: true}, Betas: betas, StepsPerSwap: L * L}
	x0 := make([]float64, L*L)
	for i := range x0 {
		x0[i] = 1
	}
	st, err := pt.Start(x0, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		pt.Sweep(st)
	}
	sweeps := 60000
	if testing.Short() {
		sweeps = 15000
	}
	hist := make([]float64, len(p))
	for i := 0; i < sweeps; i++ {
		pt.Sweep(st)
		hist[spinIndex(st.Replicas[0].X)]++
	}
	for i := range hist {
		hist[i] /= float64(sweeps)
	}
	// Compare the distribution of the energy/magnetisation-level states: TV over all
	// 512 states, plus the up/down balance that only mixing between modes can give.
	var up float64
	for i, h := range hist {
		if i&1 == 1 {
			up += h
		}
	}
	if math.Abs(up-0.5) > 0.05 {
		t.Errorf("P(s_0 = +1) = %.3f under PT, exact 0.5", up)
	}
	if tv := totalVariation(hist, p); tv > 0.05 {
		t.Errorf("PT histogram: total variation %.4f from the exact distribution", tv)
	}
	for k, r := range st.SwapRates() {
		if !(r > 0 && r <= 1) {
			t.Errorf("swap rate of pair %d = %g, want in (0, 1]", k, r)
		}
	}
	t.Logf("swap rates %.3f", st.SwapRates())
}

func TestTemperingBadBetas(t *testing.T) {
	for _, b := range [][]float64{nil, {1, 0}, {1, math.NaN()}, {math.Inf(1)}} {
		pt := &Tempering{Energy: isingEnergy(2), Proposal: FlipOne{Spins: true}, Betas: b}
		if _, err := pt.Start(make([]float64, 4), 1); err == nil {
			t.Errorf("Betas %v: want an error", b)
		}
	}
}
