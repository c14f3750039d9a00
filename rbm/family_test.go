package rbm

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/ising"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// LogLikelihood enumerates log Z unasked only when that takes about a minute or
// less here (EnumPerMinute); larger enumerable models get AIS unless Exact is set.
func TestEnumCost(t *testing.T) {
	for _, c := range []struct {
		vis    Visible
		nv, nh int
		cheap  bool
		cost   float64
	}{
		{Bernoulli, 16, 16, true, 16 << 16},
		{Bernoulli, 784, 20, true, 784 << 20},
		{Bernoulli, 784, 22, true, 784 << 22},
		{Bernoulli, 784, 23, false, 784 << 23},
		{Bernoulli, 784, 30, false, 784 << 30}, // enumerable (MaxExactUnits), hours
		{Bernoulli, 20, 784, true, 784 << 20},  // the smaller layer is enumerated
		{Gaussian, 100, 24, true, 100 << 24},
		{Gaussian, 100, 27, false, 100 << 27},
	} {
		m, err := New(c.vis, c.nv, c.nh)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.EnumCost(); got != c.cost {
			t.Errorf("%v %d×%d: EnumCost %g, want %g", c.vis, c.nv, c.nh, got, c.cost)
		}
		if got := m.CanEnumerate() && m.EnumCost() <= EnumPerMinute; got != c.cheap {
			t.Errorf("%v %d×%d: cheap %t, want %t", c.vis, c.nv, c.nh, got, c.cheap)
		}
	}
}

// The estimator LogLikelihood picks, what it reports beside it, and its errors.
func TestLogLikelihoodChoice(t *testing.T) {
	m := randomRBM(t, Bernoulli, 8, 6, 0.5, 3)
	x := allStates(8).Slice(0, 40)
	var logged []string
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(s string) { logged = append(logged, s) }})
	ex, err := m.LogLikelihood(ctx, x, LogLikOptions{})
	if err != nil || ex.Method != "exact" || !ex.HaveExact || ex.StdErr != 0 || len(logged) != 0 {
		t.Fatalf("cheap model: %+v, %v, logged %q", ex, err, logged)
	}
	var sum float64
	for _, v := range ex.PerExample {
		sum += v
	}
	if math.Abs(sum/float64(x.Rows)-ex.Mean) > 1e-9 || ex.Mean != m.MeanLogProb(x, ex.LogZ) {
		t.Errorf("mean %v, per-example mean %v", ex.Mean, sum/float64(x.Rows))
	}
	ais, err := m.LogLikelihood(ctx, x, LogLikOptions{AISChains: 50, AISBetas: 1000, Seed: 2})
	if err != nil || ais.Method != "ais" || !ais.HaveExact || ais.ExactLogZ != ex.LogZ || ais.AISChains != 50 {
		t.Fatalf("AIS on request: %+v, %v", ais, err)
	}
	if d := math.Abs(ais.LogZ - ex.LogZ); d > 4*ais.LogZStdErr+0.02 {
		t.Errorf("AIS log Z %v ± %v, exact %v", ais.LogZ, ais.LogZStdErr, ex.LogZ)
	}
	// Over the enumeration budget: AIS, with a line saying why.
	over, err := m.LogLikelihood(ctx, x, LogLikOptions{MaxEnum: 10, AISBetas: 100})
	if err != nil || over.Method != "ais" || over.HaveExact || over.AISChains != 100 {
		t.Fatalf("over budget: %+v, %v", over, err)
	}
	if over.AISBetas != 100 {
		t.Errorf("AIS betas %d", over.AISBetas)
	}
	if !testing.Short() { // AIS with its default 100 chains × 14500 distributions
		if _, err := m.LogLikelihood(ctx, x, LogLikOptions{MaxEnum: 10}); err != nil || len(logged) != 1 || !strings.Contains(logged[0], "AIS instead") {
			t.Errorf("over budget unasked: %v, logged %q", err, logged)
		}
	}
	// AISCheck: two more runs from a uniform base, over each side, each within
	// max(0.1, 3σ) of the exact log Z; LogZ the largest of the three, the first
	// the plain run's (same seed).
	chk, err := m.LogLikelihood(ctx, x, LogLikOptions{AISChains: 50, AISBetas: 1000, AISCheck: true, Seed: 2})
	if err != nil || chk.Method != "ais" || len(chk.Checks) != 2 || chk.LogZFirst != ais.LogZ {
		t.Fatalf("AISCheck: %+v, %v", chk, err)
	}
	for side, a := range chk.Checks {
		if math.Abs(a.LogZ-ex.LogZ) > max(0.1, 3*a.StdErr) {
			t.Errorf("AISCheck, side %d: log Z %.4f ± %.4f, exact %.4f", side, a.LogZ, a.StdErr, ex.LogZ)
		}
	}
	if chk.LogZ != max(ais.LogZ, chk.Checks[0].LogZ, chk.Checks[1].LogZ) || chk.Checks[0].LogZ == chk.Checks[1].LogZ || chk.Mean != m.MeanLogProb(x, chk.LogZ) {
		t.Errorf("AISCheck: log Z %.4f from %.4f, %.4f, %.4f; mean %.4f", chk.LogZ, ais.LogZ, chk.Checks[0].LogZ, chk.Checks[1].LogZ, chk.Mean)
	}
	// A first estimate far below the others (what AIS's missed modes give) is
	// replaced by the largest and named in a warning; a close one is not.
	for _, c := range []struct {
		below float64
		warn  bool
	}{{10, true}, {0.01, false}} {
		logged = logged[:0]
		first := mcmc.AISResult{LogZ: ex.LogZ - c.below, StdErr: 0.01}
		best, checks, err := checkAIS(ctx, "rbm", m.Bipartite(), mcmc.AISConfig{Chains: 50, Betas: mcmc.AISBetas(1000), Seed: 2}, first)
		if err != nil || len(checks) != 2 || best.LogZ != max(first.LogZ, checks[0].LogZ, checks[1].LogZ) {
			t.Fatalf("checkAIS, first %.2f below: best %+v, %v", c.below, best, err)
		}
		warned := len(logged) == 1 && strings.Contains(logged[0], "warning: --ais-check")
		if warned != c.warn || (c.warn && math.Abs(best.LogZ-ex.LogZ) > max(0.1, 3*best.StdErr)) {
			t.Errorf("checkAIS, first %.2f below exact: best %.4f, logged %q", c.below, best.LogZ, logged)
		}
	}
	g := randomRBM(t, Gaussian, 4, 3, 0.5, 3)
	if _, err := g.LogLikelihood(ctx, tensor.New(2, 4), LogLikOptions{AISCheck: true}); err == nil || !strings.Contains(err.Error(), "Gaussian") {
		t.Errorf("AISCheck on a grbm: %v", err)
	}
	if err := (&LogZFlags{Exact: true, AISCheck: true}).Validate(); err == nil || !strings.Contains(err.Error(), "ais-check") {
		t.Errorf("--exact --ais-check: %v", err)
	}
	for _, o := range []LogLikOptions{{Exact: true, AIS: true}, {Exact: true, AISChains: 5}, {Exact: true, AISCheck: true}, {AISBetas: 2}, {AISChains: -1}} {
		if _, err := m.LogLikelihood(ctx, x, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// ising.MeasureRows of the ising data set's rows gives the energies and
// magnetisations the generator recorded in Factors (so the 0/1 encodings agree).
func TestIsingObservablesOfDataSet(t *testing.T) {
	d, err := dataset.Load("ising:L=6,T=2.3,n=200", dataset.Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	obs := ising.MeasureRows(d.X, 6, 2.3)
	var e, m float64
	for i := 0; i < d.Len(); i++ {
		e += float64(d.Factors.At(i, 0))
		m += math.Abs(float64(d.Factors.At(i, 1)))
	}
	e /= float64(d.Len())
	m /= float64(d.Len())
	if math.Abs(obs.Energy-e) > 1e-6 || math.Abs(obs.AbsMag-m) > 1e-6 {
		t.Errorf("observables E=%.6f |m|=%.6f, generator's %.6f %.6f", obs.Energy, obs.AbsMag, e, m)
	}
}

// A Gaussian RBM leaves out the columns that are constant in its training data:
// it trains to the same bits as one trained on the data without them, scores the
// other columns the same, and puts the constant back in samples and means.
func TestConstantColumnsLeftOut(t *testing.T) {
	const n, nv = 200, 6
	x := tensor.New(n, nv)
	s := rng.New(7)
	for i := 0; i < n; i++ {
		a := s.NormFloat64()
		for j := 0; j < nv; j++ {
			x.Set(i, j, float32(a+0.5*s.NormFloat64()+float64(j)))
		}
		x.Set(i, 1, 3) // constant
		x.Set(i, 4, -2)
	}
	kept := []int{0, 2, 3, 5}
	y := tensor.New(n, len(kept))
	for i := 0; i < n; i++ {
		for k, j := range kept {
			y.Set(i, k, x.At(i, j))
		}
	}
	f := DefaultGaussianFlags()
	f.Hidden, f.Batch, f.LearnSigma, f.Momentum = 5, 20, true, 0.5
	fit := func(x *tensor.Mat) *Trainer {
		d := &dataset.Dataset{X: x}
		st := model.NewSettings("grbm", d, "test", "", 3, 4)
		tr, err := model.Lookup("grbm").New(f, d, st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := model.Train(context.Background(), tr, d, st, model.TrainOptions{}); err != nil {
			t.Fatal(err)
		}
		return tr.(*Trainer)
	}
	a, b := fit(x).Model, fit(y).Model
	if a.NumVisible() != 4 || a.DataDim() != nv || b.Keep != nil {
		t.Fatalf("%d visible units of %d columns (Keep %v); without the constants Keep %v", a.NumVisible(), a.DataDim(), a.Keep, b.Keep)
	}
	for k, j := range kept {
		if a.Keep[k] != j {
			t.Fatalf("Keep %v, want %v", a.Keep, kept)
		}
	}
	equalModels(t, "constant columns left out vs deleted", a, b)
	la, err := a.LogLikelihood(context.Background(), x, LogLikOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := b.LogLikelihood(context.Background(), y, LogLikOptions{})
	if la.Mean != lb.Mean || la.Method != "exact" {
		t.Errorf("log-likelihood %v (%s) with the constant columns, %v without", la.Mean, la.Method, lb.Mean)
	}
	smp, mu := a.Sample(SampleConfig{N: 20, Steps: 5, Seed: 1})
	h := a.HiddenProbs(nil, x.Slice(0, 3))
	rec := a.VisibleMean(tensor.New(3, nv), h)
	for _, m := range []*tensor.Mat{smp, mu, rec} {
		if m.Cols != nv {
			t.Fatalf("%d columns, want %d", m.Cols, nv)
		}
		for i := 0; i < m.Rows; i++ {
			if m.At(i, 1) != 3 || m.At(i, 4) != -2 {
				t.Fatalf("row %d: constant columns %v, %v", i, m.At(i, 1), m.At(i, 4))
			}
		}
	}
	// Energy agrees with the free energy: F(x) = −log Σ_h exp(−E(x, h)).
	r := x.Row(0)
	var terms []float64
	for k := 0; k < 1<<a.NumHidden(); k++ {
		hv := make([]float32, a.NumHidden())
		bitsOf(hv, k)
		terms = append(terms, -a.Energy(r, hv))
	}
	if f := a.FreeEnergy(nil, x.Slice(0, 1))[0]; math.Abs(f+logSumExp(terms)) > 1e-4 {
		t.Errorf("F = %v, −log Σ exp(−E) = %v", f, -logSumExp(terms))
	}
	if ms := a.Filters(0); ms.Cols != nv || ms.At(0, 1) != ms.At(0, 4) {
		t.Errorf("filters over the data's columns: %d columns", ms.Cols)
	}
}

func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// The family's other capabilities: hidden probabilities, a summary, pictures,
// and scores with the eval --json keys.
func TestFamilyCapabilities(t *testing.T) {
	bars := barsAndStripes(3)
	d := &dataset.Dataset{X: repeat(bars, 10), Binary: true, Height: 3, Width: 3, Channels: 1}
	f := DefaultFlags()
	f.Hidden, f.Batch, f.PT, f.PictureSteps = 6, 14, 3, 12
	s := model.NewSettings("rbm", d, "bars:3", "", 2, 3)
	tr, err := model.Lookup("rbm").New(f, d, s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Pictures: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pictures) != 2 || r.Last.LossName != "reconstruction_error" {
		t.Errorf("pictures %v, loss %q", r.Pictures, r.Last.LossName)
	}
	for _, p := range r.Pictures {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	names := map[string]bool{}
	for _, m := range r.Last.Metrics {
		names[m.Name] = true
	}
	for _, k := range []string{"monitor_n", "pseudo_log_likelihood", "exact_log_likelihood", "exact_log_z", "swap_rates", "steps"} {
		if !names[k] {
			t.Errorf("epoch metrics lack %s: %v", k, r.Last.Metrics)
		}
	}
	m := tr.(*Trainer)
	h, cols, err := m.Transform(context.Background(), &dataset.Dataset{X: bars})
	if err != nil || h.Rows != bars.Rows || h.Cols != 6 || len(cols) != 6 || cols[5] != "h5" {
		t.Fatalf("Transform: %v %v", cols, err)
	}
	if want := m.Model.HiddenProbs(nil, bars); h.At(3, 2) != want.At(3, 2) {
		t.Errorf("Transform gives %v, HiddenProbs %v", h.At(3, 2), want.At(3, 2))
	}
	desc := map[string]any{}
	for _, x := range m.Describe() {
		desc[x.Name] = x.Value
	}
	if desc["shape"] != "9 visible × 6 hidden" || !strings.HasPrefix(desc["negative phase"].(string), "pt, 3 temperatures") || desc["trained"] != "3 epochs, 30 steps" {
		t.Errorf("Describe: %v", desc)
	}
	est, err := m.Score(context.Background(), &dataset.Dataset{X: bars}, model.ScoreOptions{Seed: 1, Data: "bars:3"})
	if err != nil || est.Method != "exact" || est.N != bars.Rows || len(est.PerExample) != bars.Rows {
		t.Fatalf("Score: %+v %v", est, err)
	}
	var extra []string
	for _, x := range est.Extra {
		extra = append(extra, x.Name)
	}
	if got := strings.Join(extra, " "); got != "visible hidden log_z exact_log_z exact_seconds pseudo_log_likelihood reconstruction_error" {
		t.Errorf("Extra keys: %s", got)
	}
	if est.LogLik > -math.Log(14) {
		t.Errorf("log-likelihood %v above the optimum −log 14", est.LogLik)
	}
	out, err := m.Sample(context.Background(), model.SampleOptions{N: 5, Seed: 1, Label: -1, Family: &SampleFlags{GibbsSteps: 3, Means: true}})
	if err != nil || out.Len() != 5 || out.Binary || out.Height != 3 {
		t.Errorf("Sample: %v", err)
	}
	if got := ChainSteps(1000); len(got) != 4 || got[3] != 1000 || ChainSteps(1)[0] != 1 || len(ChainSteps(250)) != 4 {
		t.Errorf("ChainSteps: %v %v %v", got, ChainSteps(1), ChainSteps(250))
	}
}

// The demo steps run and write their files.
func TestDemos(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three RBMs")
	}
	dir := t.TempDir()
	var lines []string
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(s string) { lines = append(lines, s) }})
	for _, d := range model.Demos() {
		if !strings.HasPrefix(d.Name, "rbm:") {
			continue
		}
		if err := d.Run(ctx, dir, 1); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
	}
	for _, name := range []string{"rbm-bars.ckpt", "rbm-bars-filters.png", "rbm-bars-samples.png", "rbm-ising-T1.8-samples.png", "rbm-ising-T3-samples.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	f, err := checkpoint.Load(filepath.Join(dir, "rbm-bars.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, s, err := model.Load(f); err != nil || s.Flags["pt"] != "5" || s.Flags["schedule"] != "linear" || s.EpochsDone != 150 {
		t.Errorf("the bars model's settings: %+v, %v", s, err)
	}
	if len(lines) != 3 {
		t.Errorf("demo lines: %q", lines)
	}
	for _, l := range lines {
		t.Log(l)
	}
}
