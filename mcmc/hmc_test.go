package mcmc

import (
	"math"
	"runtime"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// gauss2 is N(μ, Σ) on ℝ² with a strong correlation (ρ ≈ 0.85).
var (
	gaussMu    = [2]float64{1, -1}
	gaussSigma = [2][2]float64{{1, 0.6}, {0.6, 0.5}}
)

// gaussTarget returns the BatchTarget of N(μ, Σ) and Σ⁻¹.
func gaussTarget(mu [2]float64, sigma [2][2]float64) (BatchTarget, [2][2]float64) {
	det := sigma[0][0]*sigma[1][1] - sigma[0][1]*sigma[1][0]
	P := [2][2]float64{{sigma[1][1] / det, -sigma[0][1] / det}, {-sigma[1][0] / det, sigma[0][0] / det}}
	return PerRow(2, func(grad, x []float64) float64 {
		d0, d1 := x[0]-mu[0], x[1]-mu[1]
		grad[0] = -(P[0][0]*d0 + P[0][1]*d1)
		grad[1] = -(P[1][0]*d0 + P[1][1]*d1)
		return 0.5 * (d0*grad[0] + d1*grad[1])
	}), P
}

// mixture2 is a two-component Gaussian mixture on ℝ² with diagonal covariances.
type mixture2 struct {
	w      [2]float64
	mu, sd [2][2]float64 // mu[k], sd[k] of component k
}

var testMixture = mixture2{
	w:  [2]float64{0.3, 0.7},
	mu: [2][2]float64{{-1.5, 0}, {1.5, 0.5}},
	sd: [2][2]float64{{0.6, 0.6}, {0.8, 0.4}},
}

func (m mixture2) target() BatchTarget {
	return PerRow(2, func(grad, x []float64) float64 {
		var lc [2]float64
		for k := range 2 {
			lc[k] = math.Log(m.w[k])
			for j := range 2 {
				u := (x[j] - m.mu[k][j]) / m.sd[k][j]
				lc[k] -= 0.5*u*u + math.Log(m.sd[k][j]) + 0.5*math.Log(2*math.Pi)
			}
		}
		mx := max(lc[0], lc[1])
		lse := mx + math.Log(math.Exp(lc[0]-mx)+math.Exp(lc[1]-mx))
		grad[0], grad[1] = 0, 0
		for k := range 2 {
			r := math.Exp(lc[k] - lse)
			for j := range 2 {
				grad[j] -= r * (x[j] - m.mu[k][j]) / (m.sd[k][j] * m.sd[k][j])
			}
		}
		return lse
	})
}

// moments returns the exact E[x1], E[x2], E[x1²], E[x2²], E[x1 x2], P(x1 > 0).
func (m mixture2) moments() []float64 {
	out := make([]float64, 6)
	for k := range 2 {
		w, mu, sd := m.w[k], m.mu[k], m.sd[k]
		out[0] += w * mu[0]
		out[1] += w * mu[1]
		out[2] += w * (mu[0]*mu[0] + sd[0]*sd[0])
		out[3] += w * (mu[1]*mu[1] + sd[1]*sd[1])
		out[4] += w * mu[0] * mu[1]
		out[5] += w * (1 - distuv.Normal{Mu: mu[0], Sigma: sd[0]}.CDF(0))
	}
	return out
}

// rawStats writes x1, x2, x1², x2², x1 x2, [x1 > 0].
func rawStats(dst []float64, x []float32) {
	a, b := float64(x[0]), float64(x[1])
	dst[0], dst[1], dst[2], dst[3], dst[4] = a, b, a*a, b*b, a*b
	dst[5] = 0
	if a > 0 {
		dst[5] = 1
	}
}

var statNames = []string{"E[x1]", "E[x2]", "E[x1²]", "E[x2²]", "E[x1x2]", "P(x1>0)"}

// gaussMoments returns rawStats' expectations under N(μ, C).
func gaussMoments(mu [2]float64, C [2][2]float64) []float64 {
	return []float64{mu[0], mu[1], C[0][0] + mu[0]*mu[0], C[1][1] + mu[1]*mu[1], C[0][1] + mu[0]*mu[1],
		1 - distuv.Normal{Mu: mu[0], Sigma: math.Sqrt(C[0][0])}.CDF(0)}
}

// chainAverages runs step n times after each of which it adds stats of every chain's
// state, and returns the mean over chains of the per-chain averages and its standard
// error sd/√C over the C independent chains: a Monte Carlo error bar that accounts
// for autocorrelation within chains.
func chainAverages(c *Chains, n int, step func(), k int, stats func(dst []float64, x []float32)) (mean, se []float64) {
	C := c.Len()
	avg := make([][]float64, C)
	for i := range avg {
		avg[i] = make([]float64, k)
	}
	buf := make([]float64, k)
	for range n {
		step()
		for i := range C {
			stats(buf, c.X.Row(i))
			for j := range k {
				avg[i][j] += buf[j] / float64(n)
			}
		}
	}
	mean, se = make([]float64, k), make([]float64, k)
	for j := range k {
		var s, s2 float64
		for i := range C {
			s += avg[i][j]
			s2 += avg[i][j] * avg[i][j]
		}
		mean[j] = s / float64(C)
		se[j] = math.Sqrt(max(s2/float64(C)-mean[j]*mean[j], 0) * float64(C) / float64(C-1) / float64(C))
	}
	return mean, se
}

// startChains returns chains started from N(0, spread² I) on t.
func startChains(t *testing.T, target BatchTarget, n int, spread float32, eps float64, seed uint64) *Chains {
	t.Helper()
	x0 := tensor.New(n, target.Dim())
	rng.New(seed+1000).FillNormal(x0.Data, 0, spread)
	c, err := NewChains(target, x0, eps, seed)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkMoments fails when an estimate is more than tol standard errors from exact.
func checkMoments(t *testing.T, name string, mean, se, exact []float64, tol float64) {
	t.Helper()
	for j := range exact {
		z := (mean[j] - exact[j]) / se[j]
		if math.Abs(z) > tol || math.IsNaN(z) {
			t.Errorf("%s %s: %.4f ± %.4f, exact %.4f (%.1f standard errors)", name, statNames[j], mean[j], se[j], exact[j], z)
		}
	}
	t.Logf("%s: estimates %.3f, exact %.3f, se %.4f", name, mean, exact, se)
}

// The samplers reproduce the moments of a correlated Gaussian and of a two-component
// mixture within 4 Monte Carlo standard errors (over 64 independent chains); the
// unadjusted Langevin algorithm matches its own exact, biased, stationary law.
func TestSamplersMoments(t *testing.T) {
	chains, n := 64, 2000
	if testing.Short() {
		chains, n = 32, 400
	}
	gt, P := gaussTarget(gaussMu, gaussSigma)
	gaussExact := gaussMoments(gaussMu, gaussSigma)
	mix := testMixture.target()
	mixExact := testMixture.moments()
	hmc, mala := HMC{Leapfrog: 10}, MALA{}
	type run struct {
		name   string
		target BatchTarget
		exact  []float64
		eps    float64
		step   func(c *Chains, n int)
		warm   func(c *Chains, n int)
	}
	adaptHMC, adaptMALA := HMC{Leapfrog: 10, Adapt: &StepAdapt{}}, MALA{Adapt: &StepAdapt{Target: 0.574}}
	runs := []run{
		{"HMC gauss", gt, gaussExact, 0.1, hmc.Step, adaptHMC.Step},
		{"MALA gauss", gt, gaussExact, 0.05, mala.Step, adaptMALA.Step},
		{"HMC mixture", mix, mixExact, 0.1, hmc.Step, adaptHMC.Step},
		{"MALA mixture", mix, mixExact, 0.05, mala.Step, adaptMALA.Step},
	}
	for ri, r := range runs {
		c := startChains(t, r.target, chains, 2, r.eps, uint64(10+ri))
		r.warm(c, 200)
		c.ResetCounts()
		mean, se := chainAverages(c, n, func() { r.step(c, 1) }, 6, rawStats)
		checkMoments(t, r.name, mean, se, r.exact, 4)
		var eps float64
		for _, e := range c.StepSize {
			eps += e / float64(chains)
		}
		if a := c.AcceptRate(); a < 0.3 || a > 0.99 {
			t.Errorf("%s: acceptance rate %.3f after adaptation", r.name, a)
		}
		t.Logf("%s: acceptance %.3f, mean step size %.3f", r.name, c.AcceptRate(), eps)
	}

	// ULA with h = 0.2 has stationary law N(μ, Σ (I − (h/4)Σ⁻¹)⁻¹), visibly off Σ.
	h := 0.2
	A := mat.NewDense(2, 2, []float64{1 - h/4*P[0][0], -h / 4 * P[0][1], -h / 4 * P[1][0], 1 - h/4*P[1][1]})
	var Ai, C mat.Dense
	if err := Ai.Inverse(A); err != nil {
		t.Fatal(err)
	}
	C.Mul(mat.NewDense(2, 2, []float64{gaussSigma[0][0], gaussSigma[0][1], gaussSigma[1][0], gaussSigma[1][1]}), &Ai)
	ulaCov := [2][2]float64{{C.At(0, 0), C.At(0, 1)}, {C.At(1, 0), C.At(1, 1)}}
	c := startChains(t, gt, chains, 2, h, 20)
	Langevin{}.Step(c, 200)
	mean, se := chainAverages(c, 4*n, func() { Langevin{}.Step(c, 1) }, 6, rawStats)
	checkMoments(t, "ULA gauss (its own stationary law)", mean, se, gaussMoments(gaussMu, ulaCov), 4)
	if c.AcceptRate() != 1 {
		t.Errorf("ULA acceptance rate %g, want 1", c.AcceptRate())
	}
	off := 0.0
	for j := range gaussExact {
		off = max(off, math.Abs(mean[j]-gaussExact[j])/se[j])
	}
	want := 6.0
	if testing.Short() {
		want = 3
	}
	if off < want {
		t.Errorf("ULA with h = %g: estimates within %.1f standard errors of the target's moments; its bias should show", h, off)
	}
	t.Logf("ULA bias: E[x2²] target %.4f, ULA's stationary %.4f, estimate %.4f ± %.4f",
		gaussExact[3], ulaCov[1][1]+gaussMu[1]*gaussMu[1], mean[3], se[3])
}

// doubleWell is p*(x) ∝ exp(−a(x² − 1)²) on ℝ, an energy a physicist might hand over.
func doubleWellEnergy(a float64) func(grad, x []float64) float64 {
	return func(grad, x []float64) float64 {
		u := x[0]*x[0] - 1
		grad[0] = 4 * a * u * x[0]
		return a * u * u
	}
}

// HMC on a double well reproduces E[x²] and E[x⁴] from quadrature.
func TestHMCDoubleWell(t *testing.T) {
	const a = 2.0
	var z, m2, m4 float64
	for i := -40000; i <= 40000; i++ {
		x := float64(i) * 1e-4
		w := math.Exp(-a * (x*x - 1) * (x*x - 1))
		z += w
		m2 += w * x * x
		m4 += w * x * x * x * x
	}
	exact := []float64{m2 / z, m4 / z}
	chains, n := 64, 2000
	if testing.Short() {
		chains, n = 32, 400
	}
	c := startChains(t, EnergyTarget(1, doubleWellEnergy(a)), chains, 1, 0.1, 3)
	HMC{Leapfrog: 10, Adapt: &StepAdapt{}}.Step(c, 200)
	h := HMC{Leapfrog: 10}
	mean, se := chainAverages(c, n, func() { h.Step(c, 1) }, 2, func(dst []float64, x []float32) {
		v := float64(x[0]) * float64(x[0])
		dst[0], dst[1] = v, v*v
	})
	for j, name := range []string{"E[x²]", "E[x⁴]"} {
		if z := (mean[j] - exact[j]) / se[j]; math.Abs(z) > 4 {
			t.Errorf("double well %s: %.4f ± %.4f, quadrature %.4f (%.1f se)", name, mean[j], se[j], exact[j], z)
		}
	}
	t.Logf("double well: E[x²] %.4f ± %.4f (exact %.4f), E[x⁴] %.4f ± %.4f (exact %.4f), acceptance %.3f",
		mean[0], se[0], exact[0], mean[1], se[1], exact[1], c.AcceptRate())
}

// leapfrogFrom sets chains' states to x and momenta to p (row-major, float64) and
// integrates L steps of size eps on p_β with β = 1.
func leapfrogFrom(c *Chains, x []float32, p []float64, eps float64, L int) {
	copy(c.X.Data, x)
	copy(c.p, p)
	for i := range c.StepSize {
		c.StepSize[i] = eps
	}
	c.evaluate()
	c.leapfrog(1, L)
}

// The leapfrog energy error over a trajectory of fixed length T = Lε falls as ε²:
// halving ε divides it by about 4. (At ε = 0.1 the Gaussian's fastest mode has
// εω ≈ 0.3 and fourth-order terms still show; below ε ≈ 0.01 the float32 positions
// add noise of about 1e-6 to ΔH.)
func TestLeapfrogEnergyErrorSecondOrder(t *testing.T) {
	gt, _ := gaussTarget(gaussMu, gaussSigma)
	for _, tc := range []struct {
		name   string
		target BatchTarget
	}{{"gauss", gt}, {"mixture", testMixture.target()}} {
		const n = 16
		s := rng.New(7)
		x := make([]float32, 2*n)
		p := make([]float64, 2*n)
		s.FillNormal(x, 0, 1.5)
		for i := range p {
			p[i] = s.NormFloat64()
		}
		c := startChains(t, tc.target, n, 1, 1, 1)
		epsList := []float64{0.05, 0.025, 0.0125}
		var errs []float64
		for _, eps := range epsList {
			L := int(math.Round(1 / eps))
			copy(c.X.Data, x)
			c.evaluate()
			copy(c.p, p)
			h0 := make([]float64, n)
			for i := range n {
				h0[i] = c.hamiltonian(i, 1)
			}
			leapfrogFrom(c, x, p, eps, L)
			var e float64
			for i := range n {
				e += math.Abs(c.hamiltonian(i, 1)-h0[i]) / n
			}
			errs = append(errs, e)
		}
		for k := 1; k < len(errs); k++ {
			if r := errs[k-1] / errs[k]; r < 3.2 || r > 4.8 {
				t.Errorf("%s: |ΔH| %.3g at ε=%g, %.3g at ε/2: ratio %.2f, want ≈ 4 (second order)",
					tc.name, errs[k-1], epsList[k-1], errs[k], r)
			}
		}
		slope := math.Log(errs[0]/errs[len(errs)-1]) / math.Log(epsList[0]/epsList[len(errs)-1])
		if slope < 1.8 || slope > 2.2 {
			t.Errorf("%s: |ΔH| ∝ ε^%.2f, want ε²", tc.name, slope)
		}
		t.Logf("%s: mean |ΔH| over T = 1 at ε = %g: %.3g; order %.2f", tc.name, epsList, errs, slope)
	}
}

// Leapfrog is reversible (integrating back with the momentum negated returns to the
// start) and volume-preserving (the Jacobian determinant of (x, p) ↦ (x', p') is 1).
func TestLeapfrogReversibleVolumePreserving(t *testing.T) {
	gt, _ := gaussTarget(gaussMu, gaussSigma)
	for _, tc := range []struct {
		name   string
		target BatchTarget
	}{{"gauss", gt}, {"mixture", testMixture.target()}} {
		const eps, L = 0.1, 15
		x := []float32{0.3, -0.7}
		p := []float64{0.8, -1.1}
		c := startChains(t, tc.target, 1, 1, 1, 1)
		leapfrogFrom(c, x, p, eps, L)
		for j := range c.p {
			c.p[j] = -c.p[j]
		}
		c.leapfrog(1, L)
		for j := range 2 {
			if d := math.Abs(float64(c.X.Data[j] - x[j])); d > 1e-5 {
				t.Errorf("%s: x[%d] returns to %.7f, started at %.7f", tc.name, j, c.X.Data[j], x[j])
			}
			if d := math.Abs(-c.p[j] - p[j]); d > 1e-5 {
				t.Errorf("%s: p[%d] returns to %.7f, started at %.7f", tc.name, j, -c.p[j], p[j])
			}
		}

		// Central differences of the map over the 4 coordinates of (x, p).
		const h = 2e-3
		cm := startChains(t, tc.target, 8, 1, 1, 1)
		xs := make([]float32, 16)
		ps := make([]float64, 16)
		for k := range 4 {
			for s, sign := range []float64{1, -1} {
				r := 2*k + s
				xs[2*r], xs[2*r+1] = x[0], x[1]
				ps[2*r], ps[2*r+1] = p[0], p[1]
				if k < 2 {
					xs[2*r+k] = float32(float64(x[k]) + sign*h)
				} else {
					ps[2*r+k-2] += sign * h
				}
			}
		}
		leapfrogFrom(cm, xs, ps, eps, L)
		J := mat.NewDense(4, 4, nil)
		for k := range 4 {
			a, b := 2*k, 2*k+1
			den := 2 * h
			if k < 2 {
				den = float64(xs[2*a+k]) - float64(xs[2*b+k])
			}
			for j := range 2 {
				J.Set(j, k, (float64(cm.X.At(a, j))-float64(cm.X.At(b, j)))/den)
				J.Set(j+2, k, (cm.p[2*a+j]-cm.p[2*b+j])/den)
			}
		}
		if det := mat.Det(J); math.Abs(det-1) > 1e-3 {
			t.Errorf("%s: Jacobian determinant of %d leapfrog steps = %.6f, want 1", tc.name, L, det)
		} else {
			t.Logf("%s: Jacobian determinant %.6f", tc.name, det)
		}
	}
}

// The samplers give the same bits with 1 and 2 workers.
func TestSamplersIndependentOfWorkers(t *testing.T) {
	target := testMixture.target()
	run := func(w int) [][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(w))
		tensor.SetWorkers(w)
		defer tensor.SetWorkers(0)
		var out [][]float32
		for _, step := range []func(c *Chains, n int){
			HMC{Leapfrog: 5, Adapt: &StepAdapt{}}.Step, MALA{Adapt: &StepAdapt{}}.Step, Langevin{}.Step,
		} {
			x0 := tensor.New(300, 2)
			rng.New(5).FillNormal(x0.Data, 0, 2)
			c, _ := NewChains(target, x0, 0.1, 9)
			step(c, 20)
			out = append(out, append([]float32(nil), c.X.Data...))
		}
		return out
	}
	a, b := run(1), run(2)
	for k := range a {
		for i := range a[k] {
			if math.Float32bits(a[k][i]) != math.Float32bits(b[k][i]) {
				t.Fatalf("sampler %d, value %d: %g with 1 worker, %g with 2", k, i, a[k][i], b[k][i])
			}
		}
	}
}

func TestNewChainsBadStepSize(t *testing.T) {
	gt, _ := gaussTarget(gaussMu, gaussSigma)
	for _, eps := range []float64{0, -0.1, math.NaN(), math.Inf(1)} {
		if _, err := NewChains(gt, tensor.New(2, 2), eps, 1); err == nil {
			t.Errorf("NewChains with step size %g: want an error", eps)
		}
	}
	for _, a := range []StepAdapt{{Target: 1}, {Inc: 0.5}, {Dec: 1.5}, {Min: 1, Max: 0.1}, {Slowness: 1}} {
		if err := a.Validate(); err == nil {
			t.Errorf("StepAdapt %+v: want an error", a)
		}
	}
	if err := (StepAdapt{}).Validate(); err != nil {
		t.Errorf("zero StepAdapt: %v", err)
	}
}

// MALA rejects proposals whose log density is NaN and keeps its state.
func TestMALARejectsNaN(t *testing.T) {
	target := PerRow(1, func(grad, x []float64) float64 {
		grad[0] = -x[0]
		if x[0] > 0.5 {
			return math.NaN()
		}
		return -x[0] * x[0] / 2
	})
	x0 := tensor.FromSlice(4, 1, []float32{0, 0.1, -0.2, 0.3})
	c, _ := NewChains(target, x0, 0.5, 1)
	MALA{}.Step(c, 200)
	for i, v := range c.X.Data {
		if v > 0.5 || math.IsNaN(float64(c.LogP[i])) {
			t.Errorf("chain %d at %g with log p %g", i, v, c.LogP[i])
		}
	}
	if c.AcceptRate() == 0 || c.AcceptRate() == 1 {
		t.Errorf("acceptance rate %g", c.AcceptRate())
	}
}
