package helmholtz

import (
	"bytes"
	"context"
	"flag"
	"io"
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

// runSettings returns the settings the CLI would record for cfg on d.
func runSettings(t *testing.T, cfg *Config, d *dataset.Dataset, binarize string, epochs int) *model.Settings {
	t.Helper()
	fs := flag.NewFlagSet("train helmholtz", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	model.Bind(fs, cfg)
	s := model.NewSettings(Kind, d, "test", binarize, 3, epochs)
	s.Flags, s.Given = model.FlagValues(fs), map[string]string{}
	return s
}

// trainTo trains cfg on d for epochs epochs into out, in one run or, with split
// > 0, in two: split epochs, then model.Load and the rest.
func trainTo(t *testing.T, cfg *Config, d *dataset.Dataset, binarize string, epochs, split int, out string) error {
	t.Helper()
	first := epochs
	if split > 0 {
		first = split
	}
	s := runSettings(t, cfg, d, binarize, first)
	tr, err := newTrainer(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out}); err != nil || split == 0 {
		return err
	}
	f, err := checkpoint.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	m, s2, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	s2.Epochs = epochs
	_, err = model.Train(context.Background(), m.(model.Trainer), d, s2, model.TrainOptions{Out: out})
	return err
}

func grayData(n, dim int, seed uint64) *dataset.Dataset {
	x := tensor.New(n, dim)
	rng.New(seed).FillUniform(x.Data)
	return &dataset.Dataset{Name: "gray", X: x}
}

// TestFamilyResumeBitIdentical: 4 epochs straight and 1 + 3 resumed through the
// driver give the same file, byte for byte, for reweighted wake-sleep on binary
// data and for wake-sleep with dynamic binarisation; two identical runs too.
func TestFamilyResumeBitIdentical(t *testing.T) {
	bin := &dataset.Dataset{Name: "bin", X: binaryRows(50, 8, 2), Binary: true}
	rws := DefaultConfig()
	rws.Hidden, rws.K, rws.Batch, rws.LR = []int{5, 3}, 3, 7, 0.01
	ws := DefaultConfig()
	ws.Hidden, ws.Batch, ws.LR = []int{4}, 6, 0.02
	for _, c := range []struct {
		name     string
		cfg      *Config
		d        *dataset.Dataset
		binarize string
	}{{"rws", rws, bin, ""}, {"ws dynamic", ws, grayData(40, 9, 4), "dynamic"}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b, again := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
			for _, r := range []struct {
				out   string
				split int
			}{{a, 0}, {b, 1}, {again, 0}} {
				if err := trainTo(t, c.cfg, c.d, c.binarize, 4, r.split, r.out); err != nil {
					t.Fatal(err)
				}
			}
			fa, _ := os.ReadFile(a)
			fb, _ := os.ReadFile(b)
			fc, _ := os.ReadFile(again)
			if !bytes.Equal(fa, fb) {
				t.Error("4 epochs straight and 1 + 3 resumed give different files")
			}
			if !bytes.Equal(fa, fc) {
				t.Error("two identical runs give different files")
			}
		})
	}
}

// TestDivergence: --lr 1e10 stops training with an error naming the epoch and
// the parameter, and the file keeps the last good epoch.
func TestDivergence(t *testing.T) {
	d := &dataset.Dataset{Name: "bin", X: binaryRows(40, 8, 3), Binary: true}
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Batch = []int{4}, 10
	out := filepath.Join(t.TempDir(), "m.model")
	s := runSettings(t, cfg, d, "", 2)
	tr, _ := newTrainer(cfg, d, s)
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(out)
	f, _ := checkpoint.Load(out)
	m, s2, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	m.(*Trainer).Opt.LR = 1e10
	s2.Epochs = 4
	_, err = model.Train(context.Background(), m.(model.Trainer), d, s2, model.TrainOptions{Out: out})
	if err == nil || !strings.HasPrefix(err.Error(), "epoch 3: ") || !strings.Contains(err.Error(), "diverged") ||
		!strings.Contains(err.Error(), "keeps the model after epoch 2") {
		t.Errorf("lr 1e10: %v", err)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(good, after) {
		t.Error("the last good file was replaced")
	}
}

// TestScore: Score in pieces gives LogProb of one call bit for bit (k = 300, whose
// blocks of 3 examples do not divide the pieces' 100), with MeanStdErr's figures.
func TestScore(t *testing.T) {
	m := tiny([]int{10, 6, 3}, 1, 5)
	tr, _ := NewTrainer(m, WakeSleep())
	x := binaryRows(250, 10, 6)
	want := m.LogProb(nil, x, ISConfig{K: 300, Seed: 4})
	est, err := tr.Score(context.Background(), &dataset.Dataset{Name: "x", X: x}, model.ScoreOptions{Seed: 4, Family: &EvalConfig{IWK: 300}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float64bits(est.PerExample[i]) != math.Float64bits(want[i]) {
			t.Fatalf("example %d: %v in pieces, %v in one call", i, est.PerExample[i], want[i])
		}
	}
	mean, se := MeanStdErr(want)
	if est.LogLik != mean || est.StdErr != se || !(se > 0) || est.Bound != "lower" || est.N != 250 || !strings.Contains(est.Method, "k=300") {
		t.Errorf("estimate %+v, want mean %v ± %v", est, mean, se)
	}
	if _, err := tr.Score(context.Background(), grayData(3, 10, 1), model.ScoreOptions{}); err == nil || !strings.Contains(err.Error(), "not 0 or 1") {
		t.Errorf("gray data: %v", err)
	}
}

// TestFamilyUse: sample, transform, describe and draw a trained machine.
func TestFamilyUse(t *testing.T) {
	x := binaryRows(32, 16, 1)
	d := &dataset.Dataset{Name: "img", X: x, Binary: true, Height: 4, Width: 4, Channels: 1}
	cfg := DefaultConfig()
	cfg.Hidden, cfg.K, cfg.Batch = []int{6, 3}, 2, 8
	s := runSettings(t, cfg, d, "", 2)
	tr, err := newTrainer(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Flags["q-wake"] != "true" || !tr.(*Trainer).Cfg.QWake {
		t.Errorf("--rws-k 2 without --q-wake: q-wake %q", s.Flags["q-wake"])
	}
	dir := t.TempDir()
	res, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Pictures: dir, Test: d})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pictures) != 1 || len(res.Test) != 1 || res.Test[0].Name != "log_likelihood_k100" {
		t.Errorf("pictures %v, test %v", res.Pictures, res.Test)
	}
	m := tr.(*Trainer)
	smp, err := m.Sample(context.Background(), model.SampleOptions{N: 5, Seed: 1, Label: -1, Family: &SampleConfig{Means: false}})
	if err != nil || smp.Len() != 5 || checkBinary(smp.X) != nil {
		t.Errorf("binary samples: %v", err)
	}
	if _, err := m.Sample(context.Background(), model.SampleOptions{N: 5, Label: 1}); !model.IsFlagError(err) {
		t.Errorf("--label: %v", err)
	}
	out, cols, err := m.Transform(context.Background(), d)
	if err != nil || out.Rows != 32 || out.Cols != 6 || cols[5] != "q_h1_5" {
		t.Errorf("Transform: %v %v", cols, err)
	}
	desc := map[string]any{}
	for _, mt := range m.Describe() {
		desc[mt.Name] = mt.Value
	}
	if desc["layers"] != "16-6-3 (visible first)" || desc["algorithm"] != "reweighted wake-sleep, K = 2" || desc["q updates"] != "wake and sleep" {
		t.Errorf("Describe: %v", desc)
	}
	cfg.QSleep, cfg.K = false, 1
	if _, err := newTrainer(cfg, d, runSettings(t, cfg, d, "", 1)); !model.IsFlagError(err) || !strings.Contains(err.Error(), "--q-wake") {
		t.Errorf("neither q update: %v", err)
	}
}
