package gan

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/model/modeltest"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func ring(n int, seed uint64) (*dataset.Dataset, [][2]float64) {
	d, c := Ring(n, 0.02, rng.New(seed))
	d.Labels, d.NumClasses = nil, 0
	return d, c
}

func train(t *testing.T, d *dataset.Dataset, cfg Config, epochs int, out string) *Model {
	t.Helper()
	s := model.NewSettings(KindMLP, d, "ring", "", 3, epochs)
	m, err := newTrainer(KindMLP, cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	return m
}

func smallConfig() Config {
	c := *defaults(KindMLP)
	c.Latent, c.GHidden, c.DHidden, c.Batch, c.LR, c.EMA, c.GNorm = 8, []int{128, 128}, []int{128, 128}, 100, 1e-3, 0.99, false
	return c
}

// A GAN on a mixture of 8 Gaussians covers every mode: each gets at least 4%
// of 4000 samples (12.5% each if perfect), and 80% of the samples lie within
// 4σ of some centre; with the minibatch standard-deviation layer too, and with
// D judging pairs of examples (PacGAN).
func TestGANCoversEightModes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a GAN for a few seconds")
	}
	for _, v := range []struct {
		name   string
		epochs int
		setup  func(*Config)
	}{
		{"bce", 120, func(*Config) {}},
		{"mbstd", 120, func(c *Config) { c.MBStd = true }},
		// D judges 100 pairs per step, as many rows as the others' D; the
		// steps are half as many per epoch, so twice the epochs. (At batch 100
		// and 120 epochs all 8 modes are covered too, but only 2721 of 4000
		// samples lie within 4σ.)
		{"pack2", 240, func(c *Config) { c.Pack, c.Batch = 2, 200 }},
	} {
		t.Run(v.name, func(t *testing.T) { coversEightModes(t, v.epochs, v.setup) })
	}
}

func coversEightModes(t *testing.T, epochs int, setup func(*Config)) {
	d, centres := ring(4000, 1)
	cfg := smallConfig()
	cfg.GHidden, cfg.DHidden = []int{64, 64}, []int{64, 64}
	setup(&cfg)
	m := train(t, d, cfg, epochs, "")
	checkEightModes(t, m, centres)
}

func checkEightModes(t *testing.T, m *Model, centres [][2]float64) {
	t.Helper()
	counts, near := modeCounts(t, m, centres)
	t.Logf("samples per mode %v, %d of 4000 within 4σ of a centre; last epoch %+v", counts, near, m.History[len(m.History)-1])
	checkCovered(t, counts)
	if near < 3200 {
		t.Errorf("only %d of 4000 samples lie within 4σ of a mode", near)
	}
}

// modeCounts draws 4000 samples of m and returns how many fall nearest each
// centre and how many lie within 4σ (σ = 0.02) of their centre.
func modeCounts(t *testing.T, m *Model, centres [][2]float64) (counts []int, near int) {
	t.Helper()
	out, err := m.Sample(context.Background(), model.SampleOptions{N: 4000, Seed: 9, Label: -1})
	if err != nil {
		t.Fatal(err)
	}
	counts = make([]int, len(centres))
	for i := 0; i < out.Len(); i++ {
		x, y := float64(out.X.At(i, 0)), float64(out.X.At(i, 1))
		best, bd := 0, math.Inf(1)
		for k, c := range centres {
			if dd := math.Hypot(x-c[0], y-c[1]); dd < bd {
				best, bd = k, dd
			}
		}
		counts[best]++
		if bd < 4*0.02 {
			near++
		}
	}
	return counts, near
}

// checkCovered fails unless every mode got at least 4% of 4000 samples.
func checkCovered(t *testing.T, counts []int) {
	t.Helper()
	for k, c := range counts {
		if c < 160 {
			t.Errorf("mode %d got %d of 4000 samples (want >= 160): collapsed", k, c)
		}
	}
}

// A run stopped after 2 epochs and resumed writes the same bytes as one that
// never stopped: networks, moving average, optimisers and the noise stream.
func TestGANResumeBitIdentical(t *testing.T) {
	cfg := smallConfig()
	resumes(t, cfg)
}

// The same with the minibatch standard-deviation layer in D (--mbstd): the layer
// is rebuilt from the file's settings and D's last Linear takes one more input.
func TestGANMBStdResumeBitIdentical(t *testing.T) {
	cfg := smallConfig()
	cfg.MBStd = true
	m, _ := resumes(t, cfg)
	last := m.D.Layers[len(m.D.Layers)-1].(*nn.Linear)
	if _, ok := m.D.Layers[len(m.D.Layers)-2].(*nn.MinibatchStd); !ok || last.W.Shape[0] != cfg.DHidden[1]+1 {
		t.Fatalf("D with --mbstd: layers %T, last Linear %v", m.D.Layers, last.W.Shape)
	}
}

// The same with the hinge loss, spectral normalisation in D (whose vectors p
// and q are saved as buffers) and a separate rate for D (--d-lr).
func TestGANSpecNormResumeBitIdentical(t *testing.T) {
	cfg := smallConfig()
	cfg.Loss, cfg.SpecNorm, cfg.DLR = "hinge", true, 4e-3
	m, _ := resumes(t, cfg)
	if _, ok := m.D.Layers[0].(*nn.SpectralNorm); !ok {
		t.Fatalf("D with --spectral-norm: first layer %T", m.D.Layers[0])
	}
	if m.dOpt.LR != 4e-3 || m.gOpt.LR != cfg.LR {
		t.Fatalf("learning rates: D %g, G %g; want %g, %g", m.dOpt.LR, m.gOpt.LR, 4e-3, cfg.LR)
	}
}

// Exploded weights stop training with an error naming the epoch and network;
// the file keeps the last good epoch.
func TestGANDivergenceStops(t *testing.T) {
	d, _ := ring(300, 2)
	dir := t.TempDir()
	out := filepath.Join(dir, "m.model")
	s := model.NewSettings(KindMLP, d, "ring", "", 3, 1)
	m, err := newTrainer(KindMLP, smallConfig(), d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	m.D.Params()[0].W[3] = float32(math.Inf(1))
	s.Epochs = 3
	_, err = model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out})
	if err == nil || !strings.Contains(err.Error(), "epoch 2") || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("error %v", err)
	}
	f, _ := checkpoint.Load(out)
	if _, s2, err := model.Load(f); err != nil || s2.EpochsDone != 1 {
		t.Errorf("kept file: %v", err)
	}
}

func TestGANBadInput(t *testing.T) {
	d, _ := ring(10, 1)
	d.X.Set(0, 0, 2)
	s := model.NewSettings(KindMLP, d, "ring", "", 1, 1)
	if _, err := newTrainer(KindMLP, smallConfig(), d, s); err == nil {
		t.Error("data outside [0, 1] accepted")
	}
	d, _ = ring(10, 1)
	cfg := smallConfig()
	cfg.Conditional = true
	if _, err := newTrainer(KindMLP, cfg, d, s); err == nil || !model.IsFlagError(err) {
		t.Errorf("conditional GAN without labels: %v", err)
	}
	m, err := newTrainer(KindMLP, smallConfig(), d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sample(context.Background(), model.SampleOptions{N: 2, Label: 1}); err == nil || !model.IsFlagError(err) {
		t.Errorf("--label on an unconditional GAN: %v", err)
	}
}

// discInput packs P examples into each of D's rows, channels side by side at
// every pixel with each example's label planes, and inputGrad undoes it: checked
// value by value on a 2×2 image with 3 classes, 5 examples in packs of 2 (the
// fifth left out, its gradient zero).
func TestPackLayout(t *testing.T) {
	m := &Model{Arch: KindDCGAN, Cfg: Config{Pack: 2}, dim: 4, H: 2, W: 2, C: 1, Classes: 3}
	x := tensor.New(5, 4)
	for i := range x.Data {
		x.Data[i] = float32(i + 1)
	}
	labels := []int{2, 0, 1, 1, 0}
	din := m.discInput(x, labels)
	if din.Rows != 2 || din.Cols != 4*2*4 {
		t.Fatalf("D's input is %d×%d, want 2×32", din.Rows, din.Cols)
	}
	for i := range 2 {
		for p := range 4 {
			for k := range 2 {
				ex := 2*i + k
				got := din.Row(i)[(p*2+k)*4 : (p*2+k+1)*4]
				want := []float32{x.At(ex, p), 0, 0, 0}
				want[1+labels[ex]] = 1
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("pack %d, pixel %d, example %d: %v, want %v", i, p, ex, got, want)
					}
				}
			}
		}
	}
	dx := m.inputGrad(din, 5)
	for ex := range 5 {
		for p := range 4 {
			want := x.At(ex, p)
			if ex == 4 {
				want = 0
			}
			if dx.At(ex, p) != want {
				t.Fatalf("inputGrad: example %d, pixel %d is %v, want %v", ex, p, dx.At(ex, p), want)
			}
		}
	}
}

// With --pack 2 D's first layer takes twice the inputs, and a resumed run is bit
// for bit the one that never stopped; a batch that is not a multiple of the pack
// is refused with an error naming --batch.
func TestGANPackResumeBitIdentical(t *testing.T) {
	cfg := smallConfig()
	cfg.Pack = 2
	m, d := resumes(t, cfg)
	if first := m.D.Layers[0].(*nn.Linear); first.W.Shape[0] != 2*2 {
		t.Fatalf("D's first Linear with --pack 2: %v, want 4 inputs", first.W.Shape)
	}
	cfg.Batch = 99
	s := model.NewSettings(KindMLP, d, "ring", "", 3, 1)
	if _, err := newTrainer(KindMLP, cfg, d, s); err == nil || !model.IsFlagError(err) || !strings.Contains(err.Error(), "--batch 99") {
		t.Errorf("--batch 99 --pack 2: %v", err)
	}
}

// With --real-label 0.9, D's loss on real data is the cross-entropy against
// target 0.9, −0.9 log σ(v) − 0.1 log(1 − σ(v)) per logit v, with gradient
// (σ(v) − 0.9)/n: zero where D says 0.9, so D is not pushed beyond it; the
// generated data's target and the generator's stay 0 and 1. The hinge loss
// rejects the flag.
func TestRealLabelSmoothing(t *testing.T) {
	d, _ := ring(10, 1)
	s := model.NewSettings(KindMLP, d, "ring", "", 1, 1)
	cfg := smallConfig()
	cfg.RealLabel = 0.9
	m, err := newTrainer(KindMLP, cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	// D's last layer set to output the constant logit v: zero weights, bias v.
	last := m.D.Layers[len(m.D.Layers)-1].(*nn.Linear)
	ps := last.Params()
	clear(ps[0].W)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for _, v := range []float64{math.Log(9), 0, -1.5, 3} {
		ps[1].W[0] = float32(v)
		v = float64(float32(v))
		for _, c := range []struct {
			which int
			t     float64
		}{{lossReal, 0.9}, {lossFake, 0}, {lossGen, 1}} {
			loss, mean := m.discLoss(d.X, nil, c.which)
			want := -c.t*math.Log(sig(v)) - (1-c.t)*math.Log(1-sig(v))
			if math.Abs(loss-want) > 1e-6 || math.Abs(mean-sig(v)) > 1e-6 {
				t.Errorf("logit %.3f, target %g: loss %.7f mean %.7f, want %.7f %.7f", v, c.t, loss, mean, want, sig(v))
			}
			g := (sig(v) - c.t) / float64(d.Len())
			for i := range d.Len() {
				if got := float64(m.dl.At(i, 0)); math.Abs(got-g) > 1e-7 {
					t.Fatalf("logit %.3f, target %g: gradient %g, want %g", v, c.t, got, g)
				}
			}
		}
	}
	cfg.Loss = "hinge"
	if _, err := newTrainer(KindMLP, cfg, d, s); err == nil || !model.IsFlagError(err) || !strings.Contains(err.Error(), "real-label") {
		t.Errorf("--real-label with --loss hinge: %v", err)
	}
}

// --d-dropout puts a Dropout after each of D's LeakyReLUs (MLP and DCGAN), its
// masks from a saved stream: a resumed run with dropout and --real-label 0.9
// writes the same bytes as one that never stopped. Without the flag D has no
// Dropout and the file no stream.
func TestGANDropoutResumeBitIdentical(t *testing.T) {
	cfg := smallConfig()
	cfg.DDropout, cfg.RealLabel = 0.3, 0.9
	m, _ := resumes(t, cfg)
	drops := func(net *nn.Sequential) (n int) {
		for i, l := range net.Layers {
			if _, ok := l.(*nn.Dropout); ok {
				if a, after := net.Layers[i-1].(*nn.Activation); !after || a.Kind != nn.ActLeakyReLU {
					t.Errorf("Dropout after %T", net.Layers[i-1])
				}
				n++
			}
		}
		return n
	}
	if n := drops(m.D); n != len(cfg.DHidden) {
		t.Fatalf("D with --d-dropout: %d Dropout layers, want %d", n, len(cfg.DHidden))
	}

	dc := *defaults(KindDCGAN)
	dc.DDropout = 0.3
	if _, dd := buildDCGAN(dc, 1, 0, 0, rng.New(1), rng.New(2)); drops(dd) != 2 {
		t.Errorf("DCGAN's D with --d-dropout: layers %T", dd.Layers)
	}
	dc.DDropout = 0
	if _, dd := buildDCGAN(dc, 1, 0, 0, rng.New(1), rng.New(2)); drops(dd) != 0 {
		t.Errorf("DCGAN's D without --d-dropout: layers %T", dd.Layers)
	}
}

// An InfoGAN on the eight Gaussians with an 8-category code: Q learns to
// recover the code (its loss falls well below ln 8, where a Q that learns
// nothing stays), every mode is covered, each code's samples sit mostly in one
// mode and different codes in different modes; resuming is bit-identical; the
// flag's conflicts are refused.
func TestInfoGANCodesFindModes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a GAN for a few seconds")
	}
	d, centres := ring(4000, 1)
	cfg := smallConfig()
	cfg.GHidden, cfg.DHidden = []int{64, 64}, []int{64, 64}
	cfg.Info = 8
	m := train(t, d, cfg, 120, "")
	last := m.History[len(m.History)-1]
	if !(last.Info < 0.5*math.Log(8)) {
		t.Errorf("Q's loss after training %.3f, ln 8 = %.3f: Q does not recover the codes", last.Info, math.Log(8))
	}
	checkEightModes(t, m, centres)
	// Each code on its own: the share of its samples in its most common mode.
	modeOf := func(x, y float64) int {
		best, bd := 0, math.Inf(1)
		for k, c := range centres {
			if dd := math.Hypot(x-c[0], y-c[1]); dd < bd {
				best, bd = k, dd
			}
		}
		return best
	}
	seen := map[int]bool{}
	for c := range 8 {
		out, err := m.Sample(context.Background(), model.SampleOptions{N: 400, Seed: 5, Label: c})
		if err != nil {
			t.Fatal(err)
		}
		if out.Labels != nil {
			t.Fatal("an InfoGAN's samples carry its codes as labels")
		}
		counts := make([]int, 8)
		for i := range out.Len() {
			counts[modeOf(float64(out.X.At(i, 0)), float64(out.X.At(i, 1)))]++
		}
		top := 0
		for k := range counts {
			if counts[k] > counts[top] {
				top = k
			}
		}
		t.Logf("code %d: samples per mode %v", c, counts)
		if counts[top] < 300 {
			t.Errorf("code %d: only %d of 400 samples in its most common mode %d", c, counts[top], top)
		}
		seen[top] = true
	}
	if len(seen) < 6 {
		t.Errorf("the 8 codes pick only %d different modes", len(seen))
	}
}

func TestInfoGANResumeAndFlags(t *testing.T) {
	cfg := smallConfig()
	cfg.Info, cfg.InfoWeight = 4, 0.5
	m, d := resumes(t, cfg)
	if last := m.D.Layers[len(m.D.Layers)-1].(*nn.Linear); last.W.Shape[1] != 1+4 {
		t.Fatalf("D's last layer with --info 4: %v, want 5 outputs", last.W.Shape)
	}
	if first := m.G.Layers[0].(*nn.Linear); first.W.Shape[0] != cfg.Latent+4 {
		t.Fatalf("G's first layer with --info 4: %v, want %d inputs", first.W.Shape, cfg.Latent+4)
	}
	if _, err := m.Sample(context.Background(), model.SampleOptions{N: 2, Label: 4}); err == nil || !model.IsFlagError(err) {
		t.Errorf("--label 4 of 4 codes: %v", err)
	}
	refused(t, d, refusal{func(c *Config) { c.Info = 1 }, "at least 2"},
		refusal{func(c *Config) { c.Info, c.Pack, c.Batch = 3, 2, 100 }, "--pack"})
	s := model.NewSettings(KindMLP, d, "ring", "", 3, 1)
	dl, _ := ring(300, 2) // with labels
	dl.Labels, dl.NumClasses = make([]int, dl.Len()), 2
	bad := smallConfig()
	bad.Info, bad.Conditional = 3, true
	if _, err := newTrainer(KindMLP, bad, dl, s); err == nil || !model.IsFlagError(err) || !strings.Contains(err.Error(), "--conditional") {
		t.Errorf("--info with --conditional: %v", err)
	}
}

// resumes trains cfg on 300 points of the ring for 4 epochs in one run, and for
// 2 and then 2 more resumed from the file, and checks that both runs write the
// same bytes (networks, moving average, optimisers, streams); it returns the
// first run's model and the data.
func resumes(t *testing.T, cfg Config) (*Model, *dataset.Dataset) {
	t.Helper()
	d, _ := ring(300, 2)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.model")
	m := train(t, d, cfg, 4, whole)
	part := filepath.Join(dir, "part.model")
	train(t, d, cfg, 2, part)
	modeltest.ResumeBitIdentical(t, d, whole, part, 4)
	return m, d
}

// The averaged generator's BatchNorm statistics (EMAStats) are its own: after
// training, the recalibrated running mean and variance of G's BatchNorm match
// the mean and variance of that layer's input under the averaged weights,
// computed independently from 20,000 fresh draws of z (within 5 standard
// errors of recalibration's 5120 draws); Generate uses them (the same bits as
// a copy of G holding the averaged weights and statistics in evaluation
// mode); they survive a save and load; and a file without them (written
// before they existed) gets the same values recomputed on load.
func TestEMABatchNormStats(t *testing.T) {
	cfg := smallConfig()
	cfg.GNorm, cfg.EMA = true, 0.9
	d, _ := ring(300, 2)
	out := filepath.Join(t.TempDir(), "bn.model")
	m := train(t, d, cfg, 3, out)
	f, err := checkpoint.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.EMAStats) != 2 {
		t.Fatalf("%d averaged BatchNorm buffers, want 2 (one BatchNorm)", len(m.EMAStats))
	}
	// c becomes a plain copy of the averaged generator.
	c.EMA.CopyTo(c.G.Params())
	for k, b := range c.G.Buffers() {
		copy(b.W, m.EMAStats[k])
		for i, v := range c.EMAStats[k] {
			if v != m.EMAStats[k][i] {
				t.Fatalf("buffer %d value %d after save and load: %g, want %g", k, i, v, m.EMAStats[k][i])
			}
		}
	}
	// Population statistics of the BatchNorm's input (Linear, ReLU, Linear).
	const n = 20000
	z := tensor.New(n, cfg.Latent)
	rng.New(99).FillNormal(z.Data, 0, 1)
	h := c.G.Layers[2].Forward(c.G.Layers[1].Forward(c.G.Layers[0].Forward(z)))
	live := m.G.Buffers()
	for j := range h.Cols {
		var s, ss float64
		for i := range n {
			v := float64(h.At(i, j))
			s += v
			ss += v * v
		}
		mean := s / n
		v := ss/n - mean*mean
		se := math.Sqrt(v / 5120)
		if got := float64(m.EMAStats[0][j]); math.Abs(got-mean) > 5*se+1e-4 {
			t.Errorf("channel %d: recalibrated mean %.5f, population %.5f (s.e. %.5f; live running mean %.5f)", j, got, mean, se, live[0].W[j])
		}
		// the variance of a sample variance is about 2v²/(N−1) for a normal; allow a heavier tail
		if got := float64(m.EMAStats[1][j]); math.Abs(got-v) > 5*math.Sqrt(4*v*v/5120)+1e-4 {
			t.Errorf("channel %d: recalibrated variance %.5f, population %.5f", j, got, v)
		}
	}
	zs := tensor.New(50, cfg.Latent)
	rng.New(7).FillNormal(zs.Data, 0, 1)
	c.G.SetTraining(false)
	want := c.G.Forward(zs).Clone()
	got := m.Generate(zs, nil)
	for i, v := range got.Data {
		if v != want.Data[i] {
			t.Fatalf("Generate value %d: %g, want %g (the averaged weights with their own statistics)", i, v, want.Data[i])
		}
	}
	// An old file: no ema_bn tensors.
	var kept []checkpoint.Tensor
	for _, tn := range f.Tensors {
		if !strings.HasPrefix(tn.Name, "ema_bn.") {
			kept = append(kept, tn)
		}
	}
	if len(kept) != len(f.Tensors)-2 {
		t.Fatalf("the file has %d ema_bn tensors, want 2", len(f.Tensors)-len(kept))
	}
	f.Tensors = kept
	old, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	for k := range old.EMAStats {
		for i, v := range old.EMAStats[k] {
			if v != m.EMAStats[k][i] {
				t.Fatalf("recomputed on load: buffer %d value %d is %g, want %g", k, i, v, m.EMAStats[k][i])
			}
		}
	}
}

// --init lecun-uniform draws every weight and bias of both DCGAN networks from
// U(±1/√fan_in) with PyTorch's fan-ins (K·K·InC for a convolution, K·K·OutC for
// a transposed one); the default, he, leaves every bias at 0.
func TestDCGANInit(t *testing.T) {
	for _, init := range []string{"he", "lecun-uniform"} {
		cfg := *defaults(KindDCGAN)
		cfg.Init = init
		g, d := buildDCGAN(cfg, 1, 0, 0, rng.New(1), rng.New(2))
		layers := 0
		for _, l := range append(append([]nn.Layer(nil), g.Layers...), d.Layers...) {
			var w, b *nn.Param
			var fanIn int
			switch l := l.(type) {
			case *nn.Linear:
				w, b, fanIn = l.W, l.B, l.In
			case *nn.Conv2D:
				w, b, fanIn = l.W, l.B, l.Geom.K*l.Geom.K*l.Geom.InC
			case *nn.ConvTranspose2D:
				w, b, fanIn = l.W, l.B, l.Adj.K*l.Adj.K*l.Adj.InC // the adjoint convolution's input is this layer's output
			default:
				continue
			}
			layers++
			a := 1 / math.Sqrt(float64(fanIn))
			var maxW, maxB float64
			for _, v := range w.W {
				maxW = max(maxW, math.Abs(float64(v)))
			}
			for _, v := range b.W {
				maxB = max(maxB, math.Abs(float64(v)))
			}
			switch init {
			case "he":
				if maxB != 0 {
					t.Errorf("he: %T has a bias of size %g, want 0", l, maxB)
				}
			case "lecun-uniform":
				if maxW > a || maxW < 0.9*a || maxB > a || maxB == 0 {
					t.Errorf("lecun-uniform: %T (fan-in %d): largest |w| %g, |b| %g; want both up to %g, |w| near it", l, fanIn, maxW, maxB, a)
				}
			}
		}
		if layers != 6 {
			t.Fatalf("%d layers with weights, want 6", layers)
		}
	}
}

// Continuous InfoGAN codes (--info-cont): the gradient infoLoss leaves in D's
// output columns matches finite differences of its loss (categorical and
// continuous columns together, D's logit column untouched); D gets one output
// per continuous code; resuming is bit-identical; and the flag's conflicts
// are refused.
func TestInfoGANContinuousCodes(t *testing.T) {
	cfg := smallConfig()
	cfg.Info, cfg.InfoCont, cfg.InfoWeight, cfg.InfoContWeight = 3, 2, 0.7, 0.3
	m, d := resumes(t, cfg)
	if last := m.D.Layers[len(m.D.Layers)-1].(*nn.Linear); last.W.Shape[1] != 1+3+2 {
		t.Fatalf("D's last layer with --info 3 --info-cont 2: %v, want 6 outputs", last.W.Shape)
	}
	if first := m.G.Layers[0].(*nn.Linear); first.W.Shape[0] != cfg.Latent+3 {
		t.Fatalf("G's first layer: %v, want %d inputs (the continuous codes are z's)", first.W.Shape, cfg.Latent+3)
	}
	// The gradient against central differences, in float64 arithmetic of the
	// float32 logits (steps of 1e-2 on logits of size ~1).
	n := 5
	m.fillZ(n, nil, rng.New(7))
	logits := tensor.New(n, 6)
	rng.New(8).FillNormal(logits.Data, 0, 1)
	m.dl = tensor.Reuse(m.dl, n, 6)
	clear(m.dl.Data)
	m.infoLoss(logits, false)
	grad := append([]float32(nil), m.dl.Data...)
	const h = 1e-2
	for i := range n {
		for j := range 6 {
			v := logits.At(i, j)
			logits.Set(i, j, v+h)
			up := m.infoLoss(logits, false)
			logits.Set(i, j, v-h)
			down := m.infoLoss(logits, false)
			logits.Set(i, j, v)
			fd := (up - down) / (2 * h)
			if j > 0 && fd == 0 {
				t.Errorf("the info loss does not depend on Q's column %d", j)
			}
			if g := float64(grad[i*6+j]); math.Abs(g-fd) > 1e-3*max(1, math.Abs(fd)) {
				t.Errorf("∂loss/∂logit[%d][%d] = %g, finite differences %g", i, j, g, fd)
			}
		}
	}
	// D's logit column gets no gradient from the info terms.
	for i := range n {
		if grad[i*6] != 0 {
			t.Errorf("the info loss's gradient reaches D's logit: %g", grad[i*6])
		}
	}
	refused(t, d, refusal{func(c *Config) { c.InfoCont = 9 }, "--latent is 8"},
		refusal{func(c *Config) { c.InfoCont, c.Pack, c.Batch = 2, 2, 100 }, "--pack"})
}

// A GAN with one continuous code on the eight Gaussians: Q learns to read z₁
// back from G(z): its loss λ_c·½(μ − z₁)² falls to half of λ_c·½, what a Q that
// learns nothing (μ = 0) pays, and the modes stay covered.
func TestInfoGANContinuousCodeIsRecovered(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a GAN for a few seconds")
	}
	d, centres := ring(4000, 1)
	cfg := smallConfig()
	cfg.GHidden, cfg.DHidden = []int{64, 64}, []int{64, 64}
	cfg.InfoCont = 1 // λ_c 0.1, the default
	m := train(t, d, cfg, 120, "")
	last := m.History[len(m.History)-1]
	t.Logf("Q's continuous-code loss after training: %.4f (0.05 = λ_c·½ for a Q that learns nothing)", last.Info)
	if !(last.Info > 0 && last.Info < 0.025) {
		t.Errorf("Q's loss %.4f: Q does not recover z₁ (λ_c·½ = 0.05 when it learns nothing)", last.Info)
	}
	// Every mode keeps its share. (How tightly the samples sit on the modes is
	// not checked: a mode of σ = 0.02 has no room for a code Q can read, so G
	// spreads each mode along z₁, and about 2900 of 4000 land within 4σ.)
	counts, _ := modeCounts(t, m, centres)
	t.Logf("samples per mode %v", counts)
	checkCovered(t, counts)
}

// refusal is a change to smallConfig that newTrainer must refuse with a flag
// error containing want.
type refusal struct {
	set  func(*Config)
	want string
}

// refused checks that newTrainer refuses each of the changed configs on d.
func refused(t *testing.T, d *dataset.Dataset, cases ...refusal) {
	t.Helper()
	s := model.NewSettings(KindMLP, d, "ring", "", 3, 1)
	for _, c := range cases {
		bad := smallConfig()
		c.set(&bad)
		if _, err := newTrainer(KindMLP, bad, d, s); err == nil || !model.IsFlagError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
