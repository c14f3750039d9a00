package rbm

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/mcmc"
)

// AISLogZ of a Gaussian RBM estimates the log Z that ExactLogZ enumerates (standardised
// units; Mean and Std play no part in it).
func TestGaussianAISMatchesExactLogZ(t *testing.T) {
	cases := []struct {
		name      string
		nv, nh    int
		scale     float32
		unitSigma bool
		seed      uint64
	}{
		{"unit σ", 12, 8, 0.5, true, 41},
		{"unit σ", 8, 10, 0.6, true, 42},
		{"σ ≠ 1", 12, 8, 0.5, false, 43},
		{"σ ≠ 1", 8, 10, 0.6, false, 44},
	}
	for _, c := range cases {
		m := randomRBM(t, Gaussian, c.nv, c.nh, c.scale, c.seed)
		if c.unitSigma {
			clear(m.LogSigma)
		}
		exact, err := m.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.AISLogZ(mcmc.AISConfig{Chains: 100, Betas: mcmc.AISBetas(3000), Seed: c.seed})
		if err != nil {
			t.Fatal(err)
		}
		// 3.5 standard errors plus a small allowance for AIS's bias, and at most 0.08 nats.
		d := math.Abs(r.LogZ - exact)
		if d > 3.5*r.StdErr+0.02 || d > 0.08 {
			t.Errorf("%s %d×%d: AIS log Z = %.4f ± %.4f, exact %.4f (off by %.4f)", c.name, c.nv, c.nh, r.LogZ, r.StdErr, exact, d)
		}
		t.Logf("%s %d×%d: AIS %.4f ± %.4f, exact %.4f (log Z − log Z_A = %.3f)", c.name, c.nv, c.nh, r.LogZ, r.StdErr, exact, exact-r.LogZBase)
	}
}

func TestAISLogZBothKindsAndErrors(t *testing.T) {
	b := randomRBM(t, Bernoulli, 6, 4, 0.5, 1)
	if _, err := b.AISLogZ(mcmc.AISConfig{Chains: 4, Betas: mcmc.AISBetas(50)}); err != nil {
		t.Errorf("Bernoulli AISLogZ: %v", err)
	}
	g := randomRBM(t, Gaussian, 6, 4, 0.5, 1)
	for _, cfg := range []mcmc.AISConfig{
		{Chains: -2},
		{Betas: []float64{0, 0.7, 0.3, 1}},
		{Betas: []float64{0, 0.5}},
		{BaseBias: make([]float32, 5)},
	} {
		if _, err := g.AISLogZ(cfg); err == nil {
			t.Errorf("Gaussian AISLogZ(%+v): want an error", cfg)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("GaussianBipartite of a Bernoulli RBM: want a panic")
		}
	}()
	b.GaussianBipartite()
}
