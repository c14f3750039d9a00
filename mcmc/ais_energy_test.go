package mcmc

import (
	"errors"
	"math"
	"runtime"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"gonum.org/v1/gonum/mat"
)

// quadraticEnergy returns E(x) = ½ (x − m)ᵀ A (x − m) for a random symmetric positive
// definite A (eigenvalues spread over [0.3, 4]) and its exact
//
//	log Z = (d/2) log 2π − ½ log det A.
func quadraticEnergy(d int, seed uint64) (func(grad, x []float64) float64, float64) {
	s := rng.New(seed)
	// A = Q diag(λ) Qᵀ with Q from a QR of a random matrix.
	g := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			g.Set(i, j, s.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	lam := make([]float64, d)
	logDet := 0.0
	for i := range lam {
		lam[i] = 0.3 + 3.7*float64(i)/float64(max(d-1, 1))
		logDet += math.Log(lam[i])
	}
	var a mat.Dense
	a.Mul(&q, mat.NewDiagDense(d, lam))
	a.Mul(&a, q.T())
	m := make([]float64, d)
	for i := range m {
		m[i] = 1.5 * s.NormFloat64()
	}
	A := mat.DenseCopyOf(&a)
	e := func(grad, x []float64) float64 {
		var v float64
		for i := range d {
			var gi float64
			for j := range d {
				gi += A.At(i, j) * (x[j] - m[j])
			}
			grad[i] = gi
			v += (x[i] - m[i]) * gi
		}
		return v / 2
	}
	return e, float64(d)/2*math.Log(2*math.Pi) - logDet/2
}

// AIS from N(0, I) (and from a shifted, wider base) to a correlated Gaussian
// energy gives its closed-form log Z within three standard errors, with HMC and
// with MALA transitions.
func TestAISEnergyGaussianLogZ(t *testing.T) {
	const d = 6
	e, exact := quadraticEnergy(d, 3)
	target := EnergyTarget(d, e)
	steps := 300
	if testing.Short() {
		steps = 100
	}
	mean, sd := make([]float64, d), make([]float64, d)
	for j := range d {
		mean[j], sd[j] = 0.5, 2
	}
	for _, tc := range []struct {
		name string
		cfg  EnergyAISConfig
	}{
		{"hmc", EnergyAISConfig{Chains: 64, Steps: steps, Leapfrog: 5, Seed: 1}},
		{"mala", EnergyAISConfig{Chains: 64, Steps: 3 * steps, Transition: "mala", Seed: 2}},
		{"hmc, wide base", EnergyAISConfig{Chains: 64, Steps: steps, Leapfrog: 5, Seed: 3, BaseMean: mean, BaseStd: sd}},
		{"hmc, fixed ε", EnergyAISConfig{Chains: 64, Steps: steps, Leapfrog: 5, Seed: 4, FixedStepSize: true, StepSize: 0.2}},
	} {
		r, err := AISEnergy(target, tc.cfg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !(r.StdErr > 0) || math.Abs(r.LogZ-exact) > 3*r.StdErr {
			t.Errorf("%s: log Z %.4f ± %.4f, exact %.4f (%.1f standard errors)", tc.name, r.LogZ, r.StdErr, exact, (r.LogZ-exact)/r.StdErr)
		}
		if r.AcceptRate < 0.3 || r.AcceptRate > 1 {
			t.Errorf("%s: acceptance rate %.3f", tc.name, r.AcceptRate)
		}
		t.Logf("%s: log Z %.4f ± %.4f, exact %.4f, acceptance %.3f, ε %.3f", tc.name, r.LogZ, r.StdErr, exact, r.AcceptRate, r.StepSize)
	}
}

// With a single transition (no annealing) AIS is importance sampling from the base,
// and with the base equal to the target every weight is exactly Z/Z_0 = 1: log Ẑ is
// the base's log Z to rounding, with a zero standard error.
func TestAISEnergyBaseIsTarget(t *testing.T) {
	const d = 3
	target := EnergyTarget(d, func(grad, x []float64) float64 {
		var v float64
		for j := range x {
			z := (x[j] - 1) / 0.5
			grad[j] = z / 0.5
			v += z * z / 2
		}
		return v
	})
	mean, sd := []float64{1, 1, 1}, []float64{0.5, 0.5, 0.5}
	r, err := AISEnergy(target, EnergyAISConfig{Chains: 10, Steps: 5, BaseMean: mean, BaseStd: sd})
	if err != nil {
		t.Fatal(err)
	}
	exact := 1.5*math.Log(2*math.Pi) + 3*math.Log(0.5)
	if math.Abs(r.LogZ-exact) > 1e-5 || r.StdErr > 1e-5 {
		t.Errorf("log Z %.7f ± %.2g, exact %.7f", r.LogZ, r.StdErr, exact)
	}
}

// doubleWell2 is the 2-D energy E(x, y) = a(x² − 1)² + (y − bx)²/(2s²): two wells at
// (±1, ±b) joined through a barrier of height a, y correlated with x.
func doubleWell2(a, b, s float64) func(grad, x []float64) float64 {
	return func(grad, x []float64) float64 {
		u := x[0]*x[0] - 1
		r := x[1] - b*x[0]
		grad[0] = 4*a*u*x[0] - b*r/(s*s)
		grad[1] = r / (s * s)
		return a*u*u + r*r/(2*s*s)
	}
}

// quad2 integrates exp(−E) and the moments x², x⁴, y², xy of the 2-D double well on a
// grid (midpoint rule, step h), returning log Z and the normalised moments.
func quad2(e func(grad, x []float64) float64, lim, h float64) (logZ float64, m []float64) {
	var z float64
	m = make([]float64, 4)
	g, x := make([]float64, 2), make([]float64, 2)
	n := int(2 * lim / h)
	for i := range n {
		x[0] = -lim + (float64(i)+0.5)*h
		for j := range n {
			x[1] = -lim + (float64(j)+0.5)*h
			w := math.Exp(-e(g, x))
			z += w
			m[0] += w * x[0] * x[0]
			m[1] += w * x[0] * x[0] * x[0] * x[0]
			m[2] += w * x[1] * x[1]
			m[3] += w * x[0] * x[1]
		}
	}
	for k := range m {
		m[k] /= z
	}
	return math.Log(z * h * h), m
}

// HMC and MALA reproduce the moments of a 1-D double well and of a 2-D double well
// with correlated coordinates, from quadrature, within 4 Monte Carlo standard errors
// over independent chains.
func TestSamplersDoubleWell(t *testing.T) {
	chains, n := 64, 2000
	if testing.Short() {
		chains, n = 32, 500
	}
	const a = 1.0
	e2 := doubleWell2(a, 0.5, 0.4)
	_, m2 := quad2(e2, 5, 2e-3)
	var z, q2, q4 float64 // 1-D: E[x²], E[x⁴]
	for i := -50000; i <= 50000; i++ {
		x := float64(i) * 1e-4
		w := math.Exp(-a * (x*x - 1) * (x*x - 1))
		z, q2, q4 = z+w, q2+w*x*x, q4+w*x*x*x*x
	}
	m1 := []float64{q2 / z, q4 / z}
	stats2 := func(dst []float64, x []float32) {
		u, v := float64(x[0]), float64(x[1])
		dst[0], dst[1], dst[2], dst[3] = u*u, u*u*u*u, v*v, u*v
	}
	stats1 := func(dst []float64, x []float32) {
		v := float64(x[0]) * float64(x[0])
		dst[0], dst[1] = v, v*v
	}
	type run struct {
		name        string
		target      BatchTarget
		exact       []float64
		stats       func([]float64, []float32)
		warm, step  func(c *Chains, n int)
		eps         float64
		names       []string
		stepsPerObs int
	}
	hmcW, hmc := HMC{Leapfrog: 10, Adapt: &StepAdapt{}}, HMC{Leapfrog: 10}
	malaW, mala := MALA{Adapt: &StepAdapt{Target: 0.574}}, MALA{}
	runs := []run{
		{"HMC 1-D", EnergyTarget(1, doubleWellEnergy(a)), m1, stats1, hmcW.Step, hmc.Step, 0.1, []string{"E[x²]", "E[x⁴]"}, 1},
		{"MALA 1-D", EnergyTarget(1, doubleWellEnergy(a)), m1, stats1, malaW.Step, mala.Step, 0.1, []string{"E[x²]", "E[x⁴]"}, 5},
		{"HMC 2-D", EnergyTarget(2, e2), m2, stats2, hmcW.Step, hmc.Step, 0.1, []string{"E[x²]", "E[x⁴]", "E[y²]", "E[xy]"}, 1},
		{"MALA 2-D", EnergyTarget(2, e2), m2, stats2, malaW.Step, mala.Step, 0.05, []string{"E[x²]", "E[x⁴]", "E[y²]", "E[xy]"}, 5},
	}
	for ri, r := range runs {
		c := startChains(t, r.target, chains, 1, r.eps, uint64(40+ri))
		r.warm(c, 300)
		c.ResetCounts()
		mean, se := chainAverages(c, n, func() { r.step(c, r.stepsPerObs) }, len(r.exact), r.stats)
		for j := range r.exact {
			if z := (mean[j] - r.exact[j]) / se[j]; math.Abs(z) > 4 || math.IsNaN(z) {
				t.Errorf("%s %s: %.4f ± %.4f, quadrature %.4f (%.1f se)", r.name, r.names[j], mean[j], se[j], r.exact[j], z)
			}
		}
		if ar := c.AcceptRate(); ar < 0.3 || ar > 0.999 {
			t.Errorf("%s: acceptance rate %.3f", r.name, ar)
		}
		t.Logf("%s: %.4f ± %.4f, quadrature %.4f, acceptance %.3f", r.name, mean, se, r.exact, c.AcceptRate())
	}
}

// AIS gives the log Z of the 2-D double well (two modes, non-Gaussian) from
// quadrature within three standard errors.
func TestAISEnergyDoubleWellLogZ(t *testing.T) {
	e := doubleWell2(2, 0.5, 0.4)
	exact, _ := quad2(e, 5, 2e-3)
	for _, tr := range []string{"hmc", "mala"} {
		r, err := AISEnergy(EnergyTarget(2, e), EnergyAISConfig{Chains: 100, Steps: 300, Transition: tr, Leapfrog: 5, Seed: 7,
			BaseStd: []float64{1.5, 1.5}})
		if err != nil {
			t.Fatal(err)
		}
		if !(r.StdErr > 0) || math.Abs(r.LogZ-exact) > 3*r.StdErr {
			t.Errorf("%s: log Z %.4f ± %.4f, quadrature %.4f (%.1f se)", tr, r.LogZ, r.StdErr, exact, (r.LogZ-exact)/r.StdErr)
		}
		t.Logf("%s: log Z %.4f ± %.4f, quadrature %.4f, acceptance %.3f", tr, r.LogZ, r.StdErr, exact, r.AcceptRate)
	}
}

// AISEnergy gives the same bits with 1 and 2 workers.
func TestAISEnergyIndependentOfWorkers(t *testing.T) {
	e, _ := quadraticEnergy(4, 5)
	run := func(w int) EnergyAISResult {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(w))
		tensor.SetWorkers(w)
		defer tensor.SetWorkers(0)
		r, err := AISEnergy(EnergyTarget(4, e), EnergyAISConfig{Chains: 300, Steps: 20, Leapfrog: 3, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(1), run(2)
	if math.Float64bits(a.LogZ) != math.Float64bits(b.LogZ) {
		t.Errorf("log Z %v with 1 worker, %v with 2", a.LogZ, b.LogZ)
	}
	for i := range a.X.Data {
		if a.X.Data[i] != b.X.Data[i] {
			t.Fatalf("state %d: %g with 1 worker, %g with 2", i, a.X.Data[i], b.X.Data[i])
		}
	}
}

func TestAISEnergyBadSettings(t *testing.T) {
	e, _ := quadraticEnergy(2, 1)
	target := EnergyTarget(2, e)
	for name, cfg := range map[string]EnergyAISConfig{
		"chains":     {Chains: -1},
		"leapfrog":   {Leapfrog: -2},
		"step size":  {StepSize: math.NaN()},
		"transition": {Transition: "gibbs"},
		"base mean":  {BaseMean: []float64{0}},
		"base std":   {BaseStd: []float64{1, 0}},
		"schedule":   {Schedule: "cubic"},
		"betas":      {Betas: []float64{0, 0.5, 0.4, 1}},
		"adapt":      {Adapt: StepAdapt{Target: 2}},
	} {
		if _, err := AISEnergy(target, cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	nan := EnergyTarget(1, func(grad, x []float64) float64 { grad[0] = 0; return math.NaN() })
	if _, err := AISEnergy(nan, EnergyAISConfig{Chains: 4, Steps: 3}); err == nil {
		t.Error("NaN energy: no error")
	}
}

// Stop ends a run at the transition it first returns an error after, and that
// error comes back.
func TestAISEnergyStop(t *testing.T) {
	e, _ := quadraticEnergy(3, 3)
	stopErr := errors.New("stopped")
	calls := 0
	_, err := AISEnergy(EnergyTarget(3, e), EnergyAISConfig{Chains: 4, Steps: 50, Seed: 1, Stop: func() error {
		if calls++; calls == 7 {
			return stopErr
		}
		return nil
	}})
	if err != stopErr || calls != 7 {
		t.Errorf("error %v after %d calls of Stop, want %v after 7", err, calls, stopErr)
	}
}
