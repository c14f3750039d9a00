package gan

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/decoder/decodertest"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// With a linear generator G(z) = zW + b the decoder model is probabilistic
// PCA: p(x) = N(x; b, WᵀW + σ² I) in closed form. Score's AIS-HMC estimate
// agrees within three standard errors.
func TestScoreMatchesProbabilisticPCA(t *testing.T) {
	const latent, dim, n = 2, 5, 8
	const sigma2 = 0.05
	s := rng.New(4)
	lin := nn.NewLinear(latent, dim, nn.Glorot, s)
	for i := range lin.B.W {
		lin.B.W[i] = float32(0.3 * s.NormFloat64())
	}
	m := &Model{Arch: KindMLP, Cfg: Config{Latent: latent}, dim: dim, G: nn.NewSequential(lin)}
	m.EMA = nn.NewEMA(m.G.Params())
	// Simulate data from the model.
	x := tensor.New(n, dim)
	z := tensor.New(n, latent)
	s.FillNormal(z.Data, 0, 1)
	mean := lin.Forward(z)
	for i := 0; i < n; i++ {
		for j := 0; j < dim; j++ {
			x.Set(i, j, mean.At(i, j)+float32(math.Sqrt(sigma2)*s.NormFloat64()))
		}
	}
	// Closed form.
	ll, err := decodertest.AffineLogLik(m.G, latent, sigma2, x)
	if err != nil {
		t.Fatal(err)
	}
	var exact float64
	for _, v := range ll {
		exact += v
	}
	exact /= n
	steps := 1000
	if testing.Short() {
		steps = 200
	}
	est, err := m.Score(context.Background(), &dataset.Dataset{X: x}, model.ScoreOptions{Seed: 2,
		Family: &EvalConfig{Sigma2: sigma2, Chains: 16, Steps: steps, Leapfrog: 10}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AIS-HMC %.4f ± %.4f, exact %.4f", est.LogLik, est.StdErr, exact)
	if math.Abs(est.LogLik-exact) > 3*est.StdErr+0.02 {
		t.Errorf("AIS-HMC %.4f ± %.4f, exact %.4f: more than 3 standard errors apart", est.LogLik, est.StdErr, exact)
	}
	if est.Method != "ais-hmc" || est.Bound != "lower" || len(est.PerExample) != n {
		t.Errorf("estimate %+v", est)
	}
}

// With Dequantize, Score scores the 8-bit data at dataset.Dequantize's
// y = (k + u)/256 from the same seed: bit for bit the estimate of y with
// dequantisation off. Data that are not 8-bit levels are refused by name.
func TestScoreDequantizesByTheOneProtocol(t *testing.T) {
	const latent, dim, n = 2, 6, 5
	s := rng.New(3)
	lin := nn.NewLinear(latent, dim, nn.Glorot, s)
	m := &Model{Arch: KindMLP, Cfg: Config{Latent: latent}, dim: dim, G: nn.NewSequential(lin)}
	m.EMA = nn.NewEMA(m.G.Params())
	x := tensor.New(n, dim)
	for i := range x.Data {
		x.Data[i] = float32(s.IntN(256)) / 255
	}
	cfg := func(deq bool) *EvalConfig {
		return &EvalConfig{Sigma2: 0.05, Chains: 3, Steps: 10, Leapfrog: 3, Dequantize: deq}
	}
	on, err := m.Score(context.Background(), &dataset.Dataset{Name: "levels", X: x}, model.ScoreOptions{Seed: 5, Family: cfg(true)})
	if err != nil {
		t.Fatal(err)
	}
	y, err := dataset.Dequantize(x, "levels", 5)
	if err != nil {
		t.Fatal(err)
	}
	off, err := m.Score(context.Background(), &dataset.Dataset{Name: "y", X: y}, model.ScoreOptions{Seed: 5, Family: cfg(false)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range on.PerExample {
		if on.PerExample[i] != off.PerExample[i] {
			t.Errorf("example %d: %v dequantised by Score, %v from dataset.Dequantize", i, on.PerExample[i], off.PerExample[i])
		}
	}
	metric := func(e model.Estimate) any {
		for _, x := range e.Extra {
			if x.Name == "dequantized" {
				return x.Value
			}
		}
		return nil
	}
	if metric(on) != dataset.Dequantization || metric(off) != "none" {
		t.Errorf("dequantized metric %v and %v, want %q and none", metric(on), metric(off), dataset.Dequantization)
	}
	x.Data[7] = 0.5
	_, err = m.Score(context.Background(), &dataset.Dataset{Name: "half.npy", X: x}, model.ScoreOptions{Seed: 5, Family: cfg(true)})
	if err == nil || !strings.Contains(err.Error(), "half.npy") || !strings.Contains(err.Error(), "8-bit") {
		t.Errorf("non-8-bit data: error %v", err)
	}
}
