package vae

import (
	"context"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// newToyTrainer returns a trainer of kind made as `latent train kind` makes it,
// on toyData(n, 6, 1) (6×6 images, two classes).
func newToyTrainer(t *testing.T, kind string, n int) (*Trainer, *model.Settings) {
	t.Helper()
	d := toyData(n, 6, 1)
	f := DefaultFlags(kind)
	f.Latent, f.BatchSize = 2, 16
	if kind != KindConvVAE {
		f.Hidden = []int{8}
	}
	s := model.NewSettings(kind, d, "toy", "", 3, 1)
	s.Flags, s.Given = flagValues(f)
	tr, err := newFamilyTrainer(f, d, s)
	if err != nil {
		t.Fatal(err)
	}
	return tr.(*Trainer), s
}

func TestRegistered(t *testing.T) {
	for _, k := range []string{KindAE, KindVAE, KindCVAE, KindConvVAE} {
		fam := model.Lookup(k)
		if fam == nil {
			t.Fatalf("%s is not registered", k)
		}
		cfg := fam.Config().(*Flags)
		if cfg.Kind != k || model.Validate(cfg) != nil {
			t.Errorf("%s: defaults %+v invalid: %v", k, cfg, model.Validate(cfg))
		}
		if fam.Needs.Labels != (k == KindCVAE) || fam.Needs.Image != (k == KindConvVAE) || fam.Epochs != 10 {
			t.Errorf("%s: needs %+v, epochs %d", k, fam.Needs, fam.Epochs)
		}
	}
	if h := DefaultFlags(KindConvVAE).Hidden; len(h) != 1 || h[0] != 16 {
		t.Errorf("convvae's default hidden %v, want [16] (Keras example)", h)
	}
}

func TestSampleLabels(t *testing.T) {
	tr, _ := newToyTrainer(t, KindCVAE, 40)
	ctx := context.Background()
	d, err := tr.Sample(ctx, model.SampleOptions{N: 5, Seed: 1, Label: -1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 5 || d.Height != 6 || d.NumClasses != 2 || len(d.Labels) != 5 || d.Labels[3] != 1 || d.Labels[4] != 0 {
		t.Errorf("cvae samples: %d rows, %d×%d, labels %v", d.Len(), d.Height, d.Width, d.Labels)
	}
	d, err = tr.Sample(ctx, model.SampleOptions{N: 3, Seed: 1, Label: 1})
	if err != nil || d.Labels[0] != 1 || d.Labels[2] != 1 {
		t.Errorf("--label 1: %v %v", d.Labels, err)
	}
	if _, err := tr.Sample(ctx, model.SampleOptions{N: 3, Label: 2}); !model.IsFlagError(err) || !strings.Contains(err.Error(), "--label: must be in [0, 2), got 2") {
		t.Errorf("--label 2: %v", err)
	}
	v, _ := newToyTrainer(t, KindVAE, 40)
	if _, err := v.Sample(ctx, model.SampleOptions{N: 3, Label: 0}); !model.IsFlagError(err) {
		t.Errorf("--label on a vae: %v", err)
	}
	a, _ := newToyTrainer(t, KindAE, 40)
	if _, err := a.Sample(ctx, model.SampleOptions{N: 3, Label: -1}); err == nil || !strings.Contains(err.Error(), "no prior") {
		t.Errorf("sample from an ae: %v", err)
	}
}

// TestTransform: the codes are the encoder's μ and σ = exp(½ log σ²).
func TestTransform(t *testing.T) {
	tr, _ := newToyTrainer(t, KindVAE, 30)
	d := toyData(30, 6, 5)
	out, cols, err := tr.Transform(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if out.Rows != 30 || strings.Join(cols, " ") != "mu1 mu2 sigma1 sigma2" {
		t.Fatalf("%d rows, columns %v", out.Rows, cols)
	}
	mu, lv := tr.Model.Encode(nil, tensor.New(1, 2), d.X, nil)
	for i := 0; i < 30; i++ {
		for j := 0; j < 2; j++ {
			if out.At(i, j) != mu.At(i, j) || math.Abs(float64(out.At(i, 2+j))-math.Exp(0.5*float64(lv.At(i, j)))) > 1e-6 {
				t.Fatalf("row %d: %v, μ %v, log σ² %v", i, out.Row(i), mu.Row(i), lv.Row(i))
			}
		}
	}
	a, _ := newToyTrainer(t, KindAE, 30)
	if _, cols, err := a.Transform(context.Background(), d); err != nil || strings.Join(cols, " ") != "code1 code2" {
		t.Errorf("ae: %v %v", cols, err)
	}
}

func TestScoreAndDescribe(t *testing.T) {
	ctx := context.Background()
	tr, _ := newToyTrainer(t, KindCVAE, 40)
	d := toyData(20, 6, 7)
	est, err := tr.Score(ctx, d, model.ScoreOptions{Seed: 1, Family: &EvalConfig{K: 10, Classify: true}})
	if err != nil {
		t.Fatal(err)
	}
	if est.Method != "iwae-k10" || est.Bound != "lower" || est.N != 20 || len(est.PerExample) != 20 || !(est.StdErr > 0) {
		t.Errorf("estimate %+v", est)
	}
	keys := map[string]bool{}
	for _, m := range est.Extra {
		keys[m.Name] = true
	}
	for _, k := range []string{"elbo", "accuracy", "mean_log_p_label", "marginal_log_likelihood", "class_prior", "classify_estimator"} {
		if !keys[k] {
			t.Errorf("Extra lacks %s: %v", k, est.Extra)
		}
	}
	// The same numbers as the library's Evaluate with stream 4 of the seed.
	ev, _ := tr.Model.Evaluate(d, 10, rng.NewStream(1, 4))
	if ev.LogLik != est.LogLik {
		t.Errorf("Score %v, Evaluate %v", est.LogLik, ev.LogLik)
	}
	a, _ := newToyTrainer(t, KindAE, 40)
	est, err = a.Score(ctx, d, model.ScoreOptions{})
	if err != nil || !math.IsNaN(est.LogLik) || est.Extra[0].Name != "recon_log_lik" {
		t.Errorf("ae: %+v %v", est, err)
	}
	if _, err := a.Score(ctx, d, model.ScoreOptions{Family: &EvalConfig{K: 5, Classify: true}}); !model.IsFlagError(err) {
		t.Errorf("--classify on an ae: %v", err)
	}
	desc := map[string]any{}
	for _, m := range tr.Describe() {
		desc[m.Name] = m.Value
	}
	if desc["kind"] != "cvae" || desc["encoder"] != "36+2-8-2" || desc["classes"] != 2 || desc["decoder"] != "bernoulli" {
		t.Errorf("Describe: %v", desc)
	}
}

// TestMonitorRepeatable: the held-out figure depends on the seed and the
// epochs done, not on what ran before in the process.
func TestMonitorRepeatable(t *testing.T) {
	tr, _ := newToyTrainer(t, KindVAE, 40)
	d := toyData(30, 6, 5)
	a, _ := tr.Monitor(context.Background(), d)
	b, _ := tr.Monitor(context.Background(), d)
	if len(a) != 1 || a[0].Name != "elbo" || a[0].Value != b[0].Value {
		t.Errorf("Monitor: %v then %v", a, b)
	}
}

// TestPicturesCaptions writes the pictures of a 2-D cvae on 45 examples (a
// last grid row of 5) and checks the files.
func TestPicturesCaptions(t *testing.T) {
	tr, _ := newToyTrainer(t, KindCVAE, 45)
	dir := t.TempDir()
	d := toyData(45, 6, 1)
	paths, err := tr.Pictures(context.Background(), dir, d, false, 1)
	if err != nil || len(paths) != 2 {
		t.Fatalf("after an epoch: %v %v", paths, err)
	}
	paths, err = tr.Pictures(context.Background(), dir, d, true, 1)
	if err != nil || len(paths) != 5 {
		t.Fatalf("after the last epoch: %v %v", paths, err)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the demo model")
	}
	dir := t.TempDir()
	var lines []string
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(l string) { lines = append(lines, l) }})
	if err := demo(ctx, dir, 1); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vae-shapes-samples.png", "vae-shapes-traversals.png", "vae-shapes.model"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if len(lines) != 10 || !strings.HasPrefix(lines[9], "epoch 10/10: -ELBO ") {
		t.Errorf("demo lines: %q", lines)
	}
}

// FuzzHiddenFlag: whatever --hidden is given, parsing and validation give sizes
// in [1, 65536] or an error that names the flag.
func FuzzHiddenFlag(f *testing.F) {
	for _, s := range []string{"400", "400,400", "200, 200,50", "", "0", "-1", "a,b", "1,,2", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg := DefaultFlags(KindVAE)
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		model.Bind(fs, cfg)
		err := fs.Parse([]string{"--hidden", s})
		if err == nil {
			err = model.Validate(cfg)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "hidden") {
				t.Errorf("%q: error %q does not name the flag", s, err)
			}
			return
		}
		if len(cfg.Hidden) == 0 {
			t.Errorf("%q: no sizes and no error", s)
		}
		for _, n := range cfg.Hidden {
			if n < 1 || n > 65536 {
				t.Errorf("%q: size %d accepted", s, n)
			}
		}
	})
}
