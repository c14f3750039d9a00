package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
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
	plot := filepath.Join(dir, "f.png")
	code, out, errs := latent(t, "train", "gmm", "--data", data, "--components", "3", "--covariance", "tied",
		"--tol", "1e-8", "--epochs", "300", "--seed", "2", "--out", model, "--json", "--plot", plot)
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
		FreeEnergy         float64 `json:"free_energy"`
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
	if tr.Model != "gmm" || !tr.Converged || tr.Iterations < 1 || len(tr.Trace) != 2*tr.Iterations || tr.BIC <= tr.AIC {
		t.Errorf("train --json: %+v", tr)
	}
	for i := 1; i < len(tr.Trace); i++ {
		if tr.Trace[i].F > tr.Trace[i-1].F+1e-12 {
			t.Errorf("F increased at trace entry %d: %v -> %v", i, tr.Trace[i-1].F, tr.Trace[i].F)
		}
	}
	if st, err := os.Stat(plot); err != nil || st.Size() == 0 {
		t.Errorf("no plot: %v", err)
	}
	code, out, errs = latent(t, "eval", "--model", model, "--data", data, "--json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	var ev map[string]any
	json.Unmarshal([]byte(out), &ev)
	if ll, _ := ev["log_likelihood"].(float64); math.Abs(ll-tr.LogLikelihood) > 1e-9 || ev["estimator"] != "exact" || ev["bic"] == nil {
		t.Errorf("eval: %v, train log-likelihood %v", ev, tr.LogLikelihood)
	}
	for _, f := range []string{"s.png", "s.npy"} {
		if code, _, errs := latent(t, "sample", "--model", model, "--n", "50", "--out", filepath.Join(dir, f)); code != 0 {
			t.Errorf("sample %s: %s", f, errs)
		}
	}
	// Resume from the fitted model: EM starts converged.
	code, out, errs = latent(t, "train", "gmm", "--data", data, "--components", "3", "--resume", model, "--out", filepath.Join(dir, "g2.model"), "--json")
	if code != 0 {
		t.Fatalf("resume: %s", errs)
	}
	var tr2 struct {
		LogLikelihood float64 `json:"log_likelihood"`
		Iterations    int
	}
	json.Unmarshal([]byte(out), &tr2)
	if tr2.Iterations > 2 || math.Abs(tr2.LogLikelihood-tr.LogLikelihood) > 1e-6 {
		t.Errorf("resumed fit: %+v, first fit %v", tr2, tr.LogLikelihood)
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
	if _, ok := tr["converged"]; !ok || tr["free_energy_trace"] == nil {
		t.Errorf("train --json lacks fields: %v", tr)
	}
	code, out, errs = latent(t, "eval", "--model", model, "--data", "bars:4", "--json")
	if code != 0 {
		t.Fatalf("eval bmm: %s", errs)
	}
	if code, _, errs := latent(t, "sample", "--model", model, "--n", "16", "--out", filepath.Join(dir, "b.png")); code != 0 {
		t.Errorf("sample bmm: %s", errs)
	}
	data := blobsNPY(t, dir)
	gm := filepath.Join(dir, "p.model")
	if code, _, errs := latent(t, "train", "gmm", "--data", data, "--components", "2", "--pca", "1", "--out", gm); code != 0 {
		t.Fatalf("train --pca: %s", errs)
	}
	if code, _, errs := latent(t, "eval", "--model", gm, "--data", data, "--json"); code != 0 {
		t.Errorf("eval --pca model: %s", errs)
	}
}

func TestMixtureErrors(t *testing.T) {
	dir := noData(t)
	data := blobsNPY(t, dir)
	out := filepath.Join(dir, "x.model")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "gmm", "--data", data, "--components", "0", "--out", out}, "--components"},
		{[]string{"train", "gmm", "--data", data, "--components", "301", "--out", out}, "--components: 301 is more than the 300 examples"},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--covariance", "round", "--out", out}, "--covariance"},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--reg", "-1", "--out", out}, "--reg"},
		{[]string{"train", "gmm", "--data", data, "--components", "2", "--pca", "3", "--out", out}, "--pca"},
		{[]string{"train", "bmm", "--data", data, "--components", "2", "--out", out}, "[0, 1]"},
		{[]string{"train", "gmm", "--data", data, "--components", "2"}, "--out"},
	}
	for _, c := range cases {
		code, _, errs := latent(t, c.args...)
		if code == 0 {
			t.Errorf("%v: succeeded", c.args)
			continue
		}
		oneError(t, lastLine(errs), c.want)
	}
}

// lastLine returns the last line of s (progress lines come first).
func lastLine(s string) string {
	i := len(s) - 1
	for i > 0 && s[i-1] != '\n' {
		i--
	}
	return s[i:]
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
		code, out, errs := latent(t, c...)
		if code != 2 || out != "" {
			t.Errorf("%v: exit %d, stdout %q (want a usage error)", c, code, out)
		}
		oneError(t, errs, "--binarize: eval scores fixed data; use threshold or stochastic, got dynamic")
	}
	// threshold and stochastic still work
	for _, mode := range []string{"threshold", "stochastic"} {
		if code, _, errs := latent(t, "eval", "--model", bmm, "--data", "bars:3", "--binarize", mode); code != 0 {
			t.Errorf("--binarize %s: %s", mode, errs)
		}
	}
}
