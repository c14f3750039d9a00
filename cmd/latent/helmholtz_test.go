package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func TestHelmholtzCLI(t *testing.T) {
	dir := noData(t)
	full := filepath.Join(dir, "full.model")
	args := []string{"train", "helmholtz", "--data", "bars:3", "--hidden", "6,3", "--rws-k", "3", "--batch", "4", "--lr", "0.01", "--seed", "2"}
	code, out, errs := latent(t, append(args, "--epochs", "4", "--out", full, "--json")...)
	if code != 0 {
		t.Fatalf("train: %s", errs)
	}
	var tr map[string]any
	if err := json.Unmarshal([]byte(out), &tr); err != nil || tr["epochs"] != 4.0 || tr["train_bound"] == nil || tr["loss_name"] != "-bound" {
		t.Errorf("train --json: %v %v", err, tr)
	}
	if b, _ := tr["train_bound_per_epoch"].([]any); len(b) != 4 || b[3] != tr["train_bound"] {
		t.Errorf("train_bound_per_epoch: %v", tr["train_bound_per_epoch"])
	}
	// Resume: 2 epochs, then 2 more from the file, equals 4 straight, byte for byte.
	half := filepath.Join(dir, "half.model")
	if code, _, errs := latent(t, append(args, "--epochs", "2", "--out", half)...); code != 0 {
		t.Fatal(errs)
	}
	resumed := filepath.Join(dir, "resumed.model")
	if code, _, errs := latent(t, "train", "helmholtz", "--epochs", "4", "--resume", half, "--out", resumed); code != 0 {
		t.Fatal(errs)
	}
	a, _ := os.ReadFile(full)
	b, _ := os.ReadFile(resumed)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("4 epochs straight and 2 + 2 resumed give different files (%d and %d bytes)", len(a), len(b))
	}
	code, out, errs = latent(t, "eval", "--model", full, "--data", "bars:3", "--iw-k", "50", "--json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	var ev map[string]any
	json.Unmarshal([]byte(out), &ev)
	if ll, ok := ev["log_likelihood"].(float64); !ok || ll > 0 || ev["estimator"] != "importance sampling, k=50, proposal q(h|x)" ||
		ev["iw_k"] != 50.0 || ev["bound"] != "lower" || ev["log_likelihood_stderr"] == nil || ev["n"] != 14.0 {
		t.Errorf("eval --json: %v", ev)
	}
	code, out, _ = latent(t, "eval", "--model", full, "--data", "bars:3", "--iw-k", "1")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "ELBO (one sample)") || !strings.Contains(out, " ± ") {
		t.Errorf("eval --iw-k 1: %q", out)
	}
	png := filepath.Join(dir, "s.png")
	if code, _, errs := latent(t, "sample", "--model", full, "--n", "16", "--out", png); code != 0 {
		t.Errorf("sample: %s", errs)
	} else if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("sample wrote nothing")
	}
	if code, _, errs := latent(t, "sample", "--model", full, "--n", "16", "--means=false", "--out", filepath.Join(dir, "s.npy")); code != 0 {
		t.Errorf("sample --means=false: %s", errs)
	}
	e := filepath.Join(dir, "e.model")
	for _, c := range []struct {
		extra []string
		want  []string
	}{
		{[]string{"--hidden", "0"}, []string{"--hidden", "got 0"}},
		{[]string{"--hidden", "a,b"}, []string{"--hidden", `"a,b"`}},
		{[]string{"--rws-k", "0"}, []string{"--rws-k"}},
		{[]string{"--lr", "-1"}, []string{"--lr", "-1"}},
		{[]string{"--batch", "0"}, []string{"--batch"}},
		{[]string{"--q-sleep=false"}, []string{"--q-wake", "--q-sleep"}},
		{[]string{"--rws-k", "3", "--q-wake=false", "--q-sleep=false"}, []string{"--q-wake"}},
	} {
		fails(t, 2, append([]string{"train", "helmholtz", "--data", "bars:3", "--out", e}, c.extra...), c.want...)
	}
	// --rws-k 3 alone turns the wake update of q on; --q-sleep=false is then fine.
	if code, _, errs := latent(t, "train", "helmholtz", "--data", "bars:3", "--hidden", "4", "--rws-k", "3", "--q-sleep=false", "--epochs", "1", "--out", e); code != 0 {
		t.Errorf("--rws-k 3 --q-sleep=false: %s", errs)
	}
	// A resumed run keeps the file's settings: q-wake was on (by --rws-k 3).
	fails(t, 2, []string{"train", "helmholtz", "--q-wake=false", "--epochs", "2", "--resume", e, "--out", filepath.Join(dir, "e2.model")},
		"--q-wake", "--q-wake=true")
}

// TestHelmholtzDivergence: --lr 1e10 stops with an error naming the epoch (it used
// to train to a log-likelihood of -3e30 and exit 0), and no file is written.
func TestHelmholtzDivergence(t *testing.T) {
	dir := noData(t)
	out := filepath.Join(dir, "d.model")
	fails(t, 1, []string{"train", "helmholtz", "--data", "bars:3", "--hidden", "4", "--lr", "1e10", "--epochs", "3", "--out", out},
		"epoch 1", "diverged", "lower the learning rate", "was not written")
	if _, err := os.Stat(out); err == nil {
		t.Error("a diverged run wrote its model")
	}
}

// TestHelmholtzBinarizeTrainEval: data in [0, 1] that are not binary are refused by
// train and eval alike without --binarize, each with one line naming --data and
// --binarize; with --binarize, eval binarises the same --data as training did
// (dynamic: one fixed draw).
func TestHelmholtzBinarizeTrainEval(t *testing.T) {
	dir := noData(t)
	x := tensor.New(40, 9)
	rng.New(5).FillUniform(x.Data)
	gray := filepath.Join(dir, "gray.npy")
	writeNPY(t, gray, x, []int{40, 9})
	common := []string{"--hidden", "4", "--batch", "10", "--epochs", "2", "--seed", "3"}
	train := func(out string, extra ...string) []string {
		return append(append([]string{"train", "helmholtz", "--out", filepath.Join(dir, out)}, common...), extra...)
	}
	eval := func(model string, extra ...string) []string {
		return append([]string{"eval", "--model", filepath.Join(dir, model), "--iw-k", "5", "--json"}, extra...)
	}
	fails(t, 1, train("raw.model", "--data", gray), "--data "+gray, "binary", "--binarize")
	if code, _, errs := latent(t, train("bars.model", "--data", "bars:3")...); code != 0 {
		t.Fatal(errs)
	}
	fails(t, 1, eval("bars.model", "--data", gray), "--data "+gray, "binary", "--binarize")

	// With --binarize, what train accepts eval accepts, with the same --data.
	for _, mode := range []string{"threshold", "stochastic", "dynamic"} {
		model := mode + ".model"
		if code, _, errs := latent(t, train(model, "--data", gray, "--binarize", mode)...); code != 0 {
			t.Fatalf("train --binarize %s: %s", mode, errs)
		}
		if code, _, errs := latent(t, eval(model, "--data", gray)...); code != 0 {
			t.Errorf("eval of a --binarize %s model on the same data: %s", mode, errs)
		}
	}
	fails(t, 2, eval("dynamic.model", "--data", gray, "--binarize", "dynamic"),
		"--binarize: eval scores fixed data; use threshold or stochastic, got dynamic")

	// --resume keeps the file's binarisation: a dynamic run resumes without the flag
	// (and its model still evaluates), a threshold one refuses --binarize dynamic.
	if code, _, errs := latent(t, "train", "helmholtz", "--resume", filepath.Join(dir, "dynamic.model"), "--epochs", "3",
		"--out", filepath.Join(dir, "dynamic2.model")); code != 0 {
		t.Errorf("resume a dynamic run without --binarize: %s", errs)
	} else if code, _, errs := latent(t, eval("dynamic2.model", "--data", gray)...); code != 0 {
		t.Errorf("eval of the resumed dynamic run: %s", errs)
	}
	fails(t, 2, []string{"train", "helmholtz", "--data", gray, "--binarize", "dynamic", "--resume", filepath.Join(dir, "threshold.model"),
		"--epochs", "3", "--out", filepath.Join(dir, "t2.model")}, "--binarize", "threshold.model", "--binarize=threshold")
}
