package rbm

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
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
		tr, err := NewTrainer(work, Config{K: k, BatchSize: 50, LearningRate: 1, Seed: uint64(k)})
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
		tr, err := NewTrainer(work, Config{Method: method, BatchSize: 64, LearningRate: 1e-30, Temperatures: 6, Seed: 2})
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

// runFamily trains a new model of the family name (flags f) on d through
// model.Train for epochs epochs, saving to out after every epoch; cancel, when
// positive, interrupts the run after that many epochs, as SIGINT does.
func runFamily(t *testing.T, name string, f any, d *dataset.Dataset, binarize string, epochs int, out string, cancel int) error {
	t.Helper()
	s := model.NewSettings(name, d, "test", binarize, 77, epochs)
	tr, err := model.Lookup(name).New(f, d, s)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := 0
	ctx = model.WithProgress(ctx, model.Progress{Log: func(string) {
		if done++; done == cancel {
			stop()
		}
	}})
	_, err = model.Train(ctx, tr, d, s, model.TrainOptions{Out: out})
	return err
}

// resumeFile loads the model file path, sets its total epochs and trains it on d
// to the end, saving to path.
func resumeFile(t *testing.T, path string, d *dataset.Dataset, epochs int) {
	t.Helper()
	f, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, s, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	s.Epochs = epochs
	if _, err := model.Train(context.Background(), m.(model.Trainer), d, s, model.TrainOptions{Out: path}); err != nil {
		t.Fatal(err)
	}
}

func sameFiles(t *testing.T, what, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !bytes.Equal(x, y) {
		t.Errorf("%s: the model files differ (%d and %d bytes)", what, len(x), len(y))
	}
}

// A run interrupted after 2 of 4 epochs and resumed from its file writes the same
// bytes as the run that was not interrupted, for every sampler, dynamic
// binarisation, a linear schedule and a Gaussian RBM with learned σ and a constant
// column; and a run of 2 epochs extended to 4 does too (constant schedule). The files
// hold no clock time, so two identical runs give identical files.
func TestResumeBitForBit(t *testing.T) {
	bin := &dataset.Dataset{X: repeat(barsAndStripes(3), 7), Binary: true}
	probs := &dataset.Dataset{X: bin.X.Clone()}
	for i := range probs.X.Data {
		probs.X.Data[i] = 0.1 + 0.8*probs.X.Data[i]
	}
	g := tensor.New(90, 5)
	rng.New(9).FillNormal(g.Data, 2, 3)
	for i := 0; i < g.Rows; i++ {
		g.Set(i, 3, 1.5) // a constant column, left out of the model
	}
	gdata := &dataset.Dataset{X: g}
	flags := func(mod func(*Flags)) *Flags {
		f := DefaultFlags()
		f.Hidden, f.Batch = 7, 16
		mod(f)
		return f
	}
	gf := DefaultGaussianFlags()
	gf.Hidden, gf.Batch, gf.LearnSigma, gf.Momentum = 7, 16, true, 0.5
	cases := []struct {
		name, family, binarize string
		flags                  any
		d                      *dataset.Dataset
	}{
		{"cd2-linear", "rbm", "", flags(func(f *Flags) { f.CD, f.Momentum, f.L2, f.Schedule = 2, 0.9, 1e-3, "linear" }), bin},
		{"pcd", "rbm", "", flags(func(f *Flags) { f.PCD, f.Momentum = true, 0.5 }), bin},
		{"pcd-centred", "rbm", "", flags(func(f *Flags) { f.PCD, f.Momentum, f.L2, f.Center = true, 0.5, 1e-3, 0.05 }), bin},
		{"pt", "rbm", "", flags(func(f *Flags) { f.PT = 4 }), bin},
		{"dense", "rbm", "", flags(func(f *Flags) { f.Dense = true }), bin},
		{"dynamic", "rbm", "dynamic", flags(func(f *Flags) {}), probs},
		{"grbm", "grbm", "", gf, gdata},
	}
	dir := t.TempDir()
	for _, c := range cases {
		whole := filepath.Join(dir, c.name+"-whole.model")
		if err := runFamily(t, c.family, c.flags, c.d, c.binarize, 4, whole, 0); err != nil {
			t.Fatal(err)
		}
		again := filepath.Join(dir, c.name+"-again.model")
		if err := runFamily(t, c.family, c.flags, c.d, c.binarize, 4, again, 0); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, c.name+": two identical runs", whole, again)
		cut := filepath.Join(dir, c.name+"-cut.model")
		if err := runFamily(t, c.family, c.flags, c.d, c.binarize, 4, cut, 2); err == nil || !strings.Contains(err.Error(), "stopped before epoch 3") {
			t.Fatalf("%s: interrupted run: %v", c.name, err)
		}
		resumeFile(t, cut, c.d, 4)
		sameFiles(t, c.name+": interrupted after 2 epochs and resumed", whole, cut)
		if c.name == "pcd" {
			short := filepath.Join(dir, c.name+"-short.model")
			if err := runFamily(t, c.family, c.flags, c.d, c.binarize, 2, short, 0); err != nil {
				t.Fatal(err)
			}
			resumeFile(t, short, c.d, 4)
			sameFiles(t, c.name+": 2 epochs extended to 4", whole, short)
		}
	}
	// The Gaussian RBM left the constant column out and restores it in samples.
	f, err := checkpoint.Load(filepath.Join(dir, "grbm-whole.model"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumVisible() != 4 || m.DataDim() != 5 || len(m.Keep) != 4 || m.Keep[3] != 4 {
		t.Errorf("grbm on 5 columns, one constant: %d visible units of %d columns, Keep %v", m.NumVisible(), m.DataDim(), m.Keep)
	}
}

// Same seed, same numbers, whatever the number of workers: parallel
// tempering, and centring's passes over the rows and column blocks of the
// update (100 hidden units: two column blocks).
func TestTrainingIndependentOfWorkers(t *testing.T) {
	data := repeat(barsAndStripes(4), 10)
	defer tensor.SetWorkers(0)
	for _, c := range []struct {
		name string
		nh   int
		cfg  Config
	}{
		{"pt", 12, Config{Method: PT, Temperatures: 3, K: 2, BatchSize: 32, Seed: 5}},
		{"centred", 100, Config{Method: PCD, BatchSize: 32, Momentum: 0.5, Center: 0.1, Seed: 5}},
	} {
		var models []*RBM
		for _, w := range []int{1, 2, 3} {
			tensor.SetWorkers(w)
			m, tr := trainNew(t, Bernoulli, c.nh, data, c.cfg)
			train(t, tr, data, 2)
			models = append(models, m)
		}
		equalModels(t, c.name+", workers 1 vs 2", models[0], models[1])
		equalModels(t, c.name+", workers 1 vs 3", models[0], models[2])
	}
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
		{Bernoulli, bin, Config{Method: PCD, BatchSize: 32, Momentum: 0.5, Center: 0.01}},
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

// poisoned is a Trainer whose hidden bias c[2] turns NaN during epoch at (0-based).
type poisoned struct {
	*Trainer
	at int
}

func (p poisoned) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	st, err := p.Trainer.Epoch(ctx, e)
	if e.Index == p.at {
		p.Model.C[2] = float32(math.NaN())
	}
	return st, err
}

// Divergence stops training with an error naming the epoch and the parameter, and
// the model file keeps the last good epoch: a NaN that appears in epoch 3, and
// weights a learning rate of 1e30 blows past MaxParam in epoch 1 (while finite, as
// issue 13 found: such a run used to finish with a log-likelihood of −3e30).
func TestDivergenceNamesEpoch(t *testing.T) {
	data := &dataset.Dataset{X: repeat(barsAndStripes(3), 4), Binary: true}
	dir := t.TempDir()
	f := DefaultFlags()
	f.Hidden, f.Batch = 5, 4
	s := model.NewSettings("rbm", data, "test", "", 1, 5)
	tr, err := model.Lookup("rbm").New(f, data, s)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "nan.model")
	_, err = model.Train(context.Background(), poisoned{tr.(*Trainer), 2}, data, s, model.TrainOptions{Out: out})
	if err == nil || !strings.HasPrefix(err.Error(), "epoch 3: ") || !strings.Contains(err.Error(), "c[2] = NaN") ||
		!strings.Contains(err.Error(), "keeps the model after epoch 2") {
		t.Fatalf("NaN in c during epoch 3: %v", err)
	}
	t.Log(err)
	g, err := checkpoint.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	m, saved, err := model.Load(g)
	if err != nil {
		t.Fatal(err)
	}
	if saved.EpochsDone != 2 || m.(*Trainer).Epochs() != 2 || math.IsNaN(float64(m.(*Trainer).Model.C[2])) {
		t.Errorf("the file holds epoch %d (trainer %d), c[2] = %v", saved.EpochsDone, m.(*Trainer).Epochs(), m.(*Trainer).Model.C[2])
	}

	f.LR, f.Momentum = 1e30, 0.9
	s = model.NewSettings("rbm", data, "test", "", 1, 5)
	if tr, err = model.Lookup("rbm").New(f, data, s); err != nil {
		t.Fatal(err)
	}
	_, err = model.Train(context.Background(), tr, data, s, model.TrainOptions{Out: filepath.Join(dir, "lr.model")})
	if err == nil || !strings.HasPrefix(err.Error(), "epoch 1: ") || !strings.Contains(err.Error(), "diverged") {
		t.Fatalf("training with lr 1e30: %v", err)
	}
	t.Log(err)
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
	m, tr := trainNew(t, Gaussian, 8, x, Config{K: 1, BatchSize: 50, LearningRate: 0.01, Momentum: 0.5, LearnSigma: true, Seed: 1})
	lz0, _ := m.ExactLogZ()
	ll0 := m.MeanLogProb(x, lz0)
	train(t, tr, x, 30)
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

// The steps of an epoch do not allocate: a warm epoch of 40 steps through the
// driver allocates a fixed handful of times (the driver's and the Stats'), on the
// sparse path (batches gathered from the data's sparse form by index) and for a
// Gaussian RBM with a constant column left out.
func TestWarmEpochAllocs(t *testing.T) {
	defer tensor.SetWorkers(0)
	tensor.SetWorkers(1)
	g := tensor.New(400, 6)
	rng.New(2).FillNormal(g.Data, 0, 1)
	for i := 0; i < g.Rows; i++ {
		g.Set(i, 2, 7)
	}
	for _, c := range []struct {
		name string
		vis  Visible
		data *tensor.Mat
	}{
		{"sparse", Bernoulli, sparseData(400, 60, 0.1, 3)},
		{"grbm", Gaussian, g},
	} {
		_, tr := trainNew(t, c.vis, 8, c.data, Config{BatchSize: 10, Seed: 1})
		d := &dataset.Dataset{X: c.data}
		s := &model.Settings{Model: tr.Kind(), Seed: 1, Epochs: 1}
		if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
			t.Fatal(err)
		}
		if c.vis == Bernoulli && tr.dataCSR == nil {
			t.Fatalf("%s: no sparse form of the data", c.name)
		}
		a := testing.AllocsPerRun(3, func() {
			s.Epochs++
			plain := struct{ model.Trainer }{tr} // the epoch, without Report's figures
			if _, err := model.Train(context.Background(), plain, d, s, model.TrainOptions{}); err != nil {
				t.Fatal(err)
			}
		})
		if a > 20 {
			t.Errorf("%s: %.0f allocations per warm epoch of 40 steps", c.name, a)
		}
		t.Logf("%s: %.0f allocations per warm epoch of 40 steps", c.name, a)
	}
}
