package diffusion

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/model/modeltest"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// squares returns n h×w images, each a bright square on a dark background at
// a random place, on the 8-bit grid.
func squares(n, h, w int, seed uint64) *dataset.Dataset {
	s := rng.New(seed)
	x := tensor.New(n, h*w)
	for i := range n {
		r := x.Row(i)
		y0, x0 := s.IntN(h-2), s.IntN(w-2)
		for y := y0; y < y0+3; y++ {
			for xx := x0; xx < x0+3; xx++ {
				r[y*w+xx] = 200.0 / 255
			}
		}
	}
	return &dataset.Dataset{Name: "squares", X: x, Height: h, Width: w, Channels: 1}
}

func tinyGaussConfig() GaussConfig {
	c := *DefaultGaussConfig()
	c.T, c.Channels, c.Batch, c.LR, c.EMA = 50, 4, 8, 1e-3, 0.9
	return c
}

func trainGauss(t *testing.T, cfg GaussConfig, d *dataset.Dataset, epochs int, out string) *GaussModel {
	t.Helper()
	s := model.NewSettings(KindGaussian, d, "squares", "", 4, epochs)
	m, err := NewGaussModel(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	return m
}

// gaussResumed trains cfg on d for 3 epochs in one run and for 2 then 1 more
// in another (files in dir), checks that both write the same bytes, and
// returns the resumed model.
func gaussResumed(t *testing.T, cfg GaussConfig, d *dataset.Dataset, dir string) model.Model {
	t.Helper()
	whole, part := filepath.Join(dir, "whole.model"), filepath.Join(dir, "part.model")
	trainGauss(t, cfg, d, 3, whole)
	trainGauss(t, cfg, d, 2, part)
	return modeltest.ResumeBitIdentical(t, d, whole, part, 3)
}

// A U-Net run stopped after 2 epochs and resumed writes the same bytes as one
// that never stopped: network, moving average, Adam and the noise stream.
func TestGaussResumeBitIdentical(t *testing.T) {
	d := squares(24, 8, 8, 1)
	dir := t.TempDir()
	g := gaussResumed(t, tinyGaussConfig(), d, dir).(*GaussModel)
	ctx := context.Background()
	for _, sc := range []*SampleConfig{{}, {Steps: 10, Eta: 0}, {Steps: 5, Eta: 1, Chain: filepath.Join(dir, "chain.png")}} {
		out, err := g.Sample(ctx, model.SampleOptions{N: 3, Seed: 1, Label: -1, Family: sc})
		if err != nil || out.Len() != 3 || out.Height != 8 {
			t.Fatalf("sample %+v: %v", sc, err)
		}
		for _, v := range out.X.Data {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("sample %+v: value %v outside [0, 1]", sc, v)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "chain.png")); err != nil {
		t.Error(err)
	}
	if _, err := g.Sample(ctx, model.SampleOptions{N: 1, Label: -1, Family: &SampleConfig{Steps: 51}}); err == nil || !model.IsFlagError(err) {
		t.Errorf("--steps above T: %v", err)
	}
	est, err := g.Score(ctx, d, model.ScoreOptions{Seed: 2, Family: &EvalConfig{TPerImage: 4}})
	if err != nil || est.Method != "vlb" || est.Bound != "lower" || !(est.LogLik < 0) || !(est.StdErr > 0) {
		t.Fatalf("score %+v: %v", est, err)
	}
	bpd, _ := est.Extra[0].Float()
	if math.Abs(bpd+est.LogLik/(64*math.Ln2)) > 1e-9 {
		t.Errorf("bits per dim %v for %v nats", bpd, est.LogLik)
	}
	all, err := g.Score(ctx, d, model.ScoreOptions{Seed: 2, Family: &EvalConfig{TPerImage: 0}})
	if err != nil || math.Abs(all.LogLik-est.LogLik) > 4*math.Hypot(all.StdErr, est.StdErr) {
		t.Errorf("all terms %+v vs sampled %v ± %v: %v", all.LogLik, est.LogLik, est.StdErr, err)
	}
}

// An MLP on 2-D data learns: L_simple falls well below its starting value
// (1 for a predictor that knows nothing).
func TestGaussMLPLearns(t *testing.T) {
	s := rng.New(3)
	x := tensor.New(512, 2)
	for i := 0; i < x.Rows; i++ {
		c := float64(s.IntN(2))*0.5 + 0.25
		x.Set(i, 0, float32(c+0.02*s.NormFloat64()))
		x.Set(i, 1, float32(c+0.02*s.NormFloat64()))
	}
	d := &dataset.Dataset{Name: "two", X: x}
	cfg := *DefaultGaussConfig()
	cfg.T, cfg.Hidden, cfg.Batch, cfg.LR = 100, []int{64, 64}, 64, 3e-3
	m := trainGauss(t, cfg, d, 30, "")
	if m.Arch != "mlp" {
		t.Fatalf("arch %s", m.Arch)
	}
	first, last := m.History[0], m.History[len(m.History)-1]
	t.Logf("L_simple: epoch 1 %.4f, epoch 30 %.4f", first, last)
	if !(last < 0.6*first) {
		t.Errorf("L_simple went from %v to %v", first, last)
	}
}

func TestGaussBadInput(t *testing.T) {
	d := squares(4, 8, 8, 1)
	for _, c := range []struct {
		mod  func(*GaussConfig)
		flag string
	}{
		{func(c *GaussConfig) { c.T = 1 }, "--timesteps"},
		{func(c *GaussConfig) { c.Schedule = "sigmoid" }, "--schedule"},
		{func(c *GaussConfig) { c.BetaStart = 0 }, "--beta-start"},
		{func(c *GaussConfig) { c.BetaEnd = 1 }, "--beta-end"},
		{func(c *GaussConfig) { c.Channels = 3 }, "--channels"},
	} {
		cfg := tinyGaussConfig()
		c.mod(&cfg)
		_, err := NewGaussModel(cfg, d, model.NewSettings(KindGaussian, d, "squares", "", 1, 1))
		if err == nil || !model.IsFlagError(err) || !contains(err.Error(), c.flag) {
			t.Errorf("%s: error %v", c.flag, err)
		}
	}
	odd := squares(4, 6, 6, 1)
	_, err := NewGaussModel(tinyGaussConfig(), odd, model.NewSettings(KindGaussian, odd, "odd", "", 1, 1))
	if err == nil || !contains(err.Error(), "multiples of 4") || !contains(err.Error(), "6×6") {
		t.Errorf("6×6 images: %v", err)
	}
	flat := &dataset.Dataset{Name: "flat", X: tensor.New(3, 5)}
	cfg := tinyGaussConfig()
	cfg.Arch = "unet"
	if _, err := NewGaussModel(cfg, flat, model.NewSettings(KindGaussian, flat, "flat", "", 1, 1)); err == nil || !model.IsFlagError(err) {
		t.Errorf("unet on vectors: %v", err)
	}
	bad := squares(4, 8, 8, 1)
	bad.X.Set(0, 0, 2)
	if _, err := NewGaussModel(tinyGaussConfig(), bad, model.NewSettings(KindGaussian, bad, "bad", "", 1, 1)); err == nil {
		t.Error("data outside [0, 1] accepted")
	}
}

// twoClusters returns n labelled 2-D points: class k near (0.25 + 0.5k, 0.5).
func twoClusters(n int, seed uint64) *dataset.Dataset {
	s := rng.New(seed)
	x := tensor.New(n, 2)
	labels := make([]int, n)
	for i := range n {
		k := s.IntN(2)
		labels[i] = k
		x.Set(i, 0, float32(0.25+0.5*float64(k)+0.03*s.NormFloat64()))
		x.Set(i, 1, float32(0.5+0.03*s.NormFloat64()))
	}
	return &dataset.Dataset{Name: "two", X: x, Labels: labels, NumClasses: 2}
}

// Classifier-free guidance: a conditional MLP on two labelled clusters draws
// --label 0 samples on the left and --label 1 on the right; guidance (w = 2)
// keeps them there; the conditional bound is log p(x|y); guidance on an
// unconditional model and --conditional without labels are flag errors.
func TestGaussConditionalGuidance(t *testing.T) {
	d := twoClusters(600, 1)
	cfg := *DefaultGaussConfig()
	cfg.T, cfg.Hidden, cfg.Batch, cfg.LR, cfg.EMA, cfg.Conditional = 50, []int{64, 64}, 60, 3e-3, 0.9, true
	m := trainGauss(t, cfg, d, 60, "")
	ctx := context.Background()
	for _, w := range []float64{0, 2} {
		for label := range 2 {
			out, err := m.Sample(ctx, model.SampleOptions{N: 200, Seed: 3, Label: label, Family: &SampleConfig{Steps: 25, Guidance: w}})
			if err != nil {
				t.Fatal(err)
			}
			right := 0
			for i := 0; i < out.Len(); i++ {
				if out.X.At(i, 0) > 0.5 {
					right++
				}
			}
			t.Logf("w = %g, label %d: %d of 200 samples on the right", w, label, right)
			if (label == 0 && right > 40) || (label == 1 && right < 160) {
				t.Errorf("w = %g, label %d: %d of 200 on the right", w, label, right)
			}
		}
	}
	est, err := m.Score(ctx, d, model.ScoreOptions{Seed: 1, Family: &EvalConfig{TPerImage: 4}})
	if err != nil || est.Quantity != "log p(x|y)" {
		t.Errorf("score %+v: %v", est, err)
	}
	plain := &dataset.Dataset{Name: "two", X: d.X}
	if _, err := NewGaussModel(cfg, plain, model.NewSettings(KindGaussian, plain, "two", "", 1, 1)); err == nil || !model.IsFlagError(err) {
		t.Errorf("--conditional without labels: %v", err)
	}
	cfg.Conditional = false
	u, _ := NewGaussModel(cfg, plain, model.NewSettings(KindGaussian, plain, "two", "", 1, 1))
	if _, err := u.Sample(ctx, model.SampleOptions{N: 2, Label: -1, Family: &SampleConfig{Guidance: 1}}); err == nil || !model.IsFlagError(err) || !contains(err.Error(), "--guidance") {
		t.Errorf("--guidance on an unconditional model: %v", err)
	}
}

// A conditional run (labels dropped at random from the saved noise stream)
// resumes bit for bit too.
func TestGaussConditionalResume(t *testing.T) {
	d := twoClusters(100, 2)
	cfg := *DefaultGaussConfig()
	cfg.T, cfg.Hidden, cfg.Batch, cfg.Conditional, cfg.PUncond = 20, []int{16}, 30, true, 0.3
	dir := t.TempDir()
	whole, part := filepath.Join(dir, "whole.model"), filepath.Join(dir, "part.model")
	trainGauss(t, cfg, d, 3, whole)
	trainGauss(t, cfg, d, 1, part)
	f, _ := checkpoint.Load(part)
	m, s, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	s.Epochs = 3
	if _, err := model.Train(context.Background(), m.(model.Trainer), d, s, model.TrainOptions{Out: part}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(whole)
	b, _ := os.ReadFile(part)
	if !bytes.Equal(a, b) {
		t.Error("the resumed conditional run's file differs from the uninterrupted run's")
	}
}

// A NaN in the weights stops training with an error naming the epoch and the
// step; the file keeps the last good epoch. Likewise for binary diffusion.
func TestNaNStopsTraining(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		make func() (model.Trainer, *dataset.Dataset, *model.Settings, []float32)
	}{
		{KindGaussian, func() (model.Trainer, *dataset.Dataset, *model.Settings, []float32) {
			d := squares(16, 8, 8, 1)
			s := model.NewSettings(KindGaussian, d, "squares", "", 1, 1)
			m, err := NewGaussModel(tinyGaussConfig(), d, s)
			if err != nil {
				t.Fatal(err)
			}
			return m, d, s, m.Net.Params()[0].W
		}},
		{KindBinary, func() (model.Trainer, *dataset.Dataset, *model.Settings, []float32) {
			d := bars2()
			s := model.NewSettings(KindBinary, d, "bars:2", "", 1, 1)
			m, err := NewBinaryModel(smallBinaryConfig(), d, s)
			if err != nil {
				t.Fatal(err)
			}
			return m, d, s, m.Net.Params()[0].W
		}},
	} {
		m, d, s, w := c.make()
		out := filepath.Join(dir, c.name+".model")
		if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out}); err != nil {
			t.Fatal(err)
		}
		w[0] = float32(math.NaN())
		s.Epochs = 3
		_, err := model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out})
		if err == nil || !contains(err.Error(), "epoch 2, step 1") || !contains(err.Error(), "keeps the model after epoch 1") {
			t.Errorf("%s: error %v", c.name, err)
		}
		f, _ := checkpoint.Load(out)
		if _, s2, err := model.Load(f); err != nil || s2.EpochsDone != 1 {
			t.Errorf("%s: kept file: %v", c.name, err)
		}
	}
}
