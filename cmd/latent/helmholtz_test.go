package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
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
	if err := json.Unmarshal([]byte(out), &tr); err != nil || tr["algorithm"] != "reweighted wake-sleep" || tr["epochs"] != 4.0 {
		t.Errorf("train --json: %v %v", err, tr)
	}
	// Resume: 2 epochs, then 2 more from the file, equals 4 straight.
	half := filepath.Join(dir, "half.model")
	if code, _, errs := latent(t, append(args, "--epochs", "2", "--out", half)...); code != 0 {
		t.Fatal(errs)
	}
	resumed := filepath.Join(dir, "resumed.model")
	if code, _, errs := latent(t, append(args, "--epochs", "4", "--resume", half, "--out", resumed)...); code != 0 {
		t.Fatal(errs)
	}
	a, _ := checkpoint.Load(full)
	b, _ := checkpoint.Load(resumed)
	if a == nil || b == nil || len(a.Tensors) != len(b.Tensors) {
		t.Fatal("model files missing")
	}
	for i := range a.Tensors {
		ta, tb := a.Tensors[i], b.Tensors[i]
		for j := range ta.F32 {
			if math.Float32bits(ta.F32[j]) != math.Float32bits(tb.F32[j]) {
				t.Fatalf("tensor %s[%d]: %v straight, %v resumed", ta.Name, j, ta.F32[j], tb.F32[j])
			}
		}
	}
	code, out, errs = latent(t, "eval", "--model", full, "--data", "bars:3", "--iw-k", "50", "--json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	var ev map[string]any
	json.Unmarshal([]byte(out), &ev)
	if ll, ok := ev["log_likelihood"].(float64); !ok || ll > 0 || ev["estimator"] == nil {
		t.Errorf("eval --json: %v", ev)
	}
	png := filepath.Join(dir, "s.png")
	if code, _, errs := latent(t, "sample", "--model", full, "--n", "16", "--out", png); code != 0 {
		t.Errorf("sample: %s", errs)
	} else if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("sample wrote nothing")
	}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--hidden", "0"}, "--hidden"},
		{[]string{"--hidden", "a,b"}, "--hidden"},
		{[]string{"--rws-k", "0"}, "--rws-k"},
		{[]string{"--lr", "-1"}, "--lr"},
		{[]string{"--q-sleep=false"}, "--q-wake"},
	} {
		code, _, errs := latent(t, append([]string{"train", "helmholtz", "--data", "bars:3", "--out", filepath.Join(dir, "e.model")}, c.extra...)...)
		if code == 0 {
			t.Errorf("%v accepted", c.extra)
			continue
		}
		oneError(t, lastLine(errs), c.want)
	}
}

// TestHelmholtzBinarizeTrainEval: data in [0, 1] that are not binary are refused by
// train and eval alike without --binarize (train used to fit the intensities as
// soft targets, then eval refused the same data); with --binarize, eval binarises
// the same --data as training did, and --binarize dynamic gives one fixed draw.
func TestHelmholtzBinarizeTrainEval(t *testing.T) {
	dir := noData(t)
	x := tensor.New(40, 9)
	rng.New(5).FillUniform(x.Data)
	gray := filepath.Join(dir, "gray.npy")
	writeNPY(t, gray, x, []int{40, 9})
	common := []string{"--hidden", "4", "--batch", "10", "--epochs", "2", "--seed", "3"}
	train := func(out string, extra ...string) (int, string) {
		args := append([]string{"train", "helmholtz", "--out", filepath.Join(dir, out)}, common...)
		code, _, errs := latent(t, append(args, extra...)...)
		return code, errs
	}
	eval := func(model string, extra ...string) (int, string) {
		code, _, errs := latent(t, append([]string{"eval", "--model", filepath.Join(dir, model), "--iw-k", "5", "--json"}, extra...)...)
		return code, errs
	}

	// The same error from train and from eval, for the same --data.
	code, trainErr := train("raw.model", "--data", gray)
	if code == 0 {
		t.Fatal("train helmholtz on non-binary data without --binarize succeeded")
	}
	want := "--data " + gray + ": value " // the first value, row 0
	oneError(t, trainErr, want, "is not 0 or 1", "--binarize")
	if code, errs := train("bars.model", "--data", "bars:3"); code != 0 {
		t.Fatal(errs)
	}
	code, evalErr := eval("bars.model", "--data", gray)
	if code == 0 {
		t.Fatal("eval of a binary-data model on non-binary data succeeded")
	}
	if evalErr != trainErr {
		t.Errorf("train and eval disagree about the same data:\ntrain: %q\neval:  %q", trainErr, evalErr)
	}

	// With --binarize, what train accepts eval accepts, with the same --data.
	for _, mode := range []string{"threshold", "stochastic", "dynamic"} {
		model := mode + ".model"
		if code, errs := train(model, "--data", gray, "--binarize", mode); code != 0 {
			t.Fatalf("train --binarize %s: %s", mode, errs)
		}
		if code, errs := eval(model, "--data", gray); code != 0 {
			t.Errorf("eval of a --binarize %s model on the same data: %s", mode, errs)
		}
	}
	code, errs := eval("dynamic.model", "--data", gray, "--binarize", "dynamic")
	if code != 2 {
		t.Errorf("eval --binarize dynamic: exit %d", code)
	}
	oneError(t, errs, "--binarize: eval scores fixed data; use threshold or stochastic, got dynamic")

	// --resume keeps the file's binarisation: a dynamic run resumes without the flag
	// (and its model still evaluates), a non-dynamic one refuses --binarize dynamic.
	if code, errs := train("dynamic2.model", "--data", gray, "--resume", filepath.Join(dir, "dynamic.model"), "--epochs", "3"); code != 0 {
		t.Errorf("resume a dynamic run without --binarize: %s", errs)
	} else if code, errs := eval("dynamic2.model", "--data", gray); code != 0 {
		t.Errorf("eval of the resumed dynamic run: %s", errs)
	}
	code, errs = train("t2.model", "--data", gray, "--binarize", "dynamic", "--resume", filepath.Join(dir, "threshold.model"), "--epochs", "3")
	if code != 2 {
		t.Errorf("resume a threshold run with --binarize dynamic: exit %d", code)
	}
	oneError(t, errs, "--binarize: dynamic, but", "threshold.model was trained without it")
}
