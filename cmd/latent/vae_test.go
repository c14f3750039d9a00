package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	for _, k := range []string{"model", "data", "epochs", "seconds", "seconds_per_epoch", "best_epoch_seconds", "loss", "recon", "kl", "elbo", "test_elbo"} {
		if _, ok := res[k]; !ok {
			t.Errorf("train --json lacks %q: %v", k, res)
		}
	}
	if res["loss"] != -res["elbo"].(float64) || res["loss_name"] != "-ELBO" {
		t.Errorf("train --json: loss %v (%v), elbo %v", res["loss"], res["loss_name"], res["elbo"])
	}
	if strings.Count(errs, "epoch ") != 2 || !strings.Contains(errs, "test elbo") {
		t.Errorf("progress lines: %q", errs)
	}
	for _, f := range []string{"samples.png", "reconstructions.png", "traversals.png", "manifold.png", "latent-scatter.png"} {
		if _, err := os.Stat(filepath.Join(pics, f)); err != nil {
			t.Errorf("--pictures: %v", err)
		}
	}
	if ps, _ := res["pictures"].([]any); len(ps) != 5 {
		t.Errorf("train --json pictures: %v", res["pictures"])
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
	if ev["estimator"] != "iwae-k50" || ev["n"].(float64) != 40 || !(ll >= elbo) || ll > 0 || ev["bound"] != "lower" {
		t.Errorf("eval: %v (want iwae-k50, n 40, elbo <= log_likelihood <= 0, a lower bound)", ev)
	}
	if se, _ := ev["log_likelihood_stderr"].(float64); !(se > 0) {
		t.Errorf("eval: no standard error: %v", ev)
	}
	// One line of text, the estimate a lower bound; --per-example writes one figure per example.
	per := filepath.Join(dir, "per.csv")
	code, out, errs = latent(t, "eval", "--model", model, "--data", "shapes,n=40,size=12,seed=9", "--iw-k", "50", "--per-example", per)
	if code != 0 || !strings.Contains(out, "vae on shapes,n=40,size=12,seed=9 (n=40): log p(x) ≥ ") || !strings.Contains(out, "iwae-k50, a lower bound") {
		t.Errorf("eval: %d %q %q", code, out, errs)
	}
	if b, err := os.ReadFile(per); err != nil || strings.Count(string(b), "\n") != 41 {
		t.Errorf("--per-example: %v, %d lines", err, strings.Count(string(b), "\n"))
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
	fa, _ := os.ReadFile(a)
	fb, _ := os.ReadFile(b)
	if len(fa) == 0 || !bytes.Equal(fa, fb) {
		t.Errorf("3 epochs and 1 + --resume to 3 give different model files (%d and %d bytes)", len(fa), len(fb))
	}
	// Identical runs write identical files (issue 13 item 4): no times inside.
	c := filepath.Join(dir, "c.model")
	if code, _, errs := latent(t, append([]string{"train", "vae", "--epochs", "3", "--out", c}, common...)...); code != 0 {
		t.Fatal(errs)
	}
	if fc, _ := os.ReadFile(c); !bytes.Equal(fa, fc) {
		t.Error("two identical runs wrote different model files")
	}
	// A contradicting flag on --resume is refused, naming both values.
	fails(t, 2, append([]string{"train", "vae", "--epochs", "4", "--out", c, "--resume", c, "--activation", "tanh"}, common...),
		"--activation", c, "--activation=relu", "--activation=tanh")
	// --lr may change on resume (a lower rate for the last epochs): the file records
	// the change, the new rate is the one used, and it is kept by later resumes.
	lo := filepath.Join(dir, "lo.model")
	code, outLo, errs := latent(t, append([]string{"train", "vae", "--epochs", "5", "--out", lo, "--resume", a, "--lr", "1e-4", "--json"}, common...)...)
	if code != 0 {
		t.Fatal(errs)
	}
	same := filepath.Join(dir, "same.model")
	code, outSame, errs := latent(t, append([]string{"train", "vae", "--epochs", "5", "--out", same, "--resume", a, "--json"}, common...)...)
	if code != 0 {
		t.Fatal(errs)
	}
	if eLo, eSame := decodeJSON(t, outLo)["elbo"], decodeJSON(t, outSame)["elbo"]; eLo == nil || eLo == eSame {
		t.Errorf("--lr 1e-4 on resume trained as the file's 1e-3 did: elbo %v and %v", eLo, eSame)
	}
	lo4 := filepath.Join(dir, "lo4.model")
	if code, _, errs := latent(t, append([]string{"train", "vae", "--epochs", "4", "--out", lo4, "--resume", a, "--lr", "0.0001"}, common...)...); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := latent(t, append([]string{"train", "vae", "--epochs", "5", "--out", lo4, "--resume", lo4}, common...)...); code != 0 {
		t.Fatal(errs)
	}
	flo, _ := os.ReadFile(lo)
	flo4, _ := os.ReadFile(lo4)
	if !bytes.Equal(flo, flo4) {
		t.Error("a resume at the new rate to epoch 4, then one without --lr to 5, differs from one to 5")
	}
	code, out, errs := latent(t, "inspect", "--json", lo)
	if code != 0 {
		t.Fatal(errs)
	}
	if !strings.Contains(out, "--lr 0.001 → 0.0001 after epoch 3") {
		t.Errorf("the retuned file does not record the change: %s", out)
	}
	code, out, errs = latent(t, "inspect", lo)
	if code != 0 {
		t.Fatal(errs)
	}
	if !strings.Contains(out, "resumed:   --lr 0.001 → 0.0001 after epoch 3") || !strings.Contains(out, "lr=0.0001") || strings.Contains(out, "--lr 0.0001") {
		t.Errorf("inspect: want the first command line, the change and the rate in force: %s", out)
	}
	// Resuming with --epochs not above those done says so.
	fails(t, 2, append([]string{"train", "vae", "--epochs", "3", "--out", c, "--resume", c}, common...),
		"nothing to do", "trained 3 of 3 epochs")
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
	oneError(t, errs, "rows have 100 values, the model 64")
	// ae: no prior to sample from, no density; --label only for a cvae.
	ae := filepath.Join(dir, "ae.model")
	if code, _, errs := latent(t, "train", "ae", "--data", "shapes,n=60,size=8", "--latent", "2", "--hidden", "8", "--epochs", "1", "--out", ae); code != 0 {
		t.Fatal(errs)
	}
	fails(t, 1, []string{"sample", "--model", ae, "--n", "4", "--out", filepath.Join(dir, "a.png")}, "autoencoder", "no prior")
	fails(t, 2, []string{"sample", "--model", conv, "--n", "4", "--label", "1", "--out", filepath.Join(dir, "a.png")},
		"--label: only a cvae takes a label; this model is a convvae")
	code, out, errs := latent(t, "eval", "--model", ae, "--data", "shapes,n=10,size=8", "--json")
	if ev := decodeJSON(t, out); code != 0 || ev["log_likelihood"] != nil || ev["recon_log_lik"] == nil ||
		ev["estimator"] != "none: an autoencoder defines no density" {
		t.Errorf("eval ae: %d %v %q", code, ev, errs)
	}
	code, out, _ = latent(t, "eval", "--model", ae, "--data", "shapes,n=10,size=8")
	if code != 0 || !strings.Contains(out, "ae on shapes,n=10,size=8 (n=10): no log-likelihood (none: an autoencoder defines no density); recon_log_lik ") {
		t.Errorf("eval ae text: %q", out)
	}
}

func TestVAEBadSettings(t *testing.T) {
	dir := noData(t)
	plain := filepath.Join(dir, "plain.npy")
	x := tensor.New(20, 10)
	for i := range x.Data {
		x.Data[i] = float32(i%3) / 2
	}
	writeNPY(t, plain, x, []int{20, 10})
	big := filepath.Join(dir, "big.npy") // values up to 2: not for a Bernoulli decoder
	for i := range x.Data {
		x.Data[i] = float32(i % 3)
	}
	writeNPY(t, big, x, []int{20, 10})
	out := filepath.Join(dir, "m.model")
	shapes := "shapes,n=10,size=8"
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "vae", "--data", shapes, "--latent", "0", "--out", out}, 2, "--latent: must be in [1,65536], got 0"},
		{[]string{"train", "vae", "--data", shapes, "--hidden", "10,x", "--out", out}, 2, `invalid value "10,x" for flag -hidden`},
		{[]string{"train", "vae", "--data", shapes, "--hidden", "10,0", "--out", out}, 2, "--hidden: must be in [1,65536], got 10,0"},
		{[]string{"train", "cvae", "--data", plain, "--out", out}, 1, "cvae needs labels"},
		{[]string{"train", "convvae", "--data", plain, "--out", out}, 1, "convvae needs image data"},
		{[]string{"train", "convvae", "--data", shapes, "--hidden", "16,16", "--out", out}, 2, "--hidden: convvae takes one dense hidden size, got 16,16"},
		{[]string{"train", "vae", "--data", shapes, "--decoder", "poisson", "--out", out}, 2, `--decoder: must be one of bernoulli, gaussian, got "poisson"`},
		{[]string{"train", "vae", "--data", shapes}, 2, "--out"},
		{[]string{"train", "vae", "--data", shapes, "--iw-k", "5", "--beta", "2", "--out", out}, 2, "beta must be 1"},
		{[]string{"train", "ae", "--data", shapes, "--iw-k", "5", "--out", out}, 2, "--iw-k: an autoencoder has no importance weights"},
		{[]string{"train", "vae", "--data", shapes, "--sigma2", "0.5", "--out", out}, 2, "--sigma2: is the variance of a Gaussian decoder"},
		{[]string{"train", "vae", "--data", shapes, "--schedule", "cosine", "--out", out}, 2, `--schedule: must be one of constant, burda, got "cosine"`},
		{[]string{"train", "vae", "--data", shapes, "--optimizer", "rmsprop", "--out", out}, 2, "--optimizer"},
		{[]string{"train", "vae", "--data", shapes, "--momentum", "1", "--out", out}, 2, "--momentum: must be in [0,1), got 1"},
		{[]string{"train", "vae", "--data", shapes, "--adam-eps", "0", "--out", out}, 2, "--adam-eps: must be in (0,inf), got 0"},
		{[]string{"train", "vae", "--data", shapes, "--batch", "0", "--out", out}, 2, "--batch: must be in"},
		{[]string{"train", "vae", "--data", shapes, "--lr", "0", "--out", out}, 2, "--lr: must be in (0,inf), got 0"},
		{[]string{"train", "vae", "--data", shapes, "--activation", "gelu", "--out", out}, 2, "--activation"},
		{[]string{"train", "vae", "--data", shapes, "--init", "zeros", "--out", out}, 2, "--init"},
		{[]string{"train", "vae", "--data", big, "--out", out}, 1, "Bernoulli decoder models values in [0, 1]"},
		// What this machine cannot hold is refused before any allocation (issue 13 item 5).
		{[]string{"train", "vae", "--data", shapes, "--iw-k", "100000", "--batch", "100000", "--out", out}, 2, "--iw-k: needs about"},
		{[]string{"train", "vae", "--data", shapes, "--hidden", strings.Repeat("65536,", 39) + "65536", "--out", out}, 2, "--hidden: needs about"},
	}
	for _, c := range cases {
		fails(t, c.code, c.args, c.want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed command wrote --out")
	}
	// A Gaussian decoder takes any values; a Bernoulli one scores only [0, 1].
	if code, _, errs := latent(t, "train", "vae", "--data", big, "--decoder", "gaussian", "--latent", "2", "--hidden", "4", "--epochs", "1", "--out", out); code != 0 {
		t.Error(errs)
	}
	bern := filepath.Join(dir, "b.model")
	if code, _, errs := latent(t, "train", "vae", "--data", plain, "--latent", "2", "--hidden", "4", "--epochs", "1", "--out", bern); code != 0 {
		t.Fatal(errs)
	}
	fails(t, 1, []string{"eval", "--model", bern, "--data", big, "--iw-k", "5"}, "Bernoulli decoder scores values in [0, 1]", "outside [0, 1]")
}

// TestVAEDivergence: an exploding learning rate stops training with one error
// naming the epoch, and the model file already at --out stays as it was
// (issue 13 item 3).
func TestVAEDivergence(t *testing.T) {
	dir := noData(t)
	m := filepath.Join(dir, "m.model")
	args := []string{"train", "vae", "--data", "shapes,n=200,size=8", "--latent", "2", "--hidden", "16", "--batch", "20", "--out", m}
	if code, _, errs := latent(t, append(args, "--epochs", "1")...); code != 0 {
		t.Fatal(errs)
	}
	before, _ := os.ReadFile(m)
	fails(t, 1, append(args, "--lr", "1e10", "--epochs", "3"), "epoch 1, step", "lower the learning rate", m+" was not written")
	if after, _ := os.ReadFile(m); !bytes.Equal(before, after) {
		t.Error("the diverged run changed the model file")
	}
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
	if code != 0 || !strings.Contains(out, "(n=9)") || !strings.Contains(out, "accuracy 1,") || !strings.Contains(out, "density log p(x|y)") {
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
	fails(t, 2, []string{"eval", "--model", vm, "--data", plain, "--classify"}, "--classify: only a cvae can classify (it models p(x|y)); this model is a vae")
	fails(t, 1, []string{"eval", "--model", model, "--data", plain, "--classify", "--iw-k", "5"}, "--classify: --data "+plain+" has no labels")
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

// eval binarises as in training, and says in its results when there was
// nothing to binarise: binary data are left as they are whatever the mode.
func TestEvalBinarizeReported(t *testing.T) {
	dir := noData(t)
	m := filepath.Join(dir, "v.model")
	if code, _, errs := latent(t, "train", "vae", "--data", "shapes,n=50,size=8", "--latent", "2", "--hidden", "8",
		"--binarize", "dynamic", "--epochs", "1", "--out", m); code != 0 {
		t.Fatal(errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "bars:8"}, "none (the data are binary)"},
		{[]string{"--data", "bars:8", "--binarize", "threshold"}, "none (the data are binary)"},
		{[]string{"--data", "shapes,n=50,size=8"}, "stochastic"},
		{[]string{"--data", "shapes,n=50,size=8", "--binarize", "threshold"}, "threshold"},
	} {
		code, out, errs := latent(t, append([]string{"eval", "--model", m, "--iw-k", "2", "--json"}, c.args...)...)
		if r := decodeJSON(t, out); code != 0 || r["binarize"] != c.want {
			t.Errorf("eval %v: %d %q, binarize %v, want %q", c.args, code, errs, r["binarize"], c.want)
		}
	}
	fails(t, 2, []string{"eval", "--model", m, "--data", "bars:8", "--binarize", "foo"}, "--binarize", `"foo"`)
}
