package vae

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func toyData(n, side int, seed uint64) *dataset.Dataset {
	s := rng.New(seed)
	x := tensor.New(n, side*side)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		c := s.IntN(2)
		labels[i] = c
		for r := 0; r < side; r++ {
			for q := 0; q < side; q++ {
				on := (c == 0 && r == side/2) || (c == 1 && q == side/2)
				v := float32(0.1)
				if on {
					v = 0.9
				}
				x.Set(i, r*side+q, v*(0.8+0.2*s.Float32()))
			}
		}
	}
	return &dataset.Dataset{Name: "toy", X: x, Labels: labels, NumClasses: 2, Height: side, Width: side, Channels: 1}
}

func trainerState(t *testing.T, tr *Trainer) []uint32 {
	var out []uint32
	for _, p := range tr.Model.Params() {
		for _, v := range p.W {
			out = append(out, math.Float32bits(v))
		}
	}
	for k := range tr.Adam.M {
		for i := range tr.Adam.M[k] {
			out = append(out, math.Float32bits(tr.Adam.M[k][i]), math.Float32bits(tr.Adam.V[k][i]))
		}
	}
	st, _ := tr.Rng.MarshalBinary()
	for _, b := range st {
		out = append(out, uint32(b))
	}
	return append(out, uint32(tr.Steps), uint32(tr.Adam.T))
}

// fit trains tr for epochs more epochs on d under model.Train, as `latent
// train` does with the trainer's seed and binarisation mode binarize, writing
// nothing; it returns the driver's result and error.
func fit(tr *Trainer, d *dataset.Dataset, epochs int, binarize string) (model.Result, error) {
	s := model.NewSettings(tr.Kind(), d, d.Name, binarize, tr.Config.Seed, tr.EpochsDone+epochs)
	s.EpochsDone = tr.EpochsDone
	return model.Train(context.Background(), tr, d, s, model.TrainOptions{})
}

// mustFit is fit that fails the test on an error.
func mustFit(t *testing.T, tr *Trainer, d *dataset.Dataset, epochs int) {
	t.Helper()
	if _, err := fit(tr, d, epochs, ""); err != nil {
		t.Fatal(err)
	}
}

// TestResumeBitIdentical trains 3 epochs in one run, and 1 epoch, then (load
// the file, 2 more epochs) in a second run, both under model.Train with dynamic
// binarisation and a model file written after every epoch, as `latent train`
// and `latent train --resume` do: the two files are the same bytes.
func TestResumeBitIdentical(t *testing.T) {
	dir := t.TempDir()
	for i, f := range []*Flags{
		{Config: Config{Kind: KindVAE, Latent: 3, Hidden: []int{20}}},
		{Config: Config{Kind: KindCVAE, Latent: 2, Hidden: []int{16}, IWK: 3, Decoder: Gaussian}},
		{Config: Config{Kind: KindConvVAE, Latent: 2, Hidden: []int{16}}},
		{Config: Config{Kind: KindVAE, Latent: 3, Hidden: []int{20, 12}, Dropout: 0.2}}, // the dropout stream is saved
	} {
		def := DefaultFlags(f.Kind)
		def.Latent, def.Hidden, def.IWK, def.Decoder = f.Latent, f.Hidden, max(f.IWK, 1), orString(f.Decoder, Bernoulli)
		def.Dropout = f.Dropout
		def.BatchSize = 32
		d := toyData(100, 6, 1)
		run := func(out string, epochs int, resume bool) {
			t.Helper()
			var (
				tr model.Trainer
				s  *model.Settings
			)
			if resume {
				file, err := checkpoint.Load(out)
				if err != nil {
					t.Fatal(err)
				}
				m, saved, err := model.Load(file)
				if err != nil {
					t.Fatal(err)
				}
				tr, s = m.(model.Trainer), saved
				s.Epochs = epochs
			} else {
				s = model.NewSettings(def.Kind, d, "toy", "dynamic", 5, epochs)
				s.Flags, s.Given = flagValues(def)
				var err error
				if tr, err = newFamilyTrainer(def, d, s); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out}); err != nil {
				t.Fatal(err)
			}
		}
		a, b := filepath.Join(dir, fmt.Sprintf("a%d.model", i)), filepath.Join(dir, fmt.Sprintf("b%d.model", i))
		run(a, 3, false)
		run(b, 1, false)
		one, _ := os.ReadFile(b)
		run(b, 3, true)
		fa, _ := os.ReadFile(a)
		fb, _ := os.ReadFile(b)
		if len(fa) == 0 || !bytes.Equal(fa, fb) {
			t.Errorf("%s: 3 epochs in one run and 1 + 2 resumed give different files (%d and %d bytes)", def.Kind, len(fa), len(fb))
		}
		if bytes.Equal(one, fb) {
			t.Errorf("%s: the resumed run did not change the file", def.Kind)
		}
	}
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestIdenticalRunsIdenticalFiles: two runs with the same seed write the same
// bytes (no times in the file; issue 13 item 4).
func TestIdenticalRunsIdenticalFiles(t *testing.T) {
	dir := t.TempDir()
	d := toyData(64, 6, 2)
	var files [2][]byte
	for i := range files {
		f := DefaultFlags(KindVAE)
		f.Latent, f.Hidden, f.BatchSize = 2, []int{8}, 16
		s := model.NewSettings(KindVAE, d, "toy", "", 9, 2)
		s.Flags, s.Given = flagValues(f)
		tr, err := newFamilyTrainer(f, d, s)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, fmt.Sprintf("r%d.model", i))
		if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out}); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(out)
	}
	if len(files[0]) == 0 || !bytes.Equal(files[0], files[1]) {
		t.Error("two identical runs wrote different model files")
	}
}

// TestWorkersSameBits trains with 1 and 2 workers on batches big enough to be split.
func TestWorkersSameBits(t *testing.T) {
	run := func(w int) []uint32 {
		tensor.SetWorkers(w)
		defer tensor.SetWorkers(0)
		d := toyData(256, 24, 2)
		tr, err := NewTrainer(Config{Latent: 4, Hidden: []int{64}, IWK: 2}, 24*24, TrainConfig{BatchSize: 128, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		mustFit(t, tr, d, 1)
		ev, err := tr.Model.Evaluate(d, 20, rng.New(4))
		if err != nil {
			t.Fatal(err)
		}
		return append(trainerState(t, tr), uint32(math.Float64bits(ev.LogLik)), uint32(math.Float64bits(ev.LogLik)>>32))
	}
	a, b := run(1), run(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("state word %d differs between 1 and 2 workers", i)
		}
	}
}

func TestTrainingLearns(t *testing.T) {
	d := toyData(400, 8, 3)
	for _, cfg := range []Config{
		{Latent: 2, Hidden: []int{32}},
		{Kind: KindAE, Latent: 2, Hidden: []int{32}},
		{Kind: KindCVAE, Latent: 2, Hidden: []int{32}, CondDim: 2},
	} {
		tr, err := NewTrainer(cfg, 64, TrainConfig{BatchSize: 20, LR: 3e-3, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		mustFit(t, tr, d, 10)
		first, last := tr.History[0], tr.History[9]
		if !(last.Loss < first.Loss-2) {
			t.Errorf("%s: loss %.3f after 10 epochs, %.3f after 1", cfg.Kind, last.Loss, first.Loss)
		}
	}
}

func TestNaNLossNamesStep(t *testing.T) {
	d := toyData(64, 6, 1)
	tr, err := NewTrainer(Config{Latent: 2, Hidden: []int{8}}, 36, TrainConfig{BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	mustFit(t, tr, d, 1)
	tr.Model.Dec.Params()[0].W[0] = float32(math.NaN())
	before := trainerState(t, tr)
	_, err = fit(tr, d, 1, "")
	if err == nil || !strings.Contains(err.Error(), "epoch 2, step 1 of 4: vae: the training loss is NaN") {
		t.Errorf("NaN weights: error %v, want one naming epoch 2, step 1", err)
	}
	if strings.Count(fmt.Sprint(err), "epoch 2") != 1 {
		t.Errorf("the error names the epoch twice: %v", err)
	}
	// The parameters and moments are those before the failed step (the noise
	// stream has moved on: the step drew its ε).
	after := trainerState(t, tr)
	n := 0
	for _, p := range tr.params {
		n += 3 * len(p.W) // the weights, then both moments
	}
	for i := 0; i < n; i++ {
		if before[i] != after[i] {
			t.Fatalf("state word %d changed by the step that failed", i)
		}
	}
}

// TestDivergenceIsAnError: an exploding learning rate stops training with an
// error naming the epoch (issue 13 item 3), and Check calls a huge or
// non-finite parameter a divergence.
func TestDivergenceIsAnError(t *testing.T) {
	d := toyData(64, 6, 1)
	tr, err := NewTrainer(Config{Latent: 2, Hidden: []int{8}}, 36, TrainConfig{BatchSize: 16, LR: 1e10})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fit(tr, d, 3, "")
	if err == nil || !strings.Contains(err.Error(), "epoch 1") || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("lr 1e10: error %v, want one naming epoch 1 and the learning rate", err)
	}
	ok, _ := NewTrainer(Config{Latent: 2, Hidden: []int{8}}, 36, TrainConfig{})
	if err := ok.Check(); err != nil {
		t.Errorf("a fresh model: %v", err)
	}
	for _, v := range []float32{1e9, float32(math.Inf(-1)), float32(math.NaN())} {
		ok.Model.Enc.Params()[1].W[0] = v
		if err := ok.Check(); err == nil || !strings.Contains(err.Error(), "diverged") {
			t.Errorf("parameter %v: Check gives %v", v, err)
		}
	}
}

// TestGradAllocs: once warm, a training step allocates no matrices: what remains
// are a few closures handed to the worker pool (tens of bytes each), far less than
// one 32×64 batch matrix (8 KiB).
func TestGradAllocs(t *testing.T) {
	d := toyData(64, 8, 1)
	tr, _ := NewTrainer(Config{Latent: 2, Hidden: []int{16}}, 64, TrainConfig{BatchSize: 32})
	x := d.X.Slice(0, 32)
	s := rng.New(1)
	step := func() {
		tr.Model.Grad(x, nil, s)
		tr.Adam.Step(tr.params)
	}
	step()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const n = 50
	for i := 0; i < n; i++ {
		step()
	}
	runtime.ReadMemStats(&m1)
	perStep := float64(m1.TotalAlloc-m0.TotalAlloc) / n
	t.Logf("%.0f bytes, %.1f allocations per warm step", perStep, float64(m1.Mallocs-m0.Mallocs)/n)
	if perStep > 4096 {
		t.Errorf("%.0f bytes allocated per warm training step", perStep)
	}
}

// TestBurdaSchedule checks the stage boundaries of the Burda et al. (2016)
// schedule: 3^i epochs at lr·10^(−i/7), 3280 epochs for i = 0…7.
func TestBurdaSchedule(t *testing.T) {
	c := TrainConfig{LR: 1e-3, Schedule: "burda"}
	stage := func(i int) float64 { return 1e-3 * math.Pow(10, -float64(i)/7) }
	for _, tc := range []struct{ epoch, stage int }{
		{0, 0}, {1, 1}, {3, 1}, {4, 2}, {12, 2}, {13, 3}, {39, 3}, {40, 4},
		{1092, 6}, {1093, 7}, {3279, 7}, {3280, 8},
	} {
		if got, want := c.LearningRate(tc.epoch), stage(tc.stage); got != want {
			t.Errorf("epoch %d: lr %g, want %g (stage %d)", tc.epoch, got, want, tc.stage)
		}
	}
	// Count the epochs of each of the eight stages directly.
	counts := map[float64]int{}
	for e := 0; e < 3280; e++ {
		counts[c.LearningRate(e)]++
	}
	for i := 0; i < 8; i++ {
		if got, want := counts[stage(i)], int(math.Pow(3, float64(i))); got != want {
			t.Errorf("stage %d: %d epochs, want %d", i, got, want)
		}
	}
	if c := (TrainConfig{LR: 2e-3}); c.LearningRate(500) != 2e-3 {
		t.Errorf("constant schedule changed the rate: %g", c.LearningRate(500))
	}
	if _, err := (TrainConfig{Schedule: "cosine"}).withDefaults(); err == nil {
		t.Error("unknown schedule accepted")
	}
}

// With --dropout the MLP has a Dropout after every hidden layer of both
// networks, on while training and off otherwise: the model's bound is the same
// on every call outside training and differs from the mean of the training
// objective's networks; convvae refuses the setting.
func TestDropoutTrainingOnly(t *testing.T) {
	d := toyData(200, 6, 1)
	tr, err := NewTrainer(Config{Kind: KindVAE, Latent: 3, Hidden: []int{20, 12}, Dropout: 0.5}, d.Dim(), TrainConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	m := tr.Model
	count := 0
	for _, net := range []*nn.Sequential{m.Enc, m.Dec} {
		for i, l := range net.Layers {
			if dl, ok := l.(*nn.Dropout); ok {
				count++
				if dl.Training() {
					t.Errorf("layer %d: Dropout on outside training", i)
				}
				if _, ok := net.Layers[i-1].(*nn.Activation); !ok {
					t.Errorf("Dropout after %T", net.Layers[i-1])
				}
			}
		}
	}
	if count != 4 {
		t.Fatalf("%d Dropout layers, want 4 (two hidden layers in each network)", count)
	}
	mustFit(t, tr, d, 2)
	x := d.X.Slice(0, 50)
	// The reconstruction's mean (no noise: z = μ) twice: the same bits.
	r1 := m.Reconstruct(nil, x, nil).Clone()
	r2 := m.Reconstruct(nil, x, nil).Clone()
	for i := range r1.Data {
		if r1.Data[i] != r2.Data[i] {
			t.Fatalf("reconstruction %d differs between calls outside training: dropout left on", i)
		}
	}
	m.SetDropout(true)
	r3 := m.Reconstruct(nil, x, nil).Clone()
	m.SetDropout(false)
	same := true
	for i := range r1.Data {
		same = same && r1.Data[i] == r3.Data[i]
	}
	if same {
		t.Error("dropout switched on changes nothing")
	}
	if _, err := New(Config{Kind: KindConvVAE, Latent: 2, Height: 6, Width: 6, Channels: 1, Dropout: 0.2}, 36, rng.New(1)); err == nil || !strings.Contains(err.Error(), "dropout") {
		t.Errorf("convvae with dropout: %v", err)
	}
}
