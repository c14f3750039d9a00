package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func TestVAETrainSampleEval(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "v.model")
	pics := filepath.Join(dir, "pics")
	code, out, errs := latent(t, "train", "vae", "--data", "shapes,n=300,size=12", "--test", "shapes,n=100,size=12,seed=9",
		"--latent", "2", "--hidden", "32", "--epochs", "2", "--batch", "50", "--lr", "3e-3", "--out", model, "--pictures", pics, "--json")
	if code != 0 {
		t.Fatalf("train exited %d: %s", code, errs)
	}
	res := decodeJSON(t, out)
	for _, k := range []string{"model", "data", "epochs", "seconds", "seconds_per_epoch", "loss", "elbo", "test_elbo"} {
		if _, ok := res[k]; !ok {
			t.Errorf("train --json lacks %q: %v", k, res)
		}
	}
	if strings.Count(errs, "epoch ") != 2 || !strings.Contains(errs, "test elbo") {
		t.Errorf("progress lines: %q", errs)
	}
	for _, f := range []string{"samples.png", "reconstructions.png", "traversals.png", "manifold.png", "latent-scatter.png"} {
		if _, err := os.Stat(filepath.Join(pics, f)); err != nil {
			t.Errorf("--pictures: %v", err)
		}
	}
	png, npy := filepath.Join(dir, "s.png"), filepath.Join(dir, "s.npy")
	if code, _, errs := latent(t, "sample", "--model", model, "--n", "16", "--out", png); code != 0 {
		t.Fatalf("sample png: %s", errs)
	}
	if code, _, errs := latent(t, "sample", "--model", model, "--n", "5", "--out", npy, "--seed", "3"); code != 0 {
		t.Fatalf("sample npy: %s", errs)
	}
	if st, err := os.Stat(npy); err != nil || st.Size() < 5*144*4 {
		t.Errorf("samples.npy: %v", err)
	}
	code, out, errs = latent(t, "eval", "--model", model, "--data", "shapes,n=40,size=12,seed=9", "--iw-k", "50", "--json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	ev := decodeJSON(t, out)
	ll, elbo := ev["log_likelihood"].(float64), ev["elbo"].(float64)
	if ev["estimator"] != "iwae-k50" || ev["n"].(float64) != 40 || !(ll >= elbo) || ll > 0 {
		t.Errorf("eval: %v (want iwae-k50, n 40, elbo <= log_likelihood <= 0)", ev)
	}
}

// TestVAEResumeCLI: 1 epoch + --resume to 3 gives the same model file tensors as 3 epochs.
func TestVAEResumeCLI(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.model"), filepath.Join(dir, "b.model")
	common := []string{"--data", "shapes,n=200,size=10", "--latent", "3", "--hidden", "16", "--batch", "32", "--binarize", "dynamic", "--seed", "4"}
	if code, _, errs := latent(t, append([]string{"train", "vae", "--epochs", "3", "--out", a}, common...)...); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := latent(t, append([]string{"train", "vae", "--epochs", "1", "--out", b}, common...)...); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := latent(t, append([]string{"train", "vae", "--epochs", "3", "--out", b, "--resume", b}, common...)...); code != 0 {
		t.Fatal(errs)
	}
	fa, err := checkpoint.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := checkpoint.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa.Tensors) != len(fb.Tensors) {
		t.Fatalf("%d vs %d tensors", len(fa.Tensors), len(fb.Tensors))
	}
	for i, ta := range fa.Tensors {
		tb := fb.Tensors[i]
		if ta.Name != tb.Name || len(ta.F32) != len(tb.F32) || string(ta.Bytes) != string(tb.Bytes) {
			t.Fatalf("tensor %d: %s vs %s", i, ta.Name, tb.Name)
		}
		for j := range ta.F32 {
			if math.Float32bits(ta.F32[j]) != math.Float32bits(tb.F32[j]) {
				t.Fatalf("tensor %s differs at %d after resume", ta.Name, j)
			}
		}
		for j := range ta.F64 {
			if ta.F64[j] != tb.F64[j] {
				t.Fatalf("tensor %s differs at %d after resume", ta.Name, j)
			}
		}
	}
}

func TestCVAEAndConvVAE(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	cv := filepath.Join(dir, "c.model")
	if code, _, errs := latent(t, "train", "cvae", "--data", "shapes,n=100,size=8", "--latent", "2", "--hidden", "16", "--epochs", "1", "--out", cv); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := latent(t, "sample", "--model", cv, "--n", "4", "--label", "2", "--out", filepath.Join(dir, "c.png")); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs := latent(t, "sample", "--model", cv, "--n", "4", "--label", "7", "--out", filepath.Join(dir, "c.png"))
	if code == 0 {
		t.Error("--label 7 on a 3-class cvae succeeded")
	}
	oneError(t, errs, "--label: must be in [0, 3), got 7")
	conv := filepath.Join(dir, "conv.model")
	if code, _, errs := latent(t, "train", "convvae", "--data", "shapes,n=60,size=8", "--latent", "2", "--epochs", "1", "--out", conv, "--json"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := latent(t, "eval", "--model", conv, "--data", "shapes,n=10,size=8", "--iw-k", "5"); code != 0 {
		t.Fatal(errs)
	}
	// a convvae model cannot score images of another size
	code, _, errs = latent(t, "eval", "--model", conv, "--data", "shapes,n=10,size=10", "--iw-k", "5")
	if code == 0 {
		t.Error("convvae scored 10×10 images")
	}
	oneError(t, errs, "100 values per example")
}

func TestVAEBadSettings(t *testing.T) {
	dir := noData(t)
	plain := filepath.Join(dir, "plain.npy")
	x := tensor.New(20, 10)
	for i := range x.Data {
		x.Data[i] = float32(i%3) / 2
	}
	writeNPY(t, plain, x, []int{20, 10})
	out := filepath.Join(dir, "m.model")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "vae", "--data", "shapes,n=10,size=8", "--latent", "0", "--out", out}, "--latent: must be in [1, 65536], got 0"},
		{[]string{"train", "vae", "--data", "shapes,n=10,size=8", "--hidden", "10,x", "--out", out}, "--hidden"},
		{[]string{"train", "cvae", "--data", plain, "--out", out}, "cvae needs labels"},
		{[]string{"train", "convvae", "--data", plain, "--out", out}, "convvae needs image data"},
		{[]string{"train", "vae", "--data", "shapes,n=10,size=8", "--decoder", "poisson", "--out", out}, `unknown decoder "poisson"`},
		{[]string{"train", "vae", "--data", "shapes,n=10,size=8"}, "--out"},
		{[]string{"train", "vae", "--data", "shapes,n=10,size=8", "--iw-k", "5", "--beta", "2", "--out", out}, "beta must be 1"},
	}
	for _, c := range cases {
		code, _, errs := latent(t, c.args...)
		if code == 0 {
			t.Errorf("%v succeeded", c.args)
			continue
		}
		oneError(t, errs, c.want)
	}
}

func TestVAEDemoStep(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the demo model")
	}
	noData(t)
	dir := t.TempDir()
	if err := demoVAE(&Env{Stdout: os.Stdout, Stderr: &strings.Builder{}}, dir, 1); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vae-shapes-samples.png", "vae-shapes-traversals.png", "vae-shapes.model"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func FuzzParseHidden(f *testing.F) {
	for _, s := range []string{"400", "400,400", "200, 200,50", "", "0", "-1", "a,b", "1,,2", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHidden(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--hidden: ") {
				t.Errorf("error %q does not name the flag", err)
			}
			return
		}
		if len(h) == 0 {
			t.Errorf("%q: no sizes and no error", s)
		}
		for _, n := range h {
			if n < 1 || n > maxWidth {
				t.Errorf("%q: size %d accepted", s, n)
			}
		}
	})
}

// twoPatternFiles writes n binary rows of 16 values and their labels as .npy files
// and returns the data SPEC: class 0 has its first 8 values on with probability 0.9
// and the rest with 0.1, class 1 (every third example) the opposite.
func twoPatternFiles(t *testing.T, dir, name string, n int, seed uint64) string {
	const P = 16
	s := rng.New(seed)
	x, y := tensor.New(n, P), tensor.New(n, 1)
	for i := 0; i < n; i++ {
		c := 0
		if i%3 == 2 {
			c = 1
		}
		y.Set(i, 0, float32(c))
		for j := 0; j < P; j++ {
			p := 0.1
			if (j < P/2) == (c == 0) {
				p = 0.9
			}
			if s.Float64() < p {
				x.Set(i, j, 1)
			}
		}
	}
	xp, yp := filepath.Join(dir, name+".npy"), filepath.Join(dir, name+".labels.npy")
	writeNPY(t, xp, x, []int{n, P})
	writeNPY(t, yp, y, []int{n})
	return xp + ":labels=" + yp
}

// TestCVAEClassify trains a cvae on two well-separated patterns and classifies
// held-out data with `eval --classify`: accuracy 1, log p(label|x) near 0, beside the
// usual ELBO and log-likelihood; then the mistakes a user can make.
func TestCVAEClassify(t *testing.T) {
	dir := noData(t)
	train := twoPatternFiles(t, dir, "train", 300, 1)
	test := twoPatternFiles(t, dir, "test", 60, 2)
	model := filepath.Join(dir, "c.model")
	if code, _, errs := latent(t, "train", "cvae", "--data", train, "--latent", "2", "--hidden", "16",
		"--epochs", "15", "--batch", "30", "--lr", "0.01", "--out", model); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := latent(t, "eval", "--model", model, "--data", test, "--classify", "--iw-k", "10", "--json")
	if code != 0 {
		t.Fatalf("eval --classify: %s", errs)
	}
	ev := decodeJSON(t, out)
	for _, k := range []string{"model", "data", "n", "elbo", "log_likelihood", "estimator", "accuracy", "mean_log_p_label",
		"marginal_log_likelihood", "class_prior", "classify_estimator"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("eval --classify --json lacks %q: %v", k, ev)
		}
	}
	acc, _ := ev["accuracy"].(float64)
	lpl, _ := ev["mean_log_p_label"].(float64)
	if acc != 1 || !(lpl > -0.05 && lpl <= 0) || ev["n"] != 60.0 || ev["class_prior"] != "training class frequencies" {
		t.Errorf("eval --classify: %v (want accuracy 1, mean_log_p_label in (-0.05, 0], n 60, training class frequencies)", ev)
	}
	// --n limits the examples classified; the text output names the figures.
	code, out, errs = latent(t, "eval", "--model", model, "--data", test, "--classify", "--iw-k", "5", "--n", "9")
	if code != 0 || !strings.Contains(out, "(n=9)") || !strings.Contains(out, "accuracy 1.0000") {
		t.Errorf("eval --classify --n 9: %d %q %q", code, out, errs)
	}

	plain := filepath.Join(dir, "plain.npy") // rows without labels
	x := tensor.New(20, 16)
	rng.New(3).FillUniform(x.Data)
	writeNPY(t, plain, x, []int{20, 16})
	vm := filepath.Join(dir, "v.model")
	if code, _, errs := latent(t, "train", "vae", "--data", plain, "--latent", "2", "--hidden", "8", "--epochs", "1", "--out", vm); code != 0 {
		t.Fatal(errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--model", vm, "--data", plain, "--classify"}, "--classify: only a cvae can classify (it models p(x|y)); " + vm + " holds a vae"},
		{[]string{"eval", "--model", model, "--data", plain, "--classify", "--iw-k", "5"}, "--classify: --data " + plain + " has no labels"},
	} {
		code, out, errs := latent(t, c.args...)
		if code == 0 || out != "" {
			t.Errorf("%v: exit %d, stdout %q", c.args, code, out)
			continue
		}
		oneError(t, errs, c.want)
	}
}

// TestVAEEvalDynamicDefault: a model trained with --binarize dynamic is scored on one
// fixed draw by default, the same numbers as an explicit --binarize stochastic.
func TestVAEEvalDynamicDefault(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	m := filepath.Join(dir, "d.model")
	if code, _, errs := latent(t, "train", "vae", "--data", "shapes,n=100,size=8", "--latent", "2", "--hidden", "16",
		"--binarize", "dynamic", "--epochs", "1", "--out", m); code != 0 {
		t.Fatal(errs)
	}
	eval := func(extra ...string) map[string]any {
		args := append([]string{"eval", "--model", m, "--data", "shapes,n=30,size=8", "--iw-k", "5", "--json"}, extra...)
		code, out, errs := latent(t, args...)
		if code != 0 {
			t.Fatal(errs)
		}
		return decodeJSON(t, out)
	}
	def, expl := eval(), eval("--binarize", "stochastic")
	if def["binarize"] != "stochastic" || def["log_likelihood"] != expl["log_likelihood"] || def["elbo"] != expl["elbo"] {
		t.Errorf("default eval %v, explicit stochastic %v", def, expl)
	}
	if th := eval("--binarize", "threshold"); th["log_likelihood"] == def["log_likelihood"] {
		t.Errorf("threshold and stochastic draws scored the same: %v", th)
	}
}
