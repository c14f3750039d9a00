package pixels

import (
	"context"
	"math"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"gonum.org/v1/gonum/stat/distuv"
)

func fit(t *testing.T, d *dataset.Dataset, cfg Config) *Model {
	t.Helper()
	s := model.NewSettings(Kind, d, "test", "", 1, 1)
	tr, err := newModel(&cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	return tr.(*Model)
}

func TestBernoulliFitAndNormalisation(t *testing.T) {
	d := dataset.BarsAndStripes(3) // 3×3 patterns: binary
	m := fit(t, d, Config{Dist: "auto", Alpha: 0.5, MinVar: 1e-4, Batch: 4})
	if !m.Bernoulli {
		t.Fatal("binary data gave a Gaussian model")
	}
	for j := 0; j < d.Dim(); j++ {
		var on float64
		for i := 0; i < d.Len(); i++ {
			on += float64(d.X.At(i, j))
		}
		want := (on + 0.5) / (float64(d.Len()) + 1)
		if math.Abs(m.P[j]-want) > 1e-15 {
			t.Errorf("p[%d] = %v, want %v", j, m.P[j], want)
		}
	}
	// Σ over all 2^9 binary images of p(x) is 1.
	var z float64
	x := make([]float32, 9)
	for k := 0; k < 1<<9; k++ {
		for j := range x {
			x[j] = float32(k >> j & 1)
		}
		z += math.Exp(m.LogProb(x))
	}
	if math.Abs(z-1) > 1e-12 {
		t.Errorf("Σ p(x) over every image = %v, want 1", z)
	}
	est, err := m.Score(context.Background(), d, model.ScoreOptions{})
	if err != nil || est.Method != "exact" || est.N != d.Len() || len(est.PerExample) != d.Len() {
		t.Fatalf("Score: %+v, %v", est, err)
	}
}

func TestGaussianFitAgainstDistuv(t *testing.T) {
	x := tensor.New(500, 3)
	s := rng.New(3)
	for i := 0; i < x.Rows; i++ {
		r := x.Row(i)
		r[0] = float32(2 + 0.5*s.NormFloat64())
		r[1] = float32(-1 + 3*s.NormFloat64())
		r[2] = 7 // a constant column: the variance floor
	}
	d := &dataset.Dataset{Name: "g", X: x}
	m := fit(t, d, Config{Dist: "auto", Alpha: 1, MinVar: 1e-3, Batch: 64})
	if m.Bernoulli {
		t.Fatal("real data gave a Bernoulli model")
	}
	for j := 0; j < 3; j++ {
		var s1, s2 float64
		for i := 0; i < x.Rows; i++ {
			s1 += float64(x.At(i, j))
		}
		mu := s1 / 500
		for i := 0; i < x.Rows; i++ {
			dv := float64(x.At(i, j)) - mu
			s2 += dv * dv
		}
		v := math.Max(s2/500, 1e-3)
		if math.Abs(m.Mean[j]-mu) > 1e-9 || math.Abs(m.Var[j]-v) > 1e-6*v {
			t.Errorf("column %d: mean %v var %v, want %v %v", j, m.Mean[j], m.Var[j], mu, v)
		}
	}
	row := x.Row(17)
	var want float64
	for j, v := range row {
		want += distuv.Normal{Mu: m.Mean[j], Sigma: math.Sqrt(m.Var[j])}.LogProb(float64(v))
	}
	if got := m.LogProb(row); math.Abs(got-want) > 1e-9 {
		t.Errorf("LogProb = %v, distuv says %v", got, want)
	}
}

func TestSampleMoments(t *testing.T) {
	d := dataset.BarsAndStripes(3)
	m := fit(t, d, Config{Dist: "bernoulli", Alpha: 1, MinVar: 1e-4, Batch: 10})
	out, err := m.Sample(context.Background(), model.SampleOptions{N: 20000, Seed: 4, Label: -1})
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 9; j++ {
		var on float64
		for i := 0; i < out.Len(); i++ {
			on += float64(out.X.At(i, j))
		}
		p := m.P[j]
		se := math.Sqrt(p * (1 - p) / 20000)
		if math.Abs(on/20000-p) > 4*se {
			t.Errorf("pixel %d: sample mean %v, p %v (4 s.e. %v)", j, on/20000, p, 4*se)
		}
	}
	if _, err := m.Sample(context.Background(), model.SampleOptions{N: 1, Label: 2}); err == nil || !model.IsFlagError(err) {
		t.Errorf("--label on an unconditional model: %v", err)
	}
}

func TestBernoulliRefusesRealData(t *testing.T) {
	d := &dataset.Dataset{Name: "r", X: tensor.FromSlice(2, 2, []float32{0.5, 1, 0, 0.2})}
	cfg := Config{Dist: "bernoulli", Alpha: 1, MinVar: 1e-4, Batch: 10}
	if _, err := newModel(&cfg, d, model.NewSettings(Kind, d, "r", "", 1, 1)); err == nil || !model.IsFlagError(err) {
		t.Errorf("bernoulli on real data: %v", err)
	}
}
