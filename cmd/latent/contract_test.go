package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// jsonOf runs the command, which must succeed, and decodes its one JSON line.
func jsonOf(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errs := latent(t, args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errs)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("%q: stdout is not one line: %q", args, out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%q: %v in %q", args, err, out)
	}
	return m
}

func ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := latent(t, args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errs)
	}
	return out
}

// The independent-pixels family is written against package model alone: the
// command trains, samples, evaluates, resumes and inspects it with no code of
// its own.
func TestPixelsThroughTheContract(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "px.model")
	tr := jsonOf(t, "train", "pixels", "--data", "bars:4", "--out", out, "--json", "--alpha", "0.5")
	for _, k := range []string{"model", "data", "epochs", "seconds", "seconds_per_epoch", "loss"} {
		if _, has := tr[k]; !has {
			t.Errorf("train --json lacks %q: %v", k, tr)
		}
	}
	if tr["converged"] != true || tr["epochs"].(float64) != 1 {
		t.Errorf("train: %v", tr)
	}
	ev := jsonOf(t, "eval", "--model", out, "--data", "bars:4", "--json")
	// Bars and stripes of 4×4: 30 distinct patterns; every pixel is on in half
	// of them, so p = 1/2 for every pixel and log p(x) = 16 log ½ exactly.
	want := 16 * -0.6931471805599453
	if ll := ev["log_likelihood"].(float64); ll < want-1e-9 || ll > want+1e-9 {
		t.Errorf("log_likelihood %v, want 16 log ½ = %v", ll, want)
	}
	if ev["estimator"] != "exact" || ev["n"].(float64) != 30 {
		t.Errorf("eval: %v", ev)
	}
	line := ok(t, "eval", "--model", out, "--data", "bars:4")
	if !strings.HasPrefix(line, "pixels on bars:4 (n=30): log p(x) = -11.0904 nats (exact)") {
		t.Errorf("eval line %q", line)
	}
	per := filepath.Join(dir, "per.csv")
	ok(t, "eval", "--model", out, "--data", "bars:4", "--per-example", per)
	if b, err := os.ReadFile(per); err != nil || strings.Count(string(b), "\n") != 31 {
		t.Errorf("--per-example: %v, %d lines", err, strings.Count(string(b), "\n"))
	}
	png := filepath.Join(dir, "s.png")
	if s := ok(t, "sample", "--model", out, "--n", "16", "--out", png); !strings.Contains(s, "16 samples") {
		t.Errorf("sample says %q", s)
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("sample wrote no PNG: %v", err)
	}
	insp := ok(t, "inspect", out)
	if !strings.Contains(insp, "pixels") || !strings.Contains(insp, "bars:4") {
		t.Errorf("inspect shows %q", insp)
	}
	// A resumed run keeps the settings: a contradicting flag is a usage error
	// naming both values; a converged fit has nothing to do.
	fails(t, 2, []string{"train", "pixels", "--resume", out, "--out", filepath.Join(dir, "b.model"), "--alpha", "2"},
		"--alpha", "trained with --alpha=0.5")
	fails(t, 2, []string{"train", "pixels", "--resume", out, "--out", filepath.Join(dir, "b.model")}, "nothing to do", "converged")
	// Bad values name the flag.
	fails(t, 2, []string{"train", "pixels", "--data", "bars:4", "--out", out, "--dist", "poisson"}, "--dist", "poisson")
	fails(t, 2, []string{"train", "pixels", "--data", "bars:4", "--out", out, "--alpha", "-1"}, "--alpha", "[0,inf)")
	// Help lists the family's flags with defaults.
	if h := ok(t, "train", "pixels", "-h"); !strings.Contains(h, "--alpha") || !strings.Contains(h, "(default 1)") {
		t.Errorf("train pixels -h: %q", h)
	}
}

// An output path is never an input of the same command, and a file that is not
// a model file is not overwritten without --force (issue 13, item 1).
func TestOutputNeverReplacesInput(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	x := tensor.New(20, 4)
	for i := range x.Data {
		x.Data[i] = float32(i % 2)
	}
	writeNPY(t, data, x, []int{20, 4})
	before, _ := os.ReadFile(data)
	fails(t, 2, []string{"train", "pixels", "--data", data, "--out", data}, "--out", "not a latent model file")
	fails(t, 2, []string{"train", "pixels", "--data", data, "--out", data, "--force"}, "--out", "also an input")
	link := filepath.Join(dir, "hard.npy")
	if err := os.Link(data, link); err == nil {
		fails(t, 2, []string{"train", "pixels", "--data", data, "--out", link, "--force"}, "also an input")
	}
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("my notes\n"), 0o644)
	fails(t, 2, []string{"train", "pixels", "--data", data, "--out", other}, "not a latent model file", "--force")
	after, _ := os.ReadFile(data)
	if !bytes.Equal(before, after) {
		t.Fatal("the data file changed")
	}
	if b, _ := os.ReadFile(other); string(b) != "my notes\n" {
		t.Fatal("notes.txt changed")
	}
	m := filepath.Join(dir, "m.model")
	ok(t, "train", "pixels", "--data", data, "--out", m)
	ok(t, "train", "pixels", "--data", data, "--out", m) // a model file may be replaced
	fails(t, 2, []string{"sample", "--model", m, "--n", "2", "--out", m}, "--out")
}

// Identical runs write identical model files (issue 13, item 4).
func TestIdenticalRunsIdenticalFiles(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.model"), filepath.Join(dir, "b.model")
	ok(t, "train", "pixels", "--data", "bars:4", "--out", a)
	ok(t, "train", "pixels", "--data", "bars:4", "--out", b)
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ba, bb) {
		t.Error("two identical runs wrote different files")
	}
	f, err := checkpoint.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, s, err := model.Load(f); err != nil || s == nil || s.Data != "bars:4" || s.Flags["alpha"] != "1" {
		t.Errorf("settings %+v, %v", s, err)
	}
}

func TestSampleRefusesWhatMemoryCannotHold(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	m := filepath.Join(dir, "m.model")
	ok(t, "train", "pixels", "--data", "bars:4", "--out", m)
	fails(t, 2, []string{"sample", "--model", m, "--n", "2000000000000", "--out", filepath.Join(dir, "s.npy")},
		"--n", "memory", "available")
}

var _ = dataset.Dataset{}

// `data show` draws 2-D data as a scatter instead of refusing it (issue 13, item 17),
// and `latent help data` documents the spec options (item 12).
func TestDataShowScatterAndSpecHelp(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "pts.csv")
	os.WriteFile(csv, []byte("0,0,0\n1,1,1\n2,0.5,1\n"), 0o644)
	png := filepath.Join(dir, "pts.png")
	ok(t, "data", "show", csv+",label=2", "--out", png)
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Errorf("no scatter written: %v", err)
	}
	h := ok(t, "help", "data")
	for _, w := range []string{"scale=", "header=", "sep=", "label=", "x=KEY", "labels=FILE"} {
		if !strings.Contains(h, w) {
			t.Errorf("latent help data lacks %q", w)
		}
	}
	if h := ok(t, "data", "show", "-h"); !strings.Contains(h, "--shuffle") || !strings.Contains(h, "scale=") {
		t.Errorf("data show -h: %q", h)
	}
}

// eval --fid scores any sampler's samples with a classifier file: FID and class
// fractions beside (or, with --skip-ll, instead of) the log-likelihood.
func TestEvalFIDWithClassifier(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	cls := filepath.Join(dir, "cls.model")
	spec := "shapes,n=300,size=16"
	ok(t, "train", "classifier", "--data", spec, "--epochs", "1", "--width", "4", "--features", "8", "--out", cls)
	px := filepath.Join(dir, "px.model")
	ok(t, "train", "pixels", "--data", spec, "--dist", "gaussian", "--out", px)
	ev := jsonOf(t, "eval", "--model", px, "--data", spec, "--fid", cls, "--fid-n", "100", "--json")
	fid, okf := ev["fid"].(float64)
	if !okf || !(fid > 0) || ev["fid_n"].(float64) != 100 {
		t.Errorf("fid %v in %v", ev["fid"], ev)
	}
	if fr, okc := ev["class_fractions"].([]any); !okc || len(fr) != 3 {
		t.Errorf("class_fractions %v", ev["class_fractions"])
	}
	if _, has := ev["log_likelihood"]; !has {
		t.Error("log_likelihood missing")
	}
	ev = jsonOf(t, "eval", "--model", px, "--data", spec, "--fid", cls, "--fid-n", "50", "--skip-ll", "--json")
	if ev["log_likelihood"] != nil || ev["fid"] == nil {
		t.Errorf("--skip-ll: %v", ev)
	}
	fails(t, 2, []string{"eval", "--model", px, "--data", spec, "--skip-ll"}, "--skip-ll")
	fails(t, 1, []string{"eval", "--model", px, "--data", spec, "--fid", px}, "--fid")
	// The FID floor between two data sets.
	if out := ok(t, "data", "fid", spec, "shapes,n=300,size=16,seed=9", "--classifier", cls, "--n", "100"); !strings.HasPrefix(out, "FID ") {
		t.Errorf("data fid: %q", out)
	}
	fails(t, 2, []string{"data", "fid", spec, "--classifier", cls}, "two data SPECs")
	// The classifier's own eval: accuracy and log p(y|x).
	cl := jsonOf(t, "eval", "--model", cls, "--data", spec, "--json")
	if cl["quantity"] != "log p(y|x)" || cl["accuracy"] == nil {
		t.Errorf("classifier eval: %v", cl)
	}
}

// Resuming on other data names the saved spec and binarisation (issue 13, item 9);
// file names with ':' and ',' load (item 10); transform writes answers per
// example (item 13).
func TestResumeOtherDataPathsTransform(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	odd := filepath.Join(dir, "run:1,a.npy")
	x := tensor.New(6, 16)
	for i := range x.Data {
		x.Data[i] = float32(i % 2)
	}
	writeNPY(t, odd, x, []int{6, 16})
	m := filepath.Join(dir, "m.model")
	ok(t, "train", "bmm", "--data", odd, "--components", "2", "--tol", "0", "--epochs", "2", "--out", m)
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	ok(t, "eval", "--model", m, "--data", "./"+filepath.Base(odd))
	os.Chdir(wd)
	other := filepath.Join(dir, "other.npy")
	writeNPY(t, other, tensor.New(3, 9), []int{3, 9})
	fails(t, 1, []string{"train", "bmm", "--resume", m, "--data", other, "--epochs", "4", "--out", m},
		"rows have 9 values", "was trained on "+odd+" (6×16)")
	same := filepath.Join(dir, "same.npy")
	writeNPY(t, same, x.Slice(0, 4), []int{4, 16})
	code, _, errs := latent(t, "train", "bmm", "--resume", m, "--data", same, "--epochs", "3", "--out", m)
	if code != 0 || !strings.Contains(errs, "was trained on "+odd) || !strings.Contains(errs, "other data") {
		t.Errorf("resume on other data of the same width: exit %d, stderr %q", code, errs)
	}
	csv := filepath.Join(dir, "resp.csv")
	out := ok(t, "transform", "--model", m, "--data", odd, "--out", csv)
	if !strings.Contains(out, "6 rows") {
		t.Errorf("transform says %q", out)
	}
	b, _ := os.ReadFile(csv)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "component,log_likelihood,p_0,p_1") {
		t.Errorf("transform CSV: %q", lines[0])
	}
	fails(t, 2, []string{"transform", "--model", m, "--data", odd, "--out", csv}, "exists", "--force")
	ok(t, "transform", "--model", m, "--data", odd, "--out", csv, "--force", "--log-likelihood")
}

// What this machine cannot hold is refused before it is allocated, naming the
// flag (issue 13, item 5).
func TestRefusesWhatMemoryCannotHold(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	m := filepath.Join(dir, "rbm.model")
	fails(t, 2, []string{"train", "rbm", "--data", "bars:4", "--hidden", "100000000", "--out", m}, "--hidden")
	ok(t, "train", "rbm", "--data", "bars:4", "--hidden", "2000", "--epochs", "1", "--out", m)
	fails(t, 2, []string{"eval", "--model", m, "--data", "bars:4", "--ais-chains", "10000000"}, "--ais-chains", "memory", "available")
}

// --quiet silences progress and epoch lines; results still go to stdout.
func TestQuiet(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.model")
	code, stdout, stderr := latent(t, "--quiet", "train", "pixels", "--data", "bars:4", "--out", out)
	if code != 0 || stderr != "" || !strings.Contains(stdout, "pixels on 30 rows") {
		t.Errorf("--quiet train: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = latent(t, "train", "pixels", "--data", "bars:4", "--out", out+"2")
	if code != 0 || !strings.Contains(stderr, "epoch 1/") {
		t.Errorf("train without --quiet: exit %d, stderr %q (want an epoch line)", code, stderr)
	}
}
