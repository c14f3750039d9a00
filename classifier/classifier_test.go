package classifier

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/model/modeltest"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func randMat(n, d int, seed uint64) *tensor.Mat {
	x := tensor.New(n, d)
	s := rng.New(seed)
	for i := 0; i < n; i++ {
		r := x.Row(i)
		for j := range r {
			r[j] = float32(s.NormFloat64() * float64(j+1))
		}
		r[1] += 0.5 * r[0] // correlated columns
	}
	return x
}

// Exact identities: a shifted copy is at |shift|², a scaled copy x·s at
// |μ(1−s)|² + (1−s)² Tr Σ, a copy at 0.
func TestFrechetDistanceIdentities(t *testing.T) {
	a := randMat(400, 4, 1)
	d, err := FrechetDistance(a, a)
	if err != nil || math.Abs(d) > 1e-6 {
		t.Errorf("FID(a, a) = %v, %v", d, err)
	}
	shift := []float32{1, -2, 0.5, 3}
	b := a.Clone()
	for i := 0; i < b.Rows; i++ {
		for j, v := range shift {
			b.Row(i)[j] += v
		}
	}
	var want float64
	for _, v := range shift {
		want += float64(v * v)
	}
	if d, _ := FrechetDistance(a, b); math.Abs(d-want) > 1e-4*want {
		t.Errorf("FID of a shifted copy = %v, want %v", d, want)
	}
	const sc = 0.5
	c := a.Clone()
	c.Scale(sc)
	mu, cov := meanCov(a)
	want = 0
	for _, m := range mu {
		want += (1 - sc) * (1 - sc) * m * m
	}
	for i := 0; i < 4; i++ {
		want += (1 - sc) * (1 - sc) * cov.At(i, i)
	}
	if d, _ := FrechetDistance(a, c); math.Abs(d-want) > 1e-4*want {
		t.Errorf("FID of a scaled copy = %v, want %v", d, want)
	}
	if _, err := FrechetDistance(a, tensor.New(1, 4)); err == nil {
		t.Error("one row accepted")
	}
}

func TestHistogram(t *testing.T) {
	f, dev := Histogram([]int{0, 1, 1, 2}, 4)
	if f[1] != 0.5 || f[3] != 0 || math.Abs(dev-0.25) > 1e-15 {
		t.Errorf("Histogram = %v, %v", f, dev)
	}
}

func shapes(t *testing.T, n int, seed uint64) *dataset.Dataset {
	t.Helper()
	d, err := dataset.Load("shapes,n="+itoa(n)+",size=16", dataset.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func trainOn(t *testing.T, d *dataset.Dataset, epochs int, out string) *Model {
	t.Helper()
	cfg := &Config{Width: 16, Features: 32, Hidden: []int{32}, Dropout: 0.1, Batch: 50, LR: 2e-3}
	s := model.NewSettings(Kind, d, "shapes", "", 1, epochs)
	tr, err := newModel(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	return tr.(*Model)
}

// The convnet learns to tell squares, ellipses and triangles apart on held-out
// images, and its features separate a class from the others.
func TestClassifierLearnsShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small convnet")
	}
	train, test := shapes(t, 3000, 1), shapes(t, 300, 2)
	m := trainOn(t, train, 10, "")
	est, err := m.Score(context.Background(), test, model.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acc := est.Extra[0].Value.(float64)
	t.Logf("held-out accuracy %.3f, mean log p(y|x) %.3f", acc, est.LogLik)
	if acc < 0.9 {
		t.Errorf("held-out accuracy %.3f, want >= 0.9", acc)
	}
	pred, _ := m.Predict(context.Background(), test.X)
	_, dev := Histogram(pred, 3)
	if dev > 0.1 {
		t.Errorf("predicted class fractions deviate %.3f from uniform", dev)
	}
	// FID of the test set to itself split in two is far below its FID to noise.
	f, _ := m.Features(context.Background(), test.X)
	d1, _ := FrechetDistance(f.Slice(0, 150), f.Slice(150, 300))
	noise := tensor.New(150, test.Dim())
	rng.New(5).FillUniform(noise.Data)
	fn, _ := m.Features(context.Background(), noise)
	d2, _ := FrechetDistance(f.Slice(0, 150), fn)
	t.Logf("FID test/test %.3f, test/noise %.3f", d1, d2)
	if !(d1 < d2/5) {
		t.Errorf("FID test/test %.3f is not well below test/noise %.3f", d1, d2)
	}
	// Quality on samples from elsewhere: the same two halves give the same FID,
	// over min(rows) rows, and the class fractions of Histogram.
	q, err := m.Quality(context.Background(), test.X.Slice(0, 150), test.X.Slice(150, 300))
	if err != nil {
		t.Fatal(err)
	}
	if q[0].Name != "fid" || q[0].Value.(float64) != d1 || q[1].Value.(int) != 150 {
		t.Errorf("Quality gives %v, want fid %g over 150", q[:2], d1)
	}
	pred0, _ := m.Predict(context.Background(), test.X.Slice(0, 150))
	frac, _ := Histogram(pred0, 3)
	if fmt.Sprint(q[2].Value) != fmt.Sprint(frac) {
		t.Errorf("Quality's class fractions %v, want %v", q[2].Value, frac)
	}
	// With the labels the samples were drawn for (a conditional model's), the
	// fraction predicted as their own label, counted here directly; and a
	// wrong label for every sample agrees with the predictions less often.
	ql, err := m.quality(context.Background(), test.X.Slice(0, 150), test.Labels[:150], test.X.Slice(150, 300))
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i, p := range pred0 {
		if p == test.Labels[i] {
			same++
		}
	}
	if len(ql) != 5 || ql[4].Name != "label_agreement" || ql[4].Value.(float64) != float64(same)/150 {
		t.Errorf("quality with labels gives %v, want label_agreement %g", ql, float64(same)/150)
	}
	wrong := make([]int, 150)
	for i := range wrong {
		wrong[i] = (test.Labels[i] + 1) % 3
	}
	if a := LabelAgreement(pred0, wrong); a >= float64(same)/150 {
		t.Errorf("shifted labels agree %g of the time, the true ones %g", a, float64(same)/150)
	}
	if _, err := m.Quality(context.Background(), test.X.Slice(0, 150), tensor.New(10, 5)); err == nil {
		t.Error("Quality took data of another width")
	}
}

func TestClassifierResumeBitIdentical(t *testing.T) {
	d := shapes(t, 100, 3)
	dir := t.TempDir()
	whole, part := filepath.Join(dir, "w.model"), filepath.Join(dir, "p.model")
	trainOn(t, d, 3, whole)
	trainOn(t, d, 1, part)
	modeltest.ResumeBitIdentical(t, d, whole, part, 3)
}
