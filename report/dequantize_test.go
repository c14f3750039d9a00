package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// write8bit writes n rows of d 8-bit values k/255 as a CSV file and returns
// its path and the values.
func write8bit(t *testing.T, dir string, n, d int) (string, *tensor.Mat) {
	t.Helper()
	x := tensor.New(n, d)
	s := rng.New(11)
	var b strings.Builder
	for i := range n {
		for j := range d {
			k := s.IntN(256)
			x.Set(i, j, float32(k)/255)
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%.9f", float64(k)/255)
		}
		b.WriteString("\n")
	}
	path := filepath.Join(dir, "levels.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, x
}

// gaussLogLik returns the mean over the rows of y of Σ_j log N(y_j; μ_j, σ²_j)
// with μ and σ² the per-column mean and (population) variance of x: the
// closed form of independent Gaussian pixels fitted to x.
func gaussLogLik(x, y *tensor.Mat) float64 {
	var ll float64
	for j := range x.Cols {
		var mu, v float64
		for i := range x.Rows {
			mu += float64(x.At(i, j)) / float64(x.Rows)
		}
		for i := range x.Rows {
			v += (float64(x.At(i, j)) - mu) * (float64(x.At(i, j)) - mu) / float64(x.Rows)
		}
		for i := range y.Rows {
			e := float64(y.At(i, j)) - mu
			ll += (-0.5*math.Log(2*math.Pi*v) - e*e/(2*v)) / float64(y.Rows)
		}
	}
	return ll
}

// compare (--dequantize auto) scores a continuous family at y = (k + u)/256 from
// dataset.Dequantize with the compare seed: independent Gaussian pixels give
// the closed form at y, and bits/dim are those of the 8-bit data,
// (d ln 256 − log p(y))/(d ln 2). With "no", and by default on data that are
// not 8-bit levels, the values are scored as they are.
func TestCompareDequantizes(t *testing.T) {
	dir := t.TempDir()
	data, x := write8bit(t, dir, 40, 6)
	pix := trainFile(t, dir, "pixels", data, 1, "--dist", "gaussian")
	rows, err := Compare(context.Background(), []string{pix}, CompareOptions{Data: data, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	y, err := dataset.Dequantize(x, "x", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := gaussLogLik(x, y)
	if r.Err != "" || math.Abs(r.LogLik-want) > 1e-5*math.Abs(want) || r.Dequantized != dataset.Dequantization {
		t.Fatalf("row %+v: want log p(y) = %v, dequantized %q", r, want, dataset.Dequantization)
	}
	if got, want := r.BitsPerDim(), (6*math.Log(256)-r.LogLik)/(6*math.Ln2); math.Abs(got-want) > 1e-12 {
		t.Errorf("bits/dim %v, want (d ln 256 − log p(y))/(d ln 2) = %v", got, want)
	}
	var b bytes.Buffer
	WriteJSON(&b, rows)
	var objs []map[string]any
	if err := json.Unmarshal(b.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	if objs[0]["dequantized"] != "(k+u)/256" {
		t.Errorf("JSON %v lacks dequantized: (k+u)/256", objs[0])
	}
	b.Reset()
	WriteMarkdown(&b, rows)
	if !strings.Contains(b.String(), "exact at y = (k+u)/256") || !strings.Contains(b.String(), "d ln 256") {
		t.Errorf("markdown does not state the protocol:\n%s", b.String())
	}

	rows, err = Compare(context.Background(), []string{pix}, CompareOptions{Data: data, Seed: 3, Dequantize: "no"})
	if err != nil {
		t.Fatal(err)
	}
	r = rows[0]
	if want := gaussLogLik(x, x); r.Err != "" || math.Abs(r.LogLik-want) > 1e-5*math.Abs(want) || r.Dequantized != "" {
		t.Errorf("without dequantisation: row %+v, want log p(x) = %v", r, want)
	}
	if got, want := r.BitsPerDim(), -r.LogLik/(6*math.Ln2); math.Abs(got-want) > 1e-12 {
		t.Errorf("bits/dim without dequantisation %v, want %v", got, want)
	}

	// Values that are not 8-bit levels: the row says so and how to score them.
	gray := filepath.Join(dir, "gray.csv")
	line := strings.TrimSuffix(strings.Repeat("0.3,", 6), ",") + "\n"
	os.WriteFile(gray, []byte(line+line+strings.Replace(line, "0.3", "0.6", 1)), 0o644)
	rows, err = Compare(context.Background(), []string{pix}, CompareOptions{Data: gray, Dequantize: "yes"})
	if err != nil {
		t.Fatal(err)
	}
	if e := rows[0].Err; !strings.Contains(e, "gray.csv") || !strings.Contains(e, "8-bit") || !strings.Contains(e, "--dequantize no") {
		t.Errorf("gray data: error %q", e)
	}
	// auto (the default) scores them as they are.
	rows, err = Compare(context.Background(), []string{pix}, CompareOptions{Data: gray})
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.Err != "" || r.Dequantized != "" {
		t.Errorf("gray data, auto: row %+v", r)
	}
	if _, err := Compare(context.Background(), []string{pix}, CompareOptions{Data: gray, Dequantize: "maybe"}); err == nil || !strings.Contains(err.Error(), "maybe") {
		t.Errorf("dequantize maybe: %v", err)
	}
}

// A family with its own --dequantize flag (the GAN) gets it set by compare,
// both ways, and its row is marked as the estimate says; a Quantized family
// (the DDPM) is given the data unchanged.
func TestCompareSetsFamilyDequantize(t *testing.T) {
	if model.Lookup("gan") == nil || model.Lookup("ddpm") == nil || !model.Lookup("ddpm").Quantized {
		t.Fatal("gan and ddpm are not registered, or ddpm is not Quantized")
	}
	dir := t.TempDir()
	data, _ := write8bit(t, dir, 20, 6)
	g := trainFile(t, dir, "gan", data, 1, "--latent", "2", "--g-hidden", "8", "--d-hidden", "8", "--batch", "10", "--g-batchnorm=false")
	ev := map[string][]string{"gan": {"--chains", "2", "--ais-steps", "3", "--leapfrog", "2"}}
	for _, deq := range []bool{true, false} {
		rows, err := Compare(context.Background(), []string{g}, CompareOptions{Data: data, Seed: 2, Dequantize: map[bool]string{true: "auto", false: "no"}[deq], EvalFlags: ev})
		if err != nil {
			t.Fatal(err)
		}
		r := rows[0]
		var got any
		for _, m := range r.Extra {
			if m.Name == "dequantized" {
				got = m.Value
			}
		}
		want := map[bool]string{true: dataset.Dequantization, false: "none"}[deq]
		if r.Err != "" || got != want || (r.Dequantized != "") != deq {
			t.Errorf("dequantize %v: row %+v, gan's dequantized %v", deq, r, got)
		}
	}
}
