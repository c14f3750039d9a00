package diffusion

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/model/modeltest"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// q(x_t = 1 | x_0) and the posterior q(x_{t−1} | x_t, x_0) against Bayes' rule
// on the iterated forward chain: the marginals of x_{t−1} and x_t given x_0
// are found by applying the one-step flip matrix t times.
func TestBinaryPosteriorBayes(t *testing.T) {
	sc, _ := NewSchedule("cosine", 20)
	b := NewBinary(sc)
	for x0 := 0; x0 < 2; x0++ {
		m := [2]float64{1 - float64(x0), float64(x0)} // q(x_s | x_0), s = 0
		for step := 1; step <= sc.T; step++ {
			prev := m
			bt := sc.Beta[step]
			lik := func(xt, v int) float64 { // q(x_t | x_{t−1} = v)
				if xt == v {
					return 1 - bt + bt/2
				}
				return bt / 2
			}
			m = [2]float64{prev[0]*lik(0, 0) + prev[1]*lik(0, 1), prev[0]*lik(1, 0) + prev[1]*lik(1, 1)}
			if got := b.Q1(step, float32(x0)); math.Abs(got-m[1]) > 1e-12 {
				t.Fatalf("x0=%d t=%d: q(x_t=1|x_0) %v, iterated %v", x0, step, got, m[1])
			}
			for xt := 0; xt < 2; xt++ {
				w1, w0 := prev[1]*lik(xt, 1), prev[0]*lik(xt, 0)
				want := w1 / (w0 + w1)
				if got := b.Post[step][2*xt+x0]; math.Abs(got-want) > 1e-12 {
					t.Fatalf("x0=%d xt=%d t=%d: posterior %v, Bayes %v", x0, xt, step, got, want)
				}
			}
		}
	}
}

// Term's gradient with respect to the logits against central differences in
// float64, at t = 1 and t > 1.
func TestBinaryTermGrad(t *testing.T) {
	sc, _ := NewSchedule("linear", 10)
	b := NewBinary(sc)
	x0 := []float32{0, 1, 1, 0, 1}
	xt := []float32{1, 1, 0, 0, 0}
	l := []float32{0.3, -1.2, 2.0, 0.7, -0.1}
	g := make([]float32, len(l))
	for _, step := range []int{1, 2, 7} {
		b.Term(step, x0, xt, l, g)
		for j := range l {
			old := l[j]
			const h = 1e-3
			l[j] = old + h
			fp := b.Term(step, x0, xt, l, nil)
			l[j] = old - h
			fm := b.Term(step, x0, xt, l, nil)
			l[j] = old
			num := (fp - fm) / (2 * h)
			if math.Abs(float64(g[j])-num) > 1e-4*(1+math.Abs(num)) {
				t.Errorf("t=%d j=%d: gradient %v, finite difference %v", step, j, g[j], num)
			}
		}
	}
}

func bars2() *dataset.Dataset { return dataset.BarsAndStripes(2) }

func smallBinaryConfig() BinaryConfig {
	c := *DefaultBinaryConfig()
	c.T, c.Hidden, c.TimeDim, c.Batch, c.LR, c.EMA = 10, []int{32, 32}, 8, 6, 3e-3, 0
	return c
}

func newBinary(t *testing.T, cfg BinaryConfig, d *dataset.Dataset, epochs int) (*BinaryModel, *model.Settings) {
	t.Helper()
	s := model.NewSettings(KindBinary, d, "bars:2", "", 5, epochs)
	m, err := NewBinaryModel(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// gap returns the mean over the data of the exact log p(x) (enumerated), of
// the exact bound −L (every expectation enumerated) and their difference.
func gap(m *BinaryModel, x *tensor.Mat) (logp, elbo float64) {
	lp := m.Diff.ExactLogProb(m, x.Cols)
	eb := m.Diff.ExpectedBound(m, x)
	for i := 0; i < x.Rows; i++ {
		logp += lp[code(x.Row(i))]
		elbo -= eb[i]
	}
	return logp / float64(x.Rows), elbo / float64(x.Rows)
}

// On 2×2 bars and stripes (4 bits, 16 states, T = 10) everything can be
// enumerated: the exact bound −L never exceeds the exact log p(x) for any of
// the 16 states, p sums to 1, the Monte Carlo bound (Bound) averages to the
// enumerated one, and training raises log p(x) of the data and the bound.
// Without the skip term the untrained network is far from the posterior and
// training shrinks the gap; with it the untrained gap is already small.
func TestBinaryBoundBelowExactLogProb(t *testing.T) {
	for _, noSkip := range []bool{true, false} {
		d := bars2()
		cfg := smallBinaryConfig()
		cfg.NoSkip = noSkip
		m, s := newBinary(t, cfg, d, 300)
		all := states(4)
		check := func(when string) {
			lp := m.Diff.ExactLogProb(m, 4)
			var z float64
			for _, v := range lp {
				z += math.Exp(v)
			}
			if math.Abs(z-1) > 1e-9 {
				t.Errorf("%s: Σ_x p(x) = %v", when, z)
			}
			eb := m.Diff.ExpectedBound(m, all)
			for c := range lp {
				if -eb[c] > lp[c]+1e-9 {
					t.Errorf("%s: state %d: bound %v above log p(x) %v", when, c, -eb[c], lp[c])
				}
			}
		}
		check("untrained")
		lp0, el0 := gap(m, d.X)
		// the Monte Carlo bound against its expectation: 1500 draws per pattern
		rep := tensor.New(1500*d.Len(), 4)
		for i := 0; i < rep.Rows; i++ {
			copy(rep.Row(i), d.X.Row(i%d.Len()))
		}
		mc := m.Diff.Bound(nil, m, rep, rng.New(3))
		mcMean, mcSE := meanSE(mc)
		if math.Abs(-mcMean-el0) > 4*mcSE {
			t.Errorf("Monte Carlo bound %v ± %v, enumerated %v", -mcMean, mcSE, el0)
		}
		if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{}); err != nil {
			t.Fatal(err)
		}
		check("trained")
		lp1, el1 := gap(m, d.X)
		t.Logf("no-skip %v: untrained: log p(x) %.4f, bound %.4f, gap %.4f; trained (300 steps): log p(x) %.4f, bound %.4f, gap %.4f nats (data: log p = %.4f)",
			noSkip, lp0, el0, lp0-el0, lp1, el1, lp1-el1, -math.Log(6))
		if !(lp1 > lp0+0.5) || !(el1 > el0+0.5) {
			t.Errorf("training did not raise log p(x) and the bound")
		}
		if noSkip && !(lp1-el1 < lp0-el0) {
			t.Errorf("training did not shrink the gap")
		}
	}
}

// A run stopped after 2 epochs and resumed writes the same bytes as one that
// never stopped.
func TestBinaryResumeBitIdentical(t *testing.T) {
	d := dataset.BarsAndStripes(3)
	cfg := smallBinaryConfig()
	cfg.EMA = 0.9
	m := binaryResumed(t, cfg, d, 4)
	// Score and Sample on the loaded model
	est, err := m.(model.Scorer).Score(context.Background(), d, model.ScoreOptions{Seed: 1})
	if err != nil || est.Method != "vlb" || est.Bound != "lower" || !(est.LogLik < 0) || est.N != d.Len() {
		t.Errorf("score %+v, %v", est, err)
	}
	out, err := m.(model.Sampler).Sample(context.Background(), model.SampleOptions{N: 5, Seed: 2, Label: -1})
	if err != nil || out.Len() != 5 || !dataset.IsBinary(out.X) || out.Height != 3 {
		t.Errorf("sample: %v", err)
	}
}

// binaryResumed trains cfg on d for epochs and for 2, resumes the second to
// epochs, checks that both files are the same bytes (modeltest) and returns the
// resumed model.
func binaryResumed(t *testing.T, cfg BinaryConfig, d *dataset.Dataset, epochs int) model.Model {
	t.Helper()
	dir := t.TempDir()
	run := func(epochs int, out string) {
		m, s := newBinary(t, cfg, d, epochs)
		if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out}); err != nil {
			t.Fatal(err)
		}
	}
	whole, part := filepath.Join(dir, "whole.model"), filepath.Join(dir, "part.model")
	run(epochs, whole)
	run(2, part)
	return modeltest.ResumeBitIdentical(t, d, whole, part, epochs)
}

func TestBinaryBadInput(t *testing.T) {
	d := bars2()
	d.X.Set(0, 0, 0.5)
	d.Binary = false
	s := model.NewSettings(KindBinary, d, "x", "", 1, 1)
	if _, err := NewBinaryModel(smallBinaryConfig(), d, s); err == nil || !model.IsFlagError(err) {
		t.Errorf("non-binary data: %v", err)
	}
	d = bars2()
	for _, c := range []struct {
		mod  func(*BinaryConfig)
		flag string
	}{
		{func(c *BinaryConfig) { c.T = 1 }, "--timesteps"},
		{func(c *BinaryConfig) { c.Schedule = "sqrt" }, "--schedule"},
		{func(c *BinaryConfig) { c.Schedule, c.BetaEnd = "linear", 1.5 }, "--beta-end"},
	} {
		cfg := smallBinaryConfig()
		c.mod(&cfg)
		_, err := NewBinaryModel(cfg, d, model.NewSettings(KindBinary, d, "bars:2", "", 1, 1))
		if err == nil || !model.IsFlagError(err) || !contains(err.Error(), c.flag) {
			t.Errorf("%s: error %v", c.flag, err)
		}
	}
}

// Monitor reports the held-out bound of both families.
func TestMonitor(t *testing.T) {
	d := bars2()
	m, _ := newBinary(t, smallBinaryConfig(), d, 1)
	got, err := m.Monitor(context.Background(), d)
	if err != nil || len(got) != 1 || got[0].Name != "test_vlb" {
		t.Errorf("bdiff: %v, %v", got, err)
	}
	sq := squares(6, 8, 8, 1)
	g, err := NewGaussModel(tinyGaussConfig(), sq, model.NewSettings(KindGaussian, sq, "squares", "", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	got, err = g.Monitor(context.Background(), sq)
	if err != nil || len(got) != 2 || got[1].Name != "bits_per_dim" {
		t.Errorf("ddpm: %v, %v", got, err)
	}
}

// bdiff with ddpm's U-Net (--arch unet) on 4×4 bars and stripes (30 patterns):
// training raises the bound by nats, and the bound stays below the data's own
// mean log-likelihood under the best possible model, −log 30 (no model's mean
// log p(x) over these patterns exceeds it, and −L ≤ log p(x)); a resumed run
// writes the same bytes; image-less data and odd channel counts name their flag.
func TestBinaryUNet(t *testing.T) {
	d := dataset.BarsAndStripes(4)
	cfg := smallBinaryConfig()
	cfg.Arch, cfg.Channels, cfg.Batch, cfg.LR = "unet", 8, 10, 3e-3
	m, s := newBinary(t, cfg, d, 150)
	score := func() (float64, float64) {
		rep := tensor.New(20*d.Len(), d.Dim())
		for i := 0; i < rep.Rows; i++ {
			copy(rep.Row(i), d.X.Row(i%d.Len()))
		}
		est, err := m.Score(context.Background(), &dataset.Dataset{X: rep, Binary: true}, model.ScoreOptions{Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		return est.LogLik, est.StdErr
	}
	b0, _ := score()
	if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	b1, se := score()
	t.Logf("bound %.3f untrained, %.3f ± %.3f after 150 epochs; −log 30 = %.3f", b0, b1, se, -math.Log(30))
	if !(b1 > b0+3) {
		t.Errorf("training raised the bound from %.3f only to %.3f", b0, b1)
	}
	if b1 > -math.Log(30)+4*se {
		t.Errorf("bound %.3f ± %.3f above −log 30 = %.3f", b1, se, -math.Log(30))
	}

	cfg.EMA = 0.9
	loaded := binaryResumed(t, cfg, d, 3)
	if got := loaded.(*BinaryModel).Describe()[1].Value; !contains(fmt.Sprint(got), "U-Net") {
		t.Errorf("network %v", got)
	}

	rows := &dataset.Dataset{X: d.X, Binary: true}
	if _, err := NewBinaryModel(cfg, rows, model.NewSettings(KindBinary, rows, "rows", "", 1, 1)); err == nil || !contains(err.Error(), "--arch") {
		t.Errorf("unet on rows without an image shape: %v", err)
	}
	cfg.Channels = 5
	if _, err := NewBinaryModel(cfg, d, model.NewSettings(KindBinary, d, "bars:4", "", 1, 1)); err == nil || !contains(err.Error(), "--channels") {
		t.Errorf("--channels 5: %v", err)
	}
}

// BoundTerms gives Bound's per-example figures bit for bit (same draws), its
// per-step terms add up to their sum, and TermRanges' ranges cover every step
// once: for T = 40 they are L_T, t=1, t=2-2, t=3-10, t=11-20 and t=21-40.
func TestBinaryBoundTerms(t *testing.T) {
	d := bars2()
	cfg := smallBinaryConfig()
	cfg.T = 40
	m, _ := newBinary(t, cfg, d, 0)
	want := m.Diff.Bound(nil, m, d.X, rng.New(5))
	terms := make([]float64, cfg.T+1)
	got := m.Diff.BoundTerms(nil, terms, m, d.X, rng.New(5))
	var sum, total float64
	for i, v := range got {
		if v != want[i] {
			t.Fatalf("row %d: BoundTerms %v, Bound %v", i, v, want[i])
		}
		sum += v
	}
	for _, v := range terms {
		total += v
	}
	if math.Abs(total-sum) > 1e-9*math.Abs(sum) {
		t.Fatalf("terms add to %v, the bounds to %v", total, sum)
	}
	r := TermRanges(terms, d.Len())
	var fromRanges float64
	for _, k := range []string{"L_T", "t=1", "t=2-2", "t=3-10", "t=11-20", "t=21-40"} {
		v, ok := r[k].(float64)
		if !ok {
			t.Fatalf("TermRanges has no %q: %v", k, r)
		}
		fromRanges += v
	}
	if len(r) != 6 || math.Abs(fromRanges-sum/float64(d.Len())) > 1e-9*math.Abs(sum) {
		t.Fatalf("ranges %v add to %v per example, want %v", r, fromRanges, sum/float64(d.Len()))
	}
}

// eval --weights: ema scores the weight average, raw the trained weights; each
// equals the bound computed directly with those weights and the same draws,
// and after a short run the two differ.
func TestBinaryScoreWeights(t *testing.T) {
	d := bars2()
	cfg := smallBinaryConfig()
	cfg.EMA = 0.99
	m, s := newBinary(t, cfg, d, 30)
	if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	score := func(w string) float64 {
		e, err := m.Score(context.Background(), d, model.ScoreOptions{Seed: 7, Family: &BinaryEvalConfig{Weights: w}})
		if err != nil {
			t.Fatal(err)
		}
		return e.LogLik
	}
	direct := func() float64 {
		b := m.Diff.Bound(nil, m, d.X.Slice(0, d.Len()), rng.NewStream(7, 0))
		var s float64
		for _, v := range b {
			s -= v
		}
		return s / float64(len(b))
	}
	raw := score("raw")
	if want := direct(); raw != want {
		t.Errorf("--weights raw: %v, the bound with the trained weights %v", raw, want)
	}
	ema := score("ema")
	var want float64
	m.withEMA(func() { want = direct() })
	if ema != want {
		t.Errorf("--weights ema: %v, the bound with the average %v", ema, want)
	}
	if ema == raw {
		t.Errorf("the average and the trained weights score the same (%v)", ema)
	}
}
