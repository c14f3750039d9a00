package vae

import (
	"context"
	"math"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/decoder/decodertest"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// A VAE whose decoder is linear (identity activations) with a fixed Gaussian σ²
// is probabilistic PCA: the ais-hmc estimate agrees with the closed form within
// three standard errors, with the model's own σ² (--sigma2 0).
func TestAISHMCMatchesPPCA(t *testing.T) {
	const sigma2 = 0.05
	m, err := New(Config{Kind: KindVAE, Latent: 2, Hidden: []int{4}, Activation: "identity", Decoder: Gaussian, Sigma2: sigma2}, 5, rng.New(3))
	if err != nil {
		t.Fatal(err)
	}
	// Data from the model itself.
	s := rng.New(4)
	z := tensor.New(10, 2)
	s.FillNormal(z.Data, 0, 1)
	x := m.Dec.Forward(z).Clone()
	for i := range x.Data {
		x.Data[i] += float32(math.Sqrt(sigma2) * s.NormFloat64())
	}
	ll, err := decodertest.AffineLogLik(m.Dec, 2, sigma2, x)
	if err != nil {
		t.Fatal(err)
	}
	var exact float64
	for _, v := range ll {
		exact += v / float64(len(ll))
	}
	steps := 800
	if testing.Short() {
		steps = 200
	}
	cfg := DefaultEvalConfig()
	cfg.Estimator, cfg.Chains, cfg.Steps, cfg.Dequantize = "ais-hmc", 16, steps, false
	tr := &Trainer{Model: m}
	est, err := tr.Score(context.Background(), &dataset.Dataset{X: x}, model.ScoreOptions{Seed: 1, Family: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ais-hmc %.4f ± %.4f, exact %.4f", est.LogLik, est.StdErr, exact)
	if math.Abs(est.LogLik-exact) > 3*est.StdErr+0.02 || est.Method != "ais-hmc" || est.Bound != "lower" {
		t.Errorf("ais-hmc %.4f ± %.4f (%s, %s), exact %.4f", est.LogLik, est.StdErr, est.Method, est.Bound, exact)
	}
	if v, _ := metric(est, "sigma2"); v != sigma2 {
		t.Errorf("σ² %v, want the model's %v", v, sigma2)
	}
}

// The Bernoulli decoder's mean σ(logits) and its backward pass agree with finite
// differences of Σ_j c_j σ(G(z))_j; a Bernoulli VAE has no σ² of its own.
func TestMeanDecoderGradient(t *testing.T) {
	m, err := New(Config{Kind: KindVAE, Latent: 3, Hidden: []int{6}, Activation: "tanh"}, 4, rng.New(5))
	if err != nil {
		t.Fatal(err)
	}
	g := &meanDecoder{m: m, sigmoid: true}
	z := tensor.New(2, 3)
	rng.New(6).FillNormal(z.Data, 0, 1)
	c := []float64{0.3, -1.2, 0.7, 2.0}
	f := func() float64 {
		y := g.Forward(z)
		var s float64
		for r := 0; r < y.Rows; r++ {
			for j, v := range y.Row(r) {
				s += c[j] * float64(v)
			}
		}
		return s
	}
	f()
	dy := tensor.New(2, 4)
	for r := 0; r < 2; r++ {
		for j := range c {
			dy.Set(r, j, float32(c[j]))
		}
	}
	grad := g.Backward(dy).Clone()
	const h = 1e-2
	for i := range z.Data {
		old := z.Data[i]
		z.Data[i] = old + h
		fp := f()
		z.Data[i] = old - h
		fm := f()
		z.Data[i] = old
		num := (fp - fm) / (2 * h)
		if math.Abs(num-float64(grad.Data[i])) > 2e-3*(1+math.Abs(num)) {
			t.Errorf("∂/∂z[%d]: backward %.5f, finite differences %.5f", i, grad.Data[i], num)
		}
	}
	cfg := DefaultEvalConfig()
	cfg.Estimator = "ais-hmc"
	_, err = (&Trainer{Model: m}).Score(context.Background(), &dataset.Dataset{X: tensor.New(2, 4)}, model.ScoreOptions{Family: cfg})
	if !model.IsFlagError(err) {
		t.Errorf("ais-hmc on a Bernoulli decoder without --sigma2: %v", err)
	}
}

func metric(e model.Estimate, name string) (float64, bool) {
	for _, m := range e.Extra {
		if m.Name == name {
			return m.Float()
		}
	}
	return 0, false
}
