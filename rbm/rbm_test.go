package rbm

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func randomRBM(t testing.TB, vis Visible, nv, nh int, scale float32, seed uint64) *RBM {
	m, err := New(vis, nv, nh)
	if err != nil {
		t.Fatal(err)
	}
	s := rng.New(seed)
	s.FillNormal(m.W.Data, 0, scale)
	s.FillNormal(m.B, 0, 0.5)
	s.FillNormal(m.C, 0, 0.5)
	if vis == Gaussian {
		s.FillNormal(m.LogSigma, 0, 0.3)
		s.FillNormal(m.Mean, 1, 2)
		for i := range m.Std {
			m.Std[i] = 0.5 + s.Float32()
		}
	}
	return m
}

func bitsOf(dst []float32, x int) {
	for i := range dst {
		dst[i] = float32(x >> i & 1)
	}
}

// allStates returns the 2^n binary vectors as rows.
func allStates(n int) *tensor.Mat {
	x := tensor.New(1<<n, n)
	for a := 0; a < 1<<n; a++ {
		bitsOf(x.Row(a), a)
	}
	return x
}

func TestFreeEnergyBruteForce(t *testing.T) {
	for _, vis := range []Visible{Bernoulli, Gaussian} {
		m := randomRBM(t, vis, 6, 4, 1, 2)
		x := allStates(6)
		if vis == Gaussian { // arbitrary real inputs
			rng.New(5).FillNormal(x.Data, 0.5, 2)
		}
		f := m.FreeEnergy(nil, x)
		h := make([]float32, 4)
		tol := 1e-9
		if vis == Gaussian {
			tol = 1e-6 // z = (x − mean)/std is rounded to float32
		}
		for n := 0; n < x.Rows; n++ {
			var terms []float64
			for b := 0; b < 16; b++ {
				bitsOf(h, b)
				terms = append(terms, -m.Energy(x.Row(n), h))
			}
			if want := -tensor.LogSumExp64(terms); math.Abs(f[n]-want) > tol*max(1, math.Abs(want)) {
				t.Fatalf("%v: F(x_%d) = %.12g, −log Σ_h exp(−E) = %.12g", vis, n, f[n], want)
			}
		}
	}
}

func TestBernoulliLogProbSumsToOne(t *testing.T) {
	m := randomRBM(t, Bernoulli, 10, 8, 1, 3)
	lz, err := m.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	x := allStates(10)
	f := m.FreeEnergy(nil, x)
	var s float64
	for _, v := range f {
		s += math.Exp(-v - lz)
	}
	if math.Abs(s-1) > 1e-9 {
		t.Errorf("Σ_v p(v) = %.12g, want 1", s)
	}
	// MeanLogProb is the mean of −F − log Z.
	var want float64
	for _, v := range f {
		want += -v - lz
	}
	want /= float64(len(f))
	if got := m.MeanLogProb(x, lz); math.Abs(got-want) > 1e-9 {
		t.Errorf("MeanLogProb = %.12g, want %.12g", got, want)
	}
}

// A Gaussian RBM's exact log Z (closed-form Gaussian integral over v) and its density
// in data units, against numerical integration on a grid (nv = 2).
func TestGaussianLogZQuadrature(t *testing.T) {
	m := randomRBM(t, Gaussian, 2, 3, 0.8, 4)
	lz, err := m.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	// ∫∫ p(x) dx over data units: Riemann sum of exp(MeanLogProb) over a fine grid.
	const step = 0.02
	var xs []float32
	lo0, lo1 := m.Mean[0]-12*m.Std[0], m.Mean[1]-12*m.Std[1]
	n0, n1 := int(24*m.Std[0]/step), int(24*m.Std[1]/step)
	for a := 0; a < n0; a++ {
		for b := 0; b < n1; b++ {
			xs = append(xs, lo0+float32(a)*step, lo1+float32(b)*step)
		}
	}
	x := tensor.FromSlice(len(xs)/2, 2, xs)
	f := m.FreeEnergy(nil, x)
	var total float64
	jac := math.Log(float64(m.Std[0])) + math.Log(float64(m.Std[1]))
	for _, v := range f {
		total += math.Exp(-v-lz-jac) * step * step
	}
	if math.Abs(total-1) > 1e-3 {
		t.Errorf("∫ p(x) dx = %.6f over the grid, want 1 (log Z = %.6f)", total, lz)
	}
}

// With W = 0 the Gaussian RBM is a product of N(b_i, σ_i²) on z: check log p against
// the closed form.
func TestGaussianIndependentClosedForm(t *testing.T) {
	m := randomRBM(t, Gaussian, 3, 2, 0, 6)
	lz, _ := m.ExactLogZ()
	x := tensor.FromSlice(1, 3, []float32{0.3, -1.2, 2.5})
	got := m.MeanLogProb(x, lz)
	var want float64
	for i, xi := range x.Row(0) {
		z := (float64(xi) - float64(m.Mean[i])) / float64(m.Std[i])
		sg := math.Exp(float64(m.LogSigma[i]))
		d := (z - float64(m.B[i])) / sg
		want += -d*d/2 - math.Log(sg) - 0.5*math.Log(2*math.Pi) - math.Log(float64(m.Std[i]))
	}
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("log p(x) = %.9f, closed form %.9f", got, want)
	}
}

func TestPseudoLikelihoodBruteForce(t *testing.T) {
	m := randomRBM(t, Bernoulli, 6, 4, 1, 8)
	x := allStates(6).Slice(5, 40)
	got, err := m.PseudoLogLikelihood(x)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	flip := make([]float32, 6)
	for n := 0; n < x.Rows; n++ {
		v := x.Row(n)
		fv := m.FreeEnergy(nil, tensor.FromSlice(1, 6, append([]float32(nil), v...)))[0]
		for i := range v {
			copy(flip, v)
			flip[i] = 1 - flip[i]
			ff := m.FreeEnergy(nil, tensor.FromSlice(1, 6, flip))[0]
			want += -fv - tensor.LogSumExp64([]float64{-fv, -ff})
		}
	}
	want /= float64(x.Rows)
	if math.Abs(got-want) > 1e-5 { // float32 softplus terms, float64 sums
		t.Errorf("PL = %.12g, brute force %.12g", got, want)
	}
}

func TestReconstructionErrorByHand(t *testing.T) {
	m := randomRBM(t, Bernoulli, 3, 2, 1, 9)
	x := tensor.FromSlice(2, 3, []float32{1, 0, 1, 0, 0, 1})
	var want float64
	for n := 0; n < 2; n++ {
		v := x.Row(n)
		h := make([]float64, 2)
		for j := range h {
			s := float64(m.C[j])
			for i := range v {
				s += float64(v[i]) * float64(m.W.At(i, j))
			}
			h[j] = 1 / (1 + math.Exp(-s))
		}
		for i := range v {
			s := float64(m.B[i])
			for j := range h {
				s += h[j] * float64(m.W.At(i, j))
			}
			d := float64(v[i]) - 1/(1+math.Exp(-s))
			want += d * d
		}
	}
	if got := m.ReconstructionError(x); math.Abs(got-want/2) > 1e-6 {
		t.Errorf("reconstruction error %.8f, by hand %.8f", got, want/2)
	}
}

func TestNewAndConfigErrors(t *testing.T) {
	if _, err := New(Bernoulli, 4, 0); err == nil || !strings.Contains(err.Error(), "hidden") || !strings.Contains(err.Error(), "0") {
		t.Errorf("New with 0 hidden: %v", err)
	}
	m := randomRBM(t, Bernoulli, 4, 3, 0.1, 1)
	data := allStates(4)
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{K: -1}, "K"},
		{Config{LearningRate: math.NaN()}, "LearningRate"},
		{Config{LearningRate: -0.1}, "LearningRate"},
		{Config{BatchSize: -5}, "BatchSize"},
		{Config{Momentum: 1}, "Momentum"},
		{Config{WeightDecay: -1}, "WeightDecay"},
		{Config{Method: PT, Temperatures: 1}, "Temperatures"},
		{Config{LearnSigma: true}, "LearnSigma"},
	}
	for _, c := range cases {
		if _, err := NewTrainer(m, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewTrainer(%+v): error %v, want one naming %s", c.cfg, err, c.want)
		}
	}
	tr, err := NewTrainer(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	bad := data.Clone()
	bad.Set(3, 2, 0.5)
	if err := tr.SetData(bad, false); err == nil || !strings.Contains(err.Error(), "binary") || !strings.Contains(err.Error(), "0.5") {
		t.Errorf("non-binary data: %v", err)
	}
	if err := tr.SetData(bad, true); err != nil {
		t.Errorf("dynamic binarisation of [0,1] data: %v", err)
	}
	bad.Set(3, 2, 1.5)
	if err := tr.SetData(bad, true); err == nil || !strings.Contains(err.Error(), "[0, 1]") {
		t.Errorf("dynamic binarisation of 1.5: %v", err)
	}
	g, _ := New(Gaussian, 3, 2)
	x := tensor.FromSlice(3, 3, []float32{1, 2, 3, 1, 2, 3, 1, 2, 3})
	if err := g.InitFromData(x, rng.New(1)); err == nil || !strings.Contains(err.Error(), "every column") {
		t.Errorf("Gaussian RBM on constant columns only: %v", err)
	}
}

// barsAndStripes returns all 2^(n+1)−2 distinct n×n bars-and-stripes patterns.
func barsAndStripes(n int) *tensor.Mat {
	var rows [][]float32
	seen := map[string]bool{}
	for vert := 0; vert < 2; vert++ {
		for mask := 0; mask < 1<<n; mask++ {
			r := make([]float32, n*n)
			for y := 0; y < n; y++ {
				for x := 0; x < n; x++ {
					k := y
					if vert == 1 {
						k = x
					}
					r[y*n+x] = float32(mask >> k & 1)
				}
			}
			key := string(rune(0))
			for _, v := range r {
				key += string(rune('0' + int(v)))
			}
			if !seen[key] {
				seen[key] = true
				rows = append(rows, r)
			}
		}
	}
	x := tensor.New(len(rows), n*n)
	for i, r := range rows {
		copy(x.Row(i), r)
	}
	return x
}

// repeat stacks k copies of x.
func repeat(x *tensor.Mat, k int) *tensor.Mat {
	y := tensor.New(x.Rows*k, x.Cols)
	for i := 0; i < y.Rows; i++ {
		copy(y.Row(i), x.Row(i%x.Rows))
	}
	return y
}

// trainNew returns a new RBM initialised on data and a trainer for it that has
// been given data (SetData).
func trainNew(t testing.TB, vis Visible, nh int, data *tensor.Mat, cfg Config) (*RBM, *Trainer) {
	m, err := New(vis, data.Cols, nh)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.InitFromData(data, rng.New(cfg.Seed)); err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SetData(data, false); err != nil {
		t.Fatal(err)
	}
	return m, tr
}

// train runs tr on data through model.Train (the driver's shuffle, seeded by the
// trainer's seed) until it has trained epochs epochs in all, and returns the last
// epoch's statistics.
func train(t testing.TB, tr *Trainer, data *tensor.Mat, epochs int) model.Stats {
	t.Helper()
	s := &model.Settings{Model: tr.Kind(), Data: "test", Seed: tr.cfg.Seed, Epochs: epochs, EpochsDone: tr.Epochs()}
	r, err := model.Train(context.Background(), tr, &dataset.Dataset{X: data}, s, model.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Last
}

// Training on 3×3 bars-and-stripes (14 patterns) must move the exact log-likelihood
// from the base-rate model's towards the optimum −log 14 = −2.639.
func TestTrainBarsAndStripesExactLL(t *testing.T) {
	bars := barsAndStripes(3)
	if bars.Rows != 14 {
		t.Fatalf("%d patterns, want 14", bars.Rows)
	}
	data := repeat(bars, 40)
	for _, method := range []Method{CD, PCD, PT} {
		m, tr := trainNew(t, Bernoulli, 16, data, Config{Method: method, K: 1, BatchSize: 20, LearningRate: 0.1, Momentum: 0.5, Schedule: LinearDecay, Seed: 3, Temperatures: 5})
		lz0, _ := m.ExactLogZ()
		ll0 := m.MeanLogProb(bars, lz0)
		st := train(t, tr, data, 150)
		lz, _ := m.ExactLogZ()
		ll := m.MeanLogProb(bars, lz)
		var rates []float64
		for _, x := range st.Metrics {
			if x.Name == "swap_rates" {
				rates = x.Value.([]float64)
			}
		}
		t.Logf("%v: exact LL %.3f → %.3f nats (optimum %.3f), swap rates %.2f", method, ll0, ll, -math.Log(14), rates)
		if ll < -3.5 || ll > -math.Log(14)+1e-9 {
			t.Errorf("%v: bars-and-stripes LL after training %.3f, want in [-3.5, %.3f]", method, ll, -math.Log(14))
		}
		if method == PT {
			if len(rates) != 4 {
				t.Errorf("PT-5: %d swap rates", len(rates))
			}
			for k, r := range rates {
				if !(r >= 0 && r <= 1) {
					t.Errorf("swap rate %d = %g", k, r)
				}
			}
		}
	}
}

// pll64 is the all-float64 pseudo-likelihood of one row (the reference for the
// float32-softplus implementation).
func pll64(m *RBM, v []float32) float64 {
	nh := m.NumHidden()
	a := make([]float64, nh)
	m.preActivation(a, v)
	var s float64
	for i, vi := range v {
		d := 1 - 2*float64(vi)
		df := -d * float64(m.B[i])
		for j, w := range m.W.Row(i) {
			df -= softplus(a[j]+d*float64(w)) - softplus(a[j])
		}
		s -= softplus(-df)
	}
	return s
}

// At MNIST size (784×500, weights of a trained model's scale) the float32 softplus
// terms keep the pseudo-likelihood within 1e-3 nats of the float64 value.
func TestPseudoLikelihoodFloat32Accuracy(t *testing.T) {
	m := randomRBM(t, Bernoulli, 784, 500, 0.1, 21)
	x := tensor.New(6, 784)
	s := rng.New(2)
	for i := range x.Data {
		if s.Float32() < 0.15 {
			x.Data[i] = 1
		}
	}
	got, _ := m.PseudoLogLikelihood(x)
	var want float64
	for n := 0; n < x.Rows; n++ {
		want += pll64(m, x.Row(n)) / float64(x.Rows)
	}
	if math.Abs(got-want) > 1e-3 {
		t.Errorf("PL %.6f, float64 reference %.6f", got, want)
	}
	t.Logf("PL %.6f, float64 reference %.6f (diff %.2g)", got, want, got-want)
}
