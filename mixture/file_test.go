package mixture

import (
	"testing"

	"github.com/latent-ml/latent/checkpoint"
)

func TestSaveLoad(t *testing.T) {
	x, _ := blobs([][]float64{{0, 0, 0}, {5, 5, 5}}, 100, 1, 1)
	p, err := FitPCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	z := p.Transform(x)
	g, _, err := FitGaussian(z, GaussianConfig{Components: 2, Covariance: Tied, RegCovar: 1e-6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var f checkpoint.File
	if err := SaveGaussian(&f, g, p, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	g2, p2, err := LoadGaussian(&f)
	if err != nil {
		t.Fatal(err)
	}
	if g2.Score(p2.Transform(x)) != g.Score(z) {
		t.Error("reloaded Gaussian mixture scores differently")
	}
	_, xb, _ := plantedBernoulli(t)
	b, _, err := FitBernoulli(xb, BernoulliConfig{Components: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var fb checkpoint.File
	if err := SaveBernoulli(&fb, b, nil); err != nil {
		t.Fatal(err)
	}
	b2, err := LoadBernoulli(&fb)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Score(xb) != b.Score(xb) || b2.PriorA != b.PriorA {
		t.Error("reloaded Bernoulli mixture differs")
	}
	if _, _, err := LoadGaussian(&fb); err == nil {
		t.Error("bmm file loaded as gmm")
	}
}
