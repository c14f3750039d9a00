package rbm

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// exactGradW returns ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model with h in expectation, the model term by
// enumerating v.
func exactGradW(m *RBM, data *tensor.Mat) []float64 {
	nv, nh := m.NumVisible(), m.NumHidden()
	g := make([]float64, nv*nh)
	acc := func(x *tensor.Mat, weight []float64, sign float64) {
		ph := m.HiddenProbs(nil, x)
		for n := 0; n < x.Rows; n++ {
			for i, v := range x.Row(n) {
				for j, p := range ph.Row(n) {
					g[i*nh+j] += sign * weight[n] * float64(v) * float64(p)
				}
			}
		}
	}
	w := make([]float64, data.Rows)
	for i := range w {
		w[i] = 1 / float64(data.Rows)
	}
	acc(data, w, 1)
	all := allStates(nv)
	lz, _ := m.ExactLogZ()
	f := m.FreeEnergy(nil, all)
	p := make([]float64, all.Rows)
	for i := range p {
		p[i] = math.Exp(-f[i] - lz)
	}
	acc(all, p, -1)
	return g
}

// The expected CD-k update approaches the exact log-likelihood gradient as k grows
// (Carreira-Perpiñán & Hinton 2005; Bengio & Delalleau 2009): its bias decays with the
// mixing of the Gibbs chain. The expectation is a Monte Carlo mean over repeated
// updates (lr = 1, no momentum, parameters restored each time).
func TestCDkGradientApproachesExact(t *testing.T) {
	m := randomRBM(t, Bernoulli, 6, 4, 1.5, 12)
	data := tensor.New(50, 6)
	s := rng.New(4)
	for i := 0; i < data.Rows; i++ { // data: noisy copies of two patterns
		for j := range data.Row(i) {
			b := float32((i%2 + j) % 2)
			if s.Float64() < 0.1 {
				b = 1 - b
			}
			data.Set(i, j, b)
		}
	}
	exact := exactGradW(m, data)
	reps := 400
	if testing.Short() {
		reps = 100
	}
	var errs []float64
	ks := []int{1, 3, 10, 40}
	for _, k := range ks {
		work := m.Clone()
		tr, err := NewTrainer(work, data, Config{K: k, BatchSize: 50, LearningRate: 1, Seed: uint64(k)})
		if err != nil {
			t.Fatal(err)
		}
		mean := make([]float64, len(exact))
		for r := 0; r < reps; r++ {
			tr.Update(data.Clone())
			for i, v := range tr.vW.Data {
				mean[i] += float64(v) / float64(reps)
			}
			copy(work.W.Data, m.W.Data)
			copy(work.B, m.B)
			copy(work.C, m.C)
			tr.vW.Zero()
		}
		var e float64
		for i := range mean {
			e += (mean[i] - exact[i]) * (mean[i] - exact[i])
		}
		errs = append(errs, math.Sqrt(e))
	}
	t.Logf("‖E[ΔW_CD-k] − ∇W‖ for k = %v: %.4f", ks, errs)
	// Monte Carlo noise of the mean: each entry has sd ≤ 0.5/√(50·reps) → the norm over
	// 24 entries ≤ 0.5·√24/√(50·reps) ≈ 0.017 at reps = 400 (0.035 at 100).
	noise := 0.5 * math.Sqrt(24) / math.Sqrt(50*float64(reps))
	if !(errs[0] > errs[1] && errs[1] > errs[2]) {
		t.Errorf("CD-k gradient error does not decrease with k: %v", errs)
	}
	if errs[3] > 2*noise {
		t.Errorf("CD-40 gradient error %.4f > 2× Monte Carlo noise %.4f", errs[3], noise)
	}
	if errs[0] < 4*noise {
		t.Errorf("test has no power: CD-1 bias %.4f is within noise %.4f", errs[0], noise)
	}
}

// exactMarginal returns p(v) over all 2^nv states.
func exactMarginal(m *RBM) []float64 {
	all := allStates(m.NumVisible())
	lz, _ := m.ExactLogZ()
	f := m.FreeEnergy(nil, all)
	p := make([]float64, len(f))
	for i := range p {
		p[i] = math.Exp(-f[i] - lz)
	}
	return p
}

func stateIndex(v []float32) int {
	k := 0
	for i, x := range v {
		if x != 0 {
			k |= 1 << i
		}
	}
	return k
}

// The persistent chains of PCD and of PT (its β = 1 replica) sample the model: with a
// learning rate too small to change float32 weights, their visible histogram must match
// the exact marginal.
func TestPersistentChainsSampleTheModel(t *testing.T) {
	m := randomRBM(t, Bernoulli, 6, 4, 2.5, 13) // strong weights: multimodal
	p := exactMarginal(m)
	data := allStates(6)
	steps := 1500
	if testing.Short() {
		steps = 400
	}
	for _, method := range []Method{PCD, PT} {
		work := m.Clone()
		tr, err := NewTrainer(work, data, Config{Method: method, BatchSize: 64, LearningRate: 1e-30, Temperatures: 6, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		hist := make([]float64, len(p))
		n := 0
		for s := 0; s < steps; s++ {
			tr.Update(data.Clone())
			if s < 50 {
				continue
			}
			for i := 0; i < 64; i++ {
				hist[stateIndex(tr.chainV[0].Row(i))]++
				n++
			}
		}
		var tv float64
		for i := range p {
			tv += math.Abs(hist[i]/float64(n)-p[i]) / 2
		}
		if w := work.W.Data[0]; w != m.W.Data[0] {
			t.Fatalf("weights moved (%g → %g)", m.W.Data[0], w)
		}
		if tv > 0.05 {
			t.Errorf("%v chains: total variation %.4f from the exact marginal", method, tv)
		}
		t.Logf("%v: TV %.4f (n = %d)", method, tv, n)
	}
}

func equalModels(t *testing.T, what string, a, b *RBM) {
	t.Helper()
	for _, p := range []struct {
		n    string
		x, y []float32
	}{{"W", a.W.Data, b.W.Data}, {"b", a.B, b.B}, {"c", a.C, b.C}, {"log σ", a.LogSigma, b.LogSigma}} {
		if len(p.x) != len(p.y) {
			t.Fatalf("%s: %s lengths %d, %d", what, p.n, len(p.x), len(p.y))
		}
		for i := range p.x {
			if math.Float32bits(p.x[i]) != math.Float32bits(p.y[i]) {
				t.Fatalf("%s: %s[%d] = %v vs %v", what, p.n, i, p.x[i], p.y[i])
			}
		}
	}
}

// Training 4 epochs equals training 2, saving to disk, loading and training 2 more,
// bit for bit, for every sampler and for a Gaussian RBM with learned σ.
func TestResumeBitForBit(t *testing.T) {
	bin := repeat(barsAndStripes(3), 7)
	gdata := tensor.New(90, 5)
	rng.New(9).FillNormal(gdata.Data, 2, 3)
	cases := []struct {
		name string
		vis  Visible
		data *tensor.Mat
		cfg  Config
	}{
		{"cd2", Bernoulli, bin, Config{K: 2, BatchSize: 16, Momentum: 0.9, WeightDecay: 1e-3, Schedule: LinearDecay}},
		{"pcd", Bernoulli, bin, Config{Method: PCD, BatchSize: 16, Momentum: 0.5}},
		{"pt", Bernoulli, bin, Config{Method: PT, Temperatures: 4, BatchSize: 16}},
		{"dynamic", Bernoulli, bin, Config{BatchSize: 16, DynamicBinarize: true}},
		{"grbm", Gaussian, gdata, Config{BatchSize: 16, LearnSigma: true, Momentum: 0.5}},
	}
	for _, c := range cases {
		c.cfg.Epochs, c.cfg.Seed = 4, 77
		ref, tr := trainNew(t, c.vis, 7, c.data, c.cfg)
		for !tr.Done() {
			if _, err := tr.TrainEpoch(); err != nil {
				t.Fatal(err)
			}
		}
		_, tr2 := trainNew(t, c.vis, 7, c.data, c.cfg)
		for i := 0; i < 2; i++ {
			if _, err := tr2.TrainEpoch(); err != nil {
				t.Fatal(err)
			}
		}
		var f checkpoint.File
		if err := tr2.Save(&f, map[string]string{"data": "test"}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), c.name+".ckpt")
		if err := checkpoint.Save(path, &f); err != nil {
			t.Fatal(err)
		}
		g, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		tr3, err := LoadTrainer(g, c.data, 0)
		if err != nil {
			t.Fatal(err)
		}
		if tr3.Epochs() != 2 || tr3.Done() {
			t.Fatalf("%s: resumed at epoch %d", c.name, tr3.Epochs())
		}
		for !tr3.Done() {
			if _, err := tr3.TrainEpoch(); err != nil {
				t.Fatal(err)
			}
		}
		equalModels(t, c.name, ref, tr3.Model)
		if Info(g)["data"] != "test" {
			t.Errorf("info not kept: %v", Info(g))
		}
		// Model-only load gives the same parameters.
		m2, err := Load(g)
		if err != nil {
			t.Fatal(err)
		}
		if m2.Visible != c.vis || m2.W.At(1, 2) != tr2.Model.W.At(1, 2) {
			t.Errorf("%s: Load gave a different model", c.name)
		}
	}
	// Other data is refused.
	var f checkpoint.File
	_, tr := trainNew(t, Bernoulli, 3, bin, Config{Epochs: 1})
	tr.Save(&f, nil)
	other := bin.Clone()
	other.Set(0, 0, 1-other.At(0, 0))
	if _, err := LoadTrainer(&f, other, 0); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("resume on other data: %v", err)
	}
}

// Same seed, same numbers, whatever the number of workers.
func TestTrainingIndependentOfWorkers(t *testing.T) {
	data := repeat(barsAndStripes(4), 10)
	defer tensor.SetWorkers(0)
	var models []*RBM
	for _, w := range []int{1, 2, 3} {
		tensor.SetWorkers(w)
		m, tr := trainNew(t, Bernoulli, 12, data, Config{Method: PT, Temperatures: 3, K: 2, BatchSize: 32, Epochs: 2, Seed: 5})
		for !tr.Done() {
			tr.TrainEpoch()
		}
		models = append(models, m)
	}
	equalModels(t, "workers 1 vs 2", models[0], models[1])
	equalModels(t, "workers 1 vs 3", models[0], models[2])
}

func TestWarmStepDoesNotAllocate(t *testing.T) {
	defer tensor.SetWorkers(0)
	tensor.SetWorkers(1)
	bin := repeat(barsAndStripes(4), 4)
	g := tensor.New(64, 10)
	rng.New(1).FillNormal(g.Data, 0, 1)
	for _, c := range []struct {
		vis  Visible
		data *tensor.Mat
		cfg  Config
	}{
		{Bernoulli, bin, Config{K: 2, BatchSize: 32, WeightDecay: 1e-4, Momentum: 0.5}},
		{Bernoulli, bin, Config{Method: PCD, BatchSize: 32}},
		{Bernoulli, bin, Config{Method: PT, Temperatures: 4, BatchSize: 32}},
		{Gaussian, g, Config{BatchSize: 32, LearnSigma: true}},
	} {
		_, tr := trainNew(t, c.vis, 8, c.data, c.cfg)
		batch := c.data.Slice(0, 32).Clone()
		tr.Update(batch)
		if a := testing.AllocsPerRun(20, func() { tr.Update(batch) }); a != 0 {
			t.Errorf("%v %v: %.1f allocations per warm step", c.vis, c.cfg.Method, a)
		}
	}
}

func TestDivergenceNamesEpoch(t *testing.T) {
	data := repeat(barsAndStripes(3), 4)
	// A learning rate far too large drives the weights to ±Inf and then NaN.
	_, tr := trainNew(t, Bernoulli, 5, data, Config{LearningRate: 1e38, Momentum: 0.9, Epochs: 100})
	var err error
	for !tr.Done() && err == nil {
		_, err = tr.TrainEpoch()
	}
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("diverged in epoch %d", tr.Epochs())) {
		t.Fatalf("training with lr 1e38: %v, want a divergence error naming epoch %d", err, tr.Epochs())
	}
	t.Log(err)
	// A NaN that appears during epoch 3 is reported as epoch 3.
	m, tr := trainNew(t, Bernoulli, 5, data, Config{Epochs: 5})
	for i := 0; i < 2; i++ {
		if _, err := tr.TrainEpoch(); err != nil {
			t.Fatal(err)
		}
	}
	m.C[2] = float32(math.NaN())
	if _, err := tr.TrainEpoch(); err == nil || !strings.Contains(err.Error(), "diverged in epoch 3") {
		t.Errorf("NaN in c during epoch 3: %v", err)
	}
}

// A Gaussian RBM on correlated 2-D Gaussian data (ρ = 0.8) must gain log-likelihood
// over the independent fit it starts from (the W = 0 model is the product of the
// per-column normals): the ceiling is the data's entropy gap −½log(1−ρ²) = 0.51 nats.
// σ must be learned: with σ = 1 the model is a mixture of unit-variance Gaussians,
// whose variance cannot drop below 1 along the data's minor axis (variance 0.2).
func TestGaussianRBMLearnsCorrelation(t *testing.T) {
	n := 4000
	x := tensor.New(n, 2)
	s := rng.New(3)
	for i := 0; i < n; i++ {
		a, b := s.NormFloat64(), s.NormFloat64()
		x.Set(i, 0, float32(3+2*a))
		x.Set(i, 1, float32(-1+0.5*(0.8*a+0.6*b)))
	}
	m, tr := trainNew(t, Gaussian, 8, x, Config{K: 1, BatchSize: 50, LearningRate: 0.01, Momentum: 0.5, LearnSigma: true, Epochs: 30, Seed: 1})
	lz0, _ := m.ExactLogZ()
	ll0 := m.MeanLogProb(x, lz0)
	for !tr.Done() {
		if _, err := tr.TrainEpoch(); err != nil {
			t.Fatal(err)
		}
	}
	lz, _ := m.ExactLogZ()
	ll := m.MeanLogProb(x, lz)
	// Independent normals with the sample moments: −Σ_i (½log(2πe) + log std_i).
	indep := -math.Log(2*math.Pi*math.E) - math.Log(float64(m.Std[0])) - math.Log(float64(m.Std[1]))
	t.Logf("GRBM LL: init %.4f, trained %.4f, independent fit %.4f, true-model ceiling %.4f", ll0, ll, indep, indep+0.51)
	if math.Abs(ll0-indep) > 0.01 {
		t.Errorf("initial GRBM LL %.4f, want the independent fit's %.4f", ll0, indep)
	}
	if ll < indep+0.25 || ll > indep+0.55 {
		t.Errorf("trained GRBM LL %.4f, want between %.4f and %.4f", ll, indep+0.25, indep+0.55)
	}
}
