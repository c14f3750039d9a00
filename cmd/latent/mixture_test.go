package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// blobsNPY writes three 2-D Gaussian blobs (300 points) as an .npy file.
func blobsNPY(t *testing.T, dir string) string {
	s := rng.New(3)
	x := tensor.New(300, 2)
	for i := 0; i < 300; i++ {
		c := float64(i % 3)
		x.Set(i, 0, float32(4*c+s.NormFloat64()))
		x.Set(i, 1, float32(-3*c+s.NormFloat64()))
	}
	p := filepath.Join(dir, "blobs.npy")
	writeNPY(t, p, x, []int{300, 2})
	return p
}

func TestTrainEvalSampleGMM(t *testing.T) {
	dir := noData(t)
	data := blobsNPY(t, dir)
	model := filepath.Join(dir, "g.model")
	pics := filepath.Join(dir, "pics")
	args := []string{"train", "gmm", "--data", data, "--components", "3", "--covariance", "tied", "--tol", "1e-8", "--seed", "2"}
	code, out, errs := latent(t, append(args, "--epochs", "300", "--out", model, "--json", "--pictures", pics)...)
	if code != 0 {
		t.Fatalf("train: %d %s", code, errs)
	}
	var tr struct {
		Model, Data        string
		Epochs, Iterations int
		Converged          bool
		Seconds            float64
		SecondsPerEpoch    float64 `json:"seconds_per_epoch"`
		LogLikelihood      float64 `json:"log_likelihood"`
		FreeEnergy         float64 `json:"loss"`
		LossName           string  `json:"loss_name"`
		BIC, AIC           float64
		Trace              []struct {
			Iter  int
			Phase string
			F     float64
		} `json:"free_energy_trace"`
	}
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatalf("train --json: %v: %q", err, out)
	}
	if tr.Model != "gmm" || !tr.Converged || tr.Iterations < 1 || tr.Epochs != tr.Iterations || len(tr.Trace) != 2*tr.Iterations ||
		tr.BIC <= tr.AIC || tr.LossName != "free_energy" || tr.FreeEnergy != -tr.LogLikelihood {
		t.Errorf("train --json: %+v", tr)
	}
	for i := 1; i < len(tr.Trace); i++ {
		if tr.Trace[i].F > tr.Trace[i-1].F+1e-12 {
			t.Errorf("F increased at trace entry %d: %v -> %v", i, tr.Trace[i-1].F, tr.Trace[i].F)
		}
	}
	for _, p := range []string{"free-energy.png", "components.png"} {
		if st, err := os.Stat(filepath.Join(pics, p)); err != nil || st.Size() == 0 {
			t.Errorf("no picture %s: %v", p, err)
		}
	}
	code, out, errs = latent(t, "eval", "--model", model, "--data", data, "--json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	var ev map[string]any
	json.Unmarshal([]byte(out), &ev)
	if ll, _ := ev["log_likelihood"].(float64); math.Abs(ll-tr.LogLikelihood) > 1e-9 || ev["estimator"] != "exact" || ev["bic"] == nil || ev["aic"] == nil || ev["n"] != 300.0 {
		t.Errorf("eval: %v, train log-likelihood %v", ev, tr.LogLikelihood)
	}
	// The human result is printed once, on one line (it was printed twice in two formats).
	code, out, _ = latent(t, "eval", "--model", model, "--data", data)
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "log p(x) = ") || !strings.Contains(out, "exact") {
		t.Errorf("eval: exit %d, stdout %q", code, out)
	}
	for _, f := range []string{"s.png", "s.npy"} {
		if code, _, errs := latent(t, "sample", "--model", model, "--n", "50", "--out", filepath.Join(dir, f)); code != 0 {
			t.Errorf("sample %s: %s", f, errs)
		}
	}
	// A converged run has nothing left to do, whatever --epochs says.
	fails(t, 2, append(args, "--epochs", "400", "--resume", model, "--out", filepath.Join(dir, "g2.model")),
		"--resume", "nothing to do", "converged after")
	// A resumed run keeps the file's settings.
	fails(t, 2, []string{"train", "gmm", "--components", "4", "--epochs", "400", "--resume", model, "--out", filepath.Join(dir, "g3.model")},
		"--components", "--components=3")
}

// TestGMMResumeCLI: 3 EM iterations, then --resume to 6, give the file 6 in one
// run gives (with two restarts side by side).
func TestGMMResumeCLI(t *testing.T) {
	dir := noData(t)
	data := blobsNPY(t, dir)
	args := []string{"train", "gmm", "--data", data, "--components", "3", "--covariance", "diag", "--tol", "0", "--n-init", "2", "--seed", "4"}
	full, half, resumed := filepath.Join(dir, "full.model"), filepath.Join(dir, "half.model"), filepath.Join(dir, "resumed.model")
	for _, c := range [][]string{
		append(args, "--epochs", "6", "--out", full),
		append(args, "--epochs", "3", "--out", half),
		{"train", "gmm", "--epochs", "6", "--resume", half, "--out", resumed},
	} {
		if code, _, errs := latent(t, c...); code != 0 {
			t.Fatalf("%q: %s", c, errs)
		}
	}
	a, _ := os.ReadFile(full)
	b, _ := os.ReadFile(resumed)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("6 iterations straight and 3 + 3 resumed give different files (%d and %d bytes)", len(a), len(b))
	}
}

func TestTrainBMMAndPCA(t *testing.T) {
	dir := noData(t)
	model := filepath.Join(dir, "b.model")
	code, out, errs := latent(t, "train", "bmm", "--data", "bars:4", "--components", "4", "--seed", "1", "--out", model, "--json")
	if code != 0 {
		t.Fatalf("train bmm: %s", errs)
	}
	var tr map[string]any
	json.Unmarshal([]byte(out), &tr)
	if _, ok := tr["converged"]; !ok || tr["free_energy_trace"] == nil || tr["log_likelihood"] == nil {
		t.Errorf("train --json lacks fields: %v", tr)
	}
	code, out, errs = latent(t, "eval", "--model", model, "--data", "bars:4", "--json", "--iw-k", "100")
	if code != 0 {
		t.Fatalf("eval bmm: %s", errs)
	}
	if code, _, errs := latent(t, "sample", "--model", model, "--n", "16", "--out", filepath.Join(dir, "b.png")); code != 0 {
		t.Errorf("sample bmm: %s", errs)
	}
	fails(t, 2, []string{"sample", "--model", model, "--n", "16", "--label", "4", "--out", filepath.Join(dir, "b.png")},
		"--label", "components 0 to 3, got 4")
	data := blobsNPY(t, dir)
	gm := filepath.Join(dir, "p.model")
	if code, _, errs := latent(t, "train", "gmm", "--data", data, "--components", "2", "--pca", "1", "--out", gm); code != 0 {
		t.Fatalf("train --pca: %s", errs)
	}
	code, out, errs = latent(t, "eval", "--model", gm, "--data", data, "--json")
	if code != 0 || !strings.Contains(out, `"estimator":"exact, of the 1-dimensional PCA projection"`) || !strings.Contains(out, `"pca":1`) {
		t.Errorf("eval --pca model: %s %s", out, errs)
	}
	if code, _, errs := latent(t, "sample", "--model", gm, "--n", "10", "--out", filepath.Join(dir, "p.npy")); code != 0 {
		t.Errorf("sample --pca model: %s", errs)
	}
}

func TestMixtureErrors(t *testing.T) {
	dir := noData(t)
	data := blobsNPY(t, dir)
	out := filepath.Join(dir, "x.model")
	// Two points, each repeated 20 times: without --reg both covariances are singular.
	x := tensor.New(40, 2)
	for i := 0; i < 40; i++ {
		x.Set(i, 0, float32(i%2))
		x.Set(i, 1, float32(i%2))
	}
	two := filepath.Join(dir, "two.npy")
	writeNPY(t, two, x, []int{40, 2})
	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"train", "gmm", "--data", data, "--out", out}, 2, []string{"--components", "got 0"}},
		{[]string{"train", "gmm", "--data", data, "--components", "0", "--out", out}, 2, []string{"--components"}},
		{[]string{"train", "gmm", "--data", data, "--components", "301", "--out", out}, 2, []string{"--components: 301 is more than the 300 examples"}},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--covariance", "round", "--out", out}, 2, []string{"--covariance", "round"}},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--reg", "-1", "--out", out}, 2, []string{"--reg", "-1"}},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--pca", "3", "--out", out}, 2, []string{"--pca", "3 is more than the 2 values"}},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--n-init", "0", "--out", out}, 2, []string{"--n-init"}},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--tol", "-1", "--out", out}, 2, []string{"--tol"}},
		{[]string{"train", "bmm", "--data", data, "--components", "2", "--out", out}, 1, []string{"[0, 1]"}},
		{[]string{"train", "bmm", "--data", "bars:3", "--components", "2", "--prior-a", "0.5", "--out", out}, 2, []string{"--prior-a"}},
		{[]string{"train", "bmm", "--data", "bars:3", "--components", "2", "--covariance", "diag", "--out", out}, 2, []string{"covariance"}},
		{[]string{"train", "gmm", "--data", data, "--components", "2"}, 2, []string{"--out"}},
		{[]string{"train", "gmm", "--data", two, "--components", "2", "--reg", "0", "--out", out}, 1, []string{"epoch 1", "not positive definite", "raise --reg (now 0)"}},
	}
	for _, c := range cases {
		fails(t, c.code, c.args, c.want...)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote --out")
	}
	// -h lists the family's flags with their meaning.
	code, stdout, _ := latent(t, "train", "gmm", "-h")
	for _, w := range []string{"--components", "--covariance", "--reg", "--tol", "--n-init", "--init-iters", "--pca", "--fast", "EM iteration"} {
		if code != 0 || !strings.Contains(stdout, w) {
			t.Errorf("train gmm -h lacks %q", w)
		}
	}
}

// TestMixtureEvalRejectsDynamic: eval scores fixed data, so --binarize dynamic is a
// usage error naming the flag and value (it used to be ignored silently), as in
// train and in the other families' eval.
func TestMixtureEvalRejectsDynamic(t *testing.T) {
	dir := noData(t)
	bmm, gmm := filepath.Join(dir, "b.model"), filepath.Join(dir, "g.model")
	if code, _, errs := latent(t, "train", "bmm", "--data", "bars:3", "--components", "2", "--out", bmm); code != 0 {
		t.Fatal(errs)
	}
	data := blobsNPY(t, dir)
	if code, _, errs := latent(t, "train", "gmm", "--data", data, "--components", "2", "--out", gmm); code != 0 {
		t.Fatal(errs)
	}
	for _, c := range [][]string{
		{"eval", "--model", bmm, "--data", "bars:3", "--binarize", "dynamic"},
		{"eval", "--model", gmm, "--data", data, "--binarize", "dynamic", "--json"},
	} {
		fails(t, 2, c, "--binarize: eval scores fixed data; use threshold or stochastic, got dynamic")
	}
	// threshold and stochastic still work
	for _, mode := range []string{"threshold", "stochastic"} {
		if code, _, errs := latent(t, "eval", "--model", bmm, "--data", "bars:3", "--binarize", mode); code != 0 {
			t.Errorf("--binarize %s: %s", mode, errs)
		}
	}
	// and training refuses dynamic binarisation: EM uses all the data at once.
	fails(t, 2, []string{"train", "bmm", "--data", "bars:3", "--components", "2", "--binarize", "dynamic", "--out", filepath.Join(dir, "d.model")},
		"--binarize", "threshold or stochastic")
}

// lastLine returns the last line of s (progress lines come first).
func lastLine(s string) string {
	i := len(s) - 1
	for i > 0 && s[i-1] != '\n' {
		i--
	}
	return s[i:]
}
