package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/latent-ml/latent/ising"
)

// TestMain lets a sweep's child processes run this test binary as latent:
// with LATENT_TEST_AS_MAIN=1 it is the command, not the tests.
func TestMain(m *testing.M) {
	if os.Getenv("LATENT_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const tinyIsing = `
steps = [
  "train rbm --data ising:L=4,T={T},n=200 --hidden {h} --epochs 2 --seed 3 --out model.lat --json",
  "eval --model model.lat --data ising:L=4,T={T},n=200 --samples 50 --gibbs-steps 20 --json",
]
[axes]
T = [2.0, 3.0]
h = [4, 6]
`

// A tiny Ising sweep run locally gives, for each run, exactly the figures of
// its commands run by hand; running it again runs nothing; a half-finished
// sweep resumes from the missing step alone.
func TestSweepLocal(t *testing.T) {
	noData(t)
	t.Setenv("LATENT_TEST_AS_MAIN", "1")
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.toml")
	os.WriteFile(file, []byte(tinyIsing), 0o644)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := latent(t, "sweep", file, "--local", "2", "--dir", out)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "4 runs done (4 now, 0 before)") {
		t.Errorf("stdout %q", stdout)
	}

	// Run 3 (T=3, h=6) by hand.
	hand := t.TempDir()
	model := filepath.Join(hand, "model.lat")
	if c, _, e := latent(t, "train", "rbm", "--data", "ising:L=4,T=3,n=200", "--hidden", "6", "--epochs", "2", "--seed", "3", "--out", model, "--json"); c != 0 {
		t.Fatal(e)
	}
	c, evalOut, e := latent(t, "eval", "--model", model, "--data", "ising:L=4,T=3,n=200", "--samples", "50", "--gibbs-steps", "20", "--json")
	if c != 0 {
		t.Fatal(e)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(evalOut), &want); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr = latent(t, "sweep", "collect", out, "--format", "csv")
	if code != 0 {
		t.Fatalf("collect: %s", stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("collect csv (%v):\n%s", err, stdout)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	r3 := rows[4]
	if r3[col["T"]] != "3" || r3[col["h"]] != "6" || r3[col["state"]] != "done" {
		t.Fatalf("row 3: %v", r3)
	}
	isg := want["ising"].(map[string]any)
	model3 := isg["model"].(map[string]any)
	for key, w := range map[string]any{
		"eval.log_likelihood":            want["log_likelihood"],
		"eval.ising.model.energy":        model3["energy"],
		"eval.ising.model.abs_mag":       model3["abs_mag"],
		"eval.ising.data.energy":         isg["data"].(map[string]any)["energy"],
		"eval.ising.model.specific_heat": model3["specific_heat"],
	} {
		got, err := strconv.ParseFloat(r3[col[key]], 64)
		if err != nil || got != w.(float64) {
			t.Errorf("%s = %q in the table, %v by hand", key, r3[col[key]], w)
		}
	}
	if got, _ := strconv.ParseFloat(r3[col["onsager.energy"]], 64); got != ising.Onsager(3) {
		t.Errorf("onsager.energy at T=3: %q, want %v", r3[col["onsager.energy"]], ising.Onsager(3))
	}
	for _, f := range []string{"results.md", "results.csv", "results.json", "ising.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("collect did not write %s", f)
		}
	}

	// Again: nothing runs (no step output is rewritten).
	before, _ := os.Stat(filepath.Join(out, "runs", "000", "step1.out"))
	code, stdout, _ = latent(t, "sweep", file, "--local", "2", "--dir", out)
	after, _ := os.Stat(filepath.Join(out, "runs", "000", "step1.out"))
	if code != 0 || !strings.Contains(stdout, "(0 now, 4 before)") || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("second sweep: exit %d, %q", code, stdout)
	}
	// Half-finished: run 1 lost its eval. Only that step runs again, and the
	// table is as before.
	os.Remove(filepath.Join(out, "runs", "001", "step2.done"))
	train1, _ := os.ReadFile(filepath.Join(out, "runs", "001", "step1.out"))
	eval1, _ := os.ReadFile(filepath.Join(out, "runs", "001", "step2.out"))
	code, stdout, stderr = latent(t, "sweep", file, "--local", "1", "--dir", out)
	if code != 0 || !strings.Contains(stdout, "(1 now, 3 before)") {
		t.Fatalf("resume: exit %d, %q %q", code, stdout, stderr)
	}
	train1b, _ := os.ReadFile(filepath.Join(out, "runs", "001", "step1.out"))
	eval1b, _ := os.ReadFile(filepath.Join(out, "runs", "001", "step2.out"))
	if !bytes.Equal(train1, train1b) {
		t.Error("resume ran the finished train step again")
	}
	var e1, e1b map[string]any
	json.Unmarshal(eval1, &e1)
	json.Unmarshal(eval1b, &e1b)
	if e1["log_likelihood"] != e1b["log_likelihood"] || e1["log_likelihood"] == nil {
		t.Errorf("resumed eval: %v, before %v", e1b["log_likelihood"], e1["log_likelihood"])
	}
}

func TestSweepErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.toml")
	os.WriteFile(file, []byte(tinyIsing), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("steps = [\"train rbm --data ising:T={T}\"]\n[axes]\nT = [1]\nL = [4]\n"), 0o644)
	fails(t, 2, []string{"sweep", file}, "give --local N")
	fails(t, 2, []string{"sweep", file, "--local", "2", "--slurm"}, "not both")
	fails(t, 2, []string{"sweep", file, "--submit", "--local", "1"}, "--submit goes with --slurm")
	fails(t, 1, []string{"sweep", filepath.Join(dir, "none.toml"), "--local", "1"}, "none.toml")
	fails(t, 1, []string{"sweep", bad, "--local", "1"}, `bad.toml: axis "L" appears in no step`)
	fails(t, 1, []string{"sweep", "collect", dir}, "holds no sweep")

	// A folder planned from one file refuses another.
	out := filepath.Join(dir, "out")
	code, _, stderr := latent(t, "sweep", file, "--slurm", "--dir", out)
	if code != 0 {
		t.Fatal(stderr)
	}
	other := filepath.Join(dir, "other.toml")
	os.WriteFile(other, []byte(strings.Replace(tinyIsing, "h = [4, 6]", "h = [4, 8]", 1)), 0o644)
	fails(t, 1, []string{"sweep", other, "--slurm", "--dir", out}, "holds the sweep of another file")

	// sbatch missing, and sbatch refusing the job.
	t.Setenv("LATENT_SBATCH", "no-such-sbatch")
	fails(t, 1, []string{"sweep", file, "--slurm", "--submit", "--dir", out}, "no-such-sbatch not found on PATH")
	refuse := filepath.Join(dir, "sbatch")
	os.WriteFile(refuse, []byte("#!/bin/sh\necho 'sbatch: error: invalid partition' >&2\nexit 1\n"), 0o755)
	t.Setenv("LATENT_SBATCH", refuse)
	fails(t, 1, []string{"sweep", file, "--slurm", "--submit", "--dir", out}, "sbatch refused", "invalid partition")
}
