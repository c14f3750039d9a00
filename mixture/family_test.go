package mixture

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
	"github.com/latent-ml/latent/tensor"
)

// settings returns the run settings of family name with cfg on d, as the CLI
// records them.
func settings(t *testing.T, name string, cfg any, d *dataset.Dataset, epochs int) *model.Settings {
	t.Helper()
	fs := flag.NewFlagSet("train "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	model.Bind(fs, cfg)
	s := model.NewSettings(name, d, "test", "", 7, epochs)
	s.Flags, s.Given = model.FlagValues(fs), map[string]string{}
	return s
}

// trainFile trains family name with cfg on d for epochs epochs in one run, or
// in two with a save, model.Load and resume after split epochs (split > 0),
// and returns the final model file's bytes.
func trainFile(t *testing.T, name string, cfg any, d *dataset.Dataset, epochs, split int) []byte {
	t.Helper()
	fam := model.Lookup(name)
	out := filepath.Join(t.TempDir(), "m.model")
	first := epochs
	if split > 0 {
		first = split
	}
	s := settings(t, name, cfg, d, first)
	tr, err := fam.New(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	if split > 0 {
		f, err := checkpoint.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		m, s2, err := model.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		s2.Epochs = epochs
		if _, err := model.Train(context.Background(), m.(model.Trainer), d, s2, model.TrainOptions{Out: out}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFamilyResumeBitIdentical: N EM iterations in one run and k, save, load, N-k
// more give the same file, byte for byte, for gmm (with PCA, and with restarts
// side by side) and bmm.
func TestFamilyResumeBitIdentical(t *testing.T) {
	x, _ := blobs([][]float64{{0, 0, 0}, {4, 4, 0}, {0, 4, 4}}, 60, 1.2, 3)
	d := &dataset.Dataset{Name: "blobs", X: x}
	_, xb, _ := plantedBernoulli(t)
	db := &dataset.Dataset{Name: "planted", X: xb, Binary: true}
	gmm := func(mod func(*GMMConfig)) *GMMConfig {
		c := DefaultGMM()
		c.Components, c.Tol = 3, 0
		mod(c)
		return c
	}
	bmm := DefaultBMM()
	bmm.Components, bmm.Tol, bmm.NInit = 4, 0, 2
	cases := []struct {
		name, kind string
		cfg        any
		d          *dataset.Dataset
	}{
		{"gmm full", KindGaussian, gmm(func(*GMMConfig) {}), d},
		{"gmm diag 3 restarts", KindGaussian, gmm(func(c *GMMConfig) { c.Covariance, c.NInit = "diag", 3 }), d},
		{"gmm tied pca", KindGaussian, gmm(func(c *GMMConfig) { c.Covariance, c.PCA, c.Fast = "tied", 2, true }), d},
		{"bmm 2 restarts", KindBernoulli, bmm, db},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := trainFile(t, c.kind, c.cfg, c.d, 6, 0)
			b := trainFile(t, c.kind, c.cfg, c.d, 6, 2)
			if !bytes.Equal(a, b) {
				t.Errorf("6 epochs straight and 2 + 4 resumed give different files (%d and %d bytes)", len(a), len(b))
			}
			if c := trainFile(t, c.kind, c.cfg, c.d, 6, 0); !bytes.Equal(a, c) {
				t.Errorf("two identical runs give different files")
			}
			// Restarts sharing one set of E-step buffers give the same numbers.
			defer func(b float64) { workBudget = b }(workBudget)
			workBudget = 0
			if c := trainFile(t, c.kind, c.cfg, c.d, 6, 0); !bytes.Equal(a, c) {
				t.Errorf("shared E-step buffers give a different file")
			}
		})
	}
}

// TestFamilyMatchesFit: the family's training gives the same parameters, bit for
// bit, as FitGaussian with the same settings, and keeps the restart FitGaussian
// keeps; its trace of F never increases.
func TestFamilyMatchesFit(t *testing.T) {
	x, _ := blobs([][]float64{{0, 0}, {3, 0}, {0, 3}}, 80, 1, 5)
	d := &dataset.Dataset{Name: "blobs", X: x}
	cfg := DefaultGMM()
	cfg.Components, cfg.NInit, cfg.Tol = 3, 3, 1e-9
	s := settings(t, KindGaussian, cfg, d, 500)
	tr, err := newGMM(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := tr.(*Mixture)
	g, want, err := FitGaussian(x, GaussianConfig{Components: 3, RegCovar: DefaultRegCovar, NInit: 3, Seed: 7, EM: EMConfig{MaxIter: 500, Tol: 1e-9}})
	if err != nil {
		t.Fatal(err)
	}
	got := m.Result()
	if !res.Converged || got.Init != want.Init || got.Iterations != want.Iterations || got.FreeEnergy != want.FreeEnergy {
		t.Errorf("family: converged %v, restart %d, %d iterations, F %v; FitGaussian: restart %d, %d iterations, F %v",
			res.Converged, got.Init, got.Iterations, got.FreeEnergy, want.Init, want.Iterations, want.FreeEnergy)
	}
	for i, v := range m.Gaussian().Covariances {
		if v != g.Covariances[i] {
			t.Fatalf("covariance %d: %v, FitGaussian %v", i, v, g.Covariances[i])
		}
	}
	for i := range got.InitF {
		if got.InitF[i] != want.InitF[i] {
			t.Errorf("restart %d: F %v, FitGaussian %v", i, got.InitF[i], want.InitF[i])
		}
	}
	for _, r := range m.restarts {
		checkMonotone(t, "family", r.run.result(), 0)
	}
	if len(got.History) != 2*got.Iterations {
		t.Errorf("trace has %d entries for %d iterations", len(got.History), got.Iterations)
	}
}

// TestFamilyRegError: a singular covariance names the flag that helps, --reg.
func TestFamilyRegError(t *testing.T) {
	x := tensor.New(40, 2)
	for i := 0; i < 40; i++ { // two points, each repeated: singular without reg
		x.Set(i, 0, float32(i%2))
		x.Set(i, 1, float32(i%2))
	}
	d := &dataset.Dataset{Name: "twopoints", X: x}
	cfg := DefaultGMM()
	cfg.Components, cfg.Reg = 2, 0
	s := settings(t, KindGaussian, cfg, d, 5)
	tr, err := newGMM(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = model.Train(context.Background(), tr, d, s, model.TrainOptions{})
	if err == nil || !strings.Contains(err.Error(), "--reg") || strings.Contains(err.Error(), "reg_covar") {
		t.Errorf("error %v, want one naming --reg", err)
	}
}

// TestFamilyUse: describe, transform, sample and score a trained gmm and bmm.
func TestFamilyUse(t *testing.T) {
	x, _ := blobs([][]float64{{0, 0}, {5, 5}}, 50, 1, 2)
	d := &dataset.Dataset{Name: "blobs", X: x}
	cfg := DefaultGMM()
	cfg.Components = 2
	s := settings(t, KindGaussian, cfg, d, 50)
	tr, _ := newGMM(cfg, d, s)
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	m := tr.(*Mixture)
	desc := map[string]any{}
	for _, mt := range m.Describe() {
		desc[mt.Name] = mt.Value
	}
	if desc["covariances"] != "2×2×2" || desc["covariance"] != "full" || desc["means"] != "2×2" || desc["parameters"] != 11 {
		t.Errorf("Describe: %v", desc)
	}
	out, cols, err := m.Transform(context.Background(), d)
	if err != nil || out.Rows != 100 || len(cols) != 4 || cols[0] != "component" || cols[3] != "p_1" {
		t.Fatalf("Transform: %v %v", cols, err)
	}
	for i := 0; i < out.Rows; i++ {
		r := out.Row(i)
		if p := r[2] + r[3]; math.Abs(float64(p)-1) > 1e-5 || (r[0] == 1) != (r[3] > r[2]) {
			t.Fatalf("row %d: %v", i, r)
		}
	}
	smp, err := m.Sample(context.Background(), model.SampleOptions{N: 20, Seed: 1, Label: 1})
	if err != nil || smp.Len() != 20 || smp.Labels[7] != 1 {
		t.Fatalf("Sample --label 1: %v", err)
	}
	if _, err := m.Sample(context.Background(), model.SampleOptions{N: 2, Label: 2}); !model.IsFlagError(err) {
		t.Errorf("Sample --label 2 of 2 components: %v", err)
	}
	est, err := m.Score(context.Background(), d, model.ScoreOptions{})
	if err != nil || est.Method != "exact" || len(est.PerExample) != 100 || math.Abs(est.LogLik-m.Result().LogLikelihood) > 1e-12 {
		t.Errorf("Score: %+v %v", est, err)
	}
	dir := t.TempDir()
	pics, err := m.Pictures(context.Background(), dir, d, true, 1)
	if err != nil || len(pics) != 2 || filepath.Base(pics[1]) != "components.png" {
		t.Errorf("Pictures: %v %v", pics, err)
	}
	// A Bernoulli mixture of images draws its components' probabilities.
	_, xb, _ := plantedBernoulli(t)
	db := &dataset.Dataset{Name: "planted", X: xb, Binary: true, Height: 1, Width: xb.Cols, Channels: 1}
	bc := DefaultBMM()
	bc.Components = 4
	sb := settings(t, KindBernoulli, bc, db, 20)
	tb, _ := newBMM(bc, db, sb)
	if _, err := model.Train(context.Background(), tb, db, sb, model.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	pics, err = tb.(model.Picturer).Pictures(context.Background(), dir, db, true, 1)
	if err != nil || len(pics) != 2 || filepath.Base(pics[1]) != "means.png" {
		t.Errorf("bmm Pictures: %v %v", pics, err)
	}
	// Data outside [0, 1] are refused by name.
	bad := &dataset.Dataset{Name: "gray", X: tensor.FromSlice(1, xb.Cols, make([]float32, xb.Cols))}
	bad.X.Data[3] = 2
	if _, err := tb.(model.Scorer).Score(context.Background(), bad, model.ScoreOptions{}); err == nil || !strings.Contains(err.Error(), "[0, 1]") {
		t.Errorf("bmm scored a 2: %v", err)
	}
}

// TestDemo runs the demo step and checks its files.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(s string) { lines = append(lines, s) }})
	if err := demoGMM(ctx, dir, 1); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"gmm-blobs.model", "gmm-blobs-free-energy.png", "gmm-blobs-components.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "converged true") {
		t.Errorf("demo reported %q", lines)
	}
}
