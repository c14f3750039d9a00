package report

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
)

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	// Independent pixels on the 30 bars-and-stripes patterns of a 4×4 image:
	// every pixel is on in 15 of them, so with the pseudo-count 1 each mean is
	// (15+1)/(30+2) = 1/2 and log p(x) = 16·log(1/2) exactly: 1 bit per pixel.
	pix := trainFile(t, dir, "pixels", "bars:4", 1)
	rbmFile := trainFile(t, dir, "rbm", "bars:4", 3, "--hidden", "4", "--batch", "10")
	small := filepath.Join(t.TempDir(), "small")
	os.MkdirAll(small, 0o755)
	narrow := trainFile(t, small, "pixels", "bars:3", 1) // 9 values a row
	missing := filepath.Join(dir, "missing.model")
	rows, err := Compare(context.Background(), []string{pix, rbmFile, narrow, missing}, CompareOptions{Data: "bars:4", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	p := rows[0]
	if p.Err != "" || p.Estimator != "exact" || p.N != 30 || p.Model != "pixels" {
		t.Fatalf("pixels row: %+v", p)
	}
	if want := -16 * math.Ln2; math.Abs(p.LogLik-want) > 1e-9 {
		t.Errorf("pixels log-likelihood %.12f, want 16·log(1/2) = %.12f", p.LogLik, want)
	}
	if math.Abs(p.BitsPerDim()-1) > 1e-12 {
		t.Errorf("pixels bits/dim %v, want 1", p.BitsPerDim())
	}
	if p.Params != 16 || p.Epochs != 1 {
		t.Errorf("pixels parameters %d epochs %d, want 16 and 1", p.Params, p.Epochs)
	}
	// The RBM's row is its own exact score with the eval defaults (what
	// `latent eval` prints with the same seed).
	r := rows[1]
	d, _ := dataset.Load("bars:4", dataset.Options{Seed: 1})
	est, err := loadScorer(t, rbmFile).Score(context.Background(), d, model.ScoreOptions{Seed: 1, Family: model.Lookup("rbm").EvalConfig(), Data: "bars:4"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Err != "" || r.LogLik != est.LogLik || r.Estimator != est.Method || r.Epochs != 3 || r.Params != 16*4+16+4 {
		t.Errorf("rbm row %+v, want log-likelihood %v (%s), 3 epochs, 84 parameters", r, est.LogLik, est.Method)
	}
	// A model of other data and a missing file say why, and do not stop the table.
	if !strings.Contains(rows[2].Err, "16 values, the model's 9") || !math.IsNaN(rows[2].LogLik) {
		t.Errorf("narrow model: %q %v", rows[2].Err, rows[2].LogLik)
	}
	if !strings.Contains(rows[3].Err, "missing.model") {
		t.Errorf("missing file: %q", rows[3].Err)
	}

	// JSON: one object per model with the CLI contract's keys.
	var b bytes.Buffer
	if err := WriteJSON(&b, rows); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(b.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 {
		t.Fatalf("%d JSON objects", len(objs))
	}
	for _, k := range []string{"model", "data", "n", "log_likelihood", "estimator", "bits_per_dim", "parameters", "epochs", "file"} {
		if _, ok := objs[0][k]; !ok {
			t.Errorf("JSON lacks %q: %v", k, objs[0])
		}
	}
	if objs[0]["log_likelihood"].(float64) != p.LogLik || objs[0]["data"] != "bars:4" || objs[0]["n"].(float64) != 30 {
		t.Errorf("JSON object %v", objs[0])
	}
	if objs[3]["log_likelihood"] != nil || objs[3]["error"] == nil {
		t.Errorf("failed row's JSON: %v", objs[3])
	}

	// Markdown: a caption, a heading, a rule and one line per model.
	b.Reset()
	if err := WriteMarkdown(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2+2+4 || !strings.HasPrefix(lines[2], "| model |") || !strings.Contains(lines[4], "| -11.09 |") || !strings.Contains(lines[4], "| 1.0000 |") {
		t.Errorf("markdown:\n%s", b.String())
	}
	b.Reset()
	if err := WriteHTML(&b, rows); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "<tr"); n != 5 || !strings.Contains(b.String(), `class="failed"`) {
		t.Errorf("HTML has %d rows:\n%s", n, b.String())
	}
}

func TestCompareBinaryNeedsAndBadData(t *testing.T) {
	dir := t.TempDir()
	bmm := trainFile(t, dir, "helmholtz", "bars:4", 1, "--hidden", "4")
	// 16 values of 0.3: not binary, so a Helmholtz machine cannot score them.
	csv := filepath.Join(dir, "gray.csv")
	line := strings.TrimSuffix(strings.Repeat("0.3,", 16), ",") + "\n"
	os.WriteFile(csv, []byte(line+line), 0o644)
	rows, err := Compare(context.Background(), []string{bmm}, CompareOptions{Data: csv})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows[0].Err, "binary") {
		t.Errorf("helmholtz on gray data: %+v", rows[0])
	}
	if _, err := Compare(context.Background(), []string{bmm}, CompareOptions{Data: filepath.Join(dir, "none.npy")}); err == nil || !strings.Contains(err.Error(), "none.npy") {
		t.Errorf("missing data: %v", err)
	}
}
