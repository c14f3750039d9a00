package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCompareReproducesEval: compare's figures for each model are those of
// `latent eval --json` with the same seed, one JSON object per model.
func TestCompareReproducesEval(t *testing.T) {
	dir := t.TempDir()
	rbmFile, vaeFile := filepath.Join(dir, "rbm.model"), filepath.Join(dir, "vae.model")
	for _, args := range [][]string{
		{"train", "rbm", "--data", "bars:4", "--hidden", "8", "--epochs", "2", "--out", rbmFile},
		{"train", "vae", "--data", "bars:4", "--latent", "2", "--hidden", "16", "--epochs", "2", "--out", vaeFile},
	} {
		if code, _, stderr := latent(t, append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	code, stdout, stderr := latent(t, "-q", "compare", rbmFile, vaeFile, filepath.Join(dir, "none.model"), "--data", "bars:4", "--json", "--no-fid", "--html", filepath.Join(dir, "t.html"))
	if code != 0 {
		t.Fatalf("compare: %s", stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil || len(rows) != 3 {
		t.Fatalf("compare --json: %v\n%s", err, stdout)
	}
	for i, f := range []string{rbmFile, vaeFile} {
		code, out, stderr := latent(t, "-q", "eval", "--model", f, "--data", "bars:4", "--json")
		if code != 0 {
			t.Fatal(stderr)
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(out), &ev); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"model", "data", "n", "log_likelihood", "estimator", "log_likelihood_stderr", "bound"} {
			if ev[k] != rows[i][k] {
				t.Errorf("%s: %s: eval %v, compare %v", f, k, ev[k], rows[i][k])
			}
		}
		if ev["log_likelihood"] == nil {
			t.Errorf("%s: no log-likelihood", f)
		}
	}
	if !strings.Contains(rows[2]["error"].(string), "none.model") {
		t.Errorf("missing file's row: %v", rows[2])
	}
	if b, err := os.ReadFile(filepath.Join(dir, "t.html")); err != nil || strings.Count(string(b), "<tr") != 4 {
		t.Errorf("--html: %v", err)
	}
	code, stdout, _ = latent(t, "-q", "compare", rbmFile, vaeFile, "--data", "bars:4", "--markdown", "--no-fid")
	if code != 0 || strings.Count(stdout, "\n| rbm |")+strings.Count(stdout, "\n| vae |") != 2 {
		t.Errorf("--markdown:\n%s", stdout)
	}

	// A family's own eval flags: compare --eval "vae:--iw-k 50" is eval --iw-k 50.
	code, stdout, stderr = latent(t, "-q", "compare", vaeFile, "--data", "bars:4", "--json", "--eval", "vae:--iw-k 50")
	_, evOut, _ := latent(t, "-q", "eval", "--model", vaeFile, "--data", "bars:4", "--json", "--iw-k", "50")
	var k50 []map[string]any
	var ev50 map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &k50) != nil || json.Unmarshal([]byte(evOut), &ev50) != nil {
		t.Fatalf("--eval: %d %s %s", code, stderr, stdout)
	}
	if k50[0]["estimator"] != "iwae-k50" || k50[0]["log_likelihood"] != ev50["log_likelihood"] || k50[0]["log_likelihood"] == rows[1]["log_likelihood"] {
		t.Errorf("--eval vae:--iw-k 50: compare %v %v, eval %v %v", k50[0]["estimator"], k50[0]["log_likelihood"], ev50["estimator"], ev50["log_likelihood"])
	}
	fails(t, 2, []string{"compare", vaeFile, "--data", "bars:4", "--eval", "nope:--x 1"}, "-eval", "nope")
	code, stdout, _ = latent(t, "-q", "compare", vaeFile, "--data", "bars:4", "--json", "--eval", "vae:--no-such-flag 1")
	if code != 0 || !strings.Contains(stdout, "no-such-flag") {
		t.Errorf("--eval with a flag the family lacks: %d %s", code, stdout)
	}

	fails(t, 2, []string{"compare", "--data", "bars:4"}, "no model files")
	fails(t, 2, []string{"compare", rbmFile}, "--data")
	fails(t, 2, []string{"compare", rbmFile, "--data", "bars:4", "--json", "--markdown"}, "choose one")
	fails(t, 1, []string{"compare", rbmFile, "--data", filepath.Join(dir, "nodata.npy")}, "nodata.npy")
}

func TestTrainReportAndServeErrors(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "rep")
	if code, _, stderr := latent(t, "-q", "train", "bmm", "--data", "bars:4", "--components", "2", "--epochs", "3", "--report", rep, "--out", filepath.Join(dir, "m.model")); code != 0 {
		t.Fatal(stderr)
	}
	page, err := os.ReadFile(filepath.Join(rep, "index.html"))
	if err != nil || !strings.Contains(string(page), "bmm on bars:4") || !strings.Contains(string(page), `id="final"`) {
		t.Fatalf("report page: %v", err)
	}
	var run struct {
		Epochs []struct{ Epoch int }
		Done   bool
	}
	b, _ := os.ReadFile(filepath.Join(rep, "run.json"))
	if err := json.Unmarshal(b, &run); err != nil || !run.Done || len(run.Epochs) == 0 {
		t.Errorf("run.json: %v %s", err, b)
	}
	fails(t, 2, []string{"serve"}, "no report folders")
	fails(t, 1, []string{"serve", filepath.Join(dir, "gone")}, "gone: no such folder")
	empty := t.TempDir()
	fails(t, 1, []string{"serve", empty, "--addr", "127.0.0.1:0"}, "not a training report")
	fails(t, 2, []string{"serve", rep, "--addr", "nonsense"}, "--addr")
}

// TestCompareFIDIsEvals: compare's FID is eval --fid's, same seed and size.
func TestCompareFIDIsEvals(t *testing.T) {
	dir := t.TempDir()
	data := "shapes,n=300,size=16"
	cls, px := filepath.Join(dir, "cls.model"), filepath.Join(dir, "px.model")
	for _, args := range [][]string{
		{"train", "classifier", "--data", data, "--epochs", "1", "--width", "4", "--features", "8", "--out", cls},
		{"train", "pixels", "--data", data, "--dist", "gaussian", "--out", px},
	} {
		if code, _, stderr := latent(t, append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	_, evOut, _ := latent(t, "-q", "eval", "--model", px, "--data", data, "--fid", cls, "--fid-n", "100", "--json")
	code, out, stderr := latent(t, "-q", "compare", px, "--data", data, "--classifier", cls, "--fid-n", "100", "--json")
	var ev map[string]any
	var rows []map[string]any
	if code != 0 || json.Unmarshal([]byte(evOut), &ev) != nil || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("%d %s %s %s", code, stderr, evOut, out)
	}
	if ev["fid"] == nil || rows[0]["fid"] != ev["fid"] || rows[0]["fid_n"] != ev["fid_n"] {
		t.Errorf("compare fid %v (n %v), eval %v (n %v)", rows[0]["fid"], rows[0]["fid_n"], ev["fid"], ev["fid_n"])
	}
	// --no-fid leaves it out.
	_, out, _ = latent(t, "-q", "compare", px, "--data", data, "--classifier", cls, "--no-fid", "--json")
	if strings.Contains(out, `"fid"`) {
		t.Errorf("--no-fid: %s", out)
	}
}

// compare --published prints the figures beside the rows; --dequantize takes
// auto, yes or no; a bad published file is named.
func TestComparePublishedAndDequantizeFlags(t *testing.T) {
	dir := t.TempDir()
	px := filepath.Join(dir, "px.model")
	if code, _, stderr := latent(t, "-q", "train", "pixels", "--data", "bars:4", "--out", px); code != 0 {
		t.Fatal(stderr)
	}
	pub := filepath.Join(dir, "pub.csv")
	os.WriteFile(pub, []byte("match,data,log_likelihood,source\npixels,bars,-11.09,\"exact, 16 ln 2\"\n"), 0o644)
	code, out, stderr := latent(t, "-q", "compare", px, "--data", "bars:4", "--no-fid", "--published", pub, "--markdown")
	if code != 0 || !strings.Contains(out, "| published |") || !strings.Contains(out, "−11.09 (exact, 16 ln 2)") {
		t.Errorf("--published: %d %s\n%s", code, stderr, out)
	}
	fails(t, 1, []string{"compare", px, "--data", "bars:4", "--published", filepath.Join(dir, "none.csv")}, "--published", "none.csv")
	fails(t, 2, []string{"compare", px, "--data", "bars:4", "--dequantize", "maybe"}, "--dequantize", "maybe")
}

// On 8-bit data compare scores a continuous density at y = (k + u)/256 by
// default: the figure and bits/dim of eval --dequantize with the same seed.
func TestCompareDequantizedIsEvalDequantize(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "levels.csv")
	var b strings.Builder
	for i := range 30 {
		for j := range 5 {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(strconv.FormatFloat(float64((i*37+j*101)%256)/255, 'g', 10, 64))
		}
		b.WriteString("\n")
	}
	os.WriteFile(data, []byte(b.String()), 0o644)
	px := filepath.Join(dir, "px.model")
	if code, _, stderr := latent(t, "-q", "train", "pixels", "--data", data, "--dist", "gaussian", "--out", px); code != 0 {
		t.Fatal(stderr)
	}
	_, evOut, evErr := latent(t, "-q", "eval", "--model", px, "--data", data, "--dequantize", "--seed", "4", "--json")
	_, raw, _ := latent(t, "-q", "eval", "--model", px, "--data", data, "--seed", "4", "--json")
	code, out, stderr := latent(t, "-q", "compare", px, "--data", data, "--seed", "4", "--no-fid", "--json")
	var ev, evRaw map[string]any
	var rows []map[string]any
	if code != 0 || json.Unmarshal([]byte(evOut), &ev) != nil || json.Unmarshal([]byte(raw), &evRaw) != nil || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("%d %s %s %s %s", code, stderr, evErr, evOut, out)
	}
	for _, k := range []string{"log_likelihood", "bits_per_dim", "dequantized"} {
		if ev[k] == nil || rows[0][k] != ev[k] {
			t.Errorf("%s: compare %v, eval --dequantize %v", k, rows[0][k], ev[k])
		}
	}
	if ev["dequantized"] != "(k+u)/256" || evRaw["log_likelihood"] == ev["log_likelihood"] || evRaw["dequantized"] != nil {
		t.Errorf("eval with and without --dequantize: %v, %v", ev, evRaw)
	}
	gray := filepath.Join(dir, "gray.csv")
	os.WriteFile(gray, []byte("0.3,0.3,0.3,0.3,0.3\n0.5,0.3,0.3,0.3,0.3\n"), 0o644)
	fails(t, 1, []string{"eval", "--model", px, "--data", gray, "--dequantize"}, "--dequantize", "8-bit", "gray.csv")
}
