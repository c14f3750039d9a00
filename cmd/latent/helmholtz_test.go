package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
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
