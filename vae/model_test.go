package vae

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// TestKLMonteCarlo checks the closed-form KL(N(μ, σ²) ‖ N(0, I)) against a seeded
// Monte Carlo estimate E_Q[log Q(h) − log N(h; 0, I)] with 400k draws.
func TestKLMonteCarlo(t *testing.T) {
	mu := []float32{0.5, -1.2, 0, 2}
	lv := []float32{-0.5, 0.8, 0, -2}
	want := KL(mu, lv)
	s := rng.New(1)
	const n = 400000
	var sum, sum2 float64
	for i := 0; i < n; i++ {
		var d float64
		for j := range mu {
			e := s.NormFloat64()
			h := float64(mu[j]) + math.Exp(0.5*float64(lv[j]))*e
			// log Q − log p = −½ε² − ½lv + ½h²
			d += -0.5*e*e - 0.5*float64(lv[j]) + 0.5*h*h
		}
		sum += d
		sum2 += d * d
	}
	mean := sum / n
	se := math.Sqrt((sum2/n - mean*mean) / n)
	if math.Abs(mean-want) > 4*se {
		t.Errorf("closed-form KL %.5f, Monte Carlo %.5f ± %.5f", want, mean, se)
	}
	if KL([]float32{0}, []float32{0}) != 0 {
		t.Error("KL(N(0,1)‖N(0,1)) != 0")
	}
}

func randData(s *rng.Stream, n, d int, binary bool) *tensor.Mat {
	x := tensor.New(n, d)
	s.FillUniform(x.Data)
	if binary {
		for i, v := range x.Data {
			x.Data[i] = float32(math.Round(float64(v)))
		}
	}
	return x
}

// checkModelGrad compares Grad's parameter gradients with central differences of
// its loss, redrawing the same ε every time (the loss is then a fixed function).
func checkModelGrad(t *testing.T, name string, m *Model, x, y *tensor.Mat, h float64) {
	t.Helper()
	loss := func() float64 { return m.Grad(x, y, rng.New(42)).Loss }
	loss()
	grads := map[*nn.Param][]float32{}
	for _, p := range m.Params() {
		grads[p] = append([]float32(nil), p.G...)
	}
	bad := 0
	for k, p := range m.Params() {
		step := max(1, len(p.W)/40) // a spread-out subset of each parameter
		for i := 0; i < len(p.W); i += step {
			old := p.W[i]
			p.W[i] = old + float32(h)
			fp := loss()
			p.W[i] = old - float32(h)
			fm := loss()
			p.W[i] = old
			num := (fp - fm) / (2 * h)
			an := float64(grads[p][i])
			if math.Abs(an-num) > 3e-3+2e-2*math.Abs(num) {
				bad++
				if bad < 10 {
					t.Errorf("%s: param %d (%s)[%d]: analytic %.6g, finite difference %.6g", name, k, p.Name, i, an, num)
				}
			}
		}
	}
}

func TestGradFiniteDifferences(t *testing.T) {
	s := rng.New(2)
	xb := randData(s, 3, 6, true)
	xc := randData(s, 3, 6, false)
	y := OneHot(nil, []int{0, 2, 1}, []int{0, 1, 2}, 3)
	cases := []struct {
		name string
		cfg  Config
		x, y *tensor.Mat
	}{
		{"vae-bernoulli", Config{Latent: 2, Hidden: []int{4}, Activation: "tanh"}, xb, nil},
		{"vae-beta", Config{Latent: 2, Hidden: []int{4, 3}, Activation: "tanh", Beta: 0.5}, xc, nil},
		{"vae-gauss-fixed", Config{Latent: 2, Hidden: []int{4}, Activation: "tanh", Decoder: Gaussian, Sigma2: 0.5}, xc, nil},
		{"vae-gauss-learned", Config{Latent: 2, Hidden: []int{4}, Activation: "softplus", Decoder: Gaussian}, xc, nil},
		{"iwae-k4", Config{Latent: 2, Hidden: []int{4}, Activation: "tanh", IWK: 4}, xb, nil},
		{"iwae-gauss-learned", Config{Latent: 2, Hidden: []int{4}, Activation: "tanh", IWK: 3, Decoder: Gaussian}, xc, nil},
		{"cvae", Config{Kind: KindCVAE, Latent: 2, Hidden: []int{4}, Activation: "tanh", CondDim: 3}, xb, y},
		{"ae", Config{Kind: KindAE, Latent: 2, Hidden: []int{4}, Activation: "tanh"}, xc, nil},
	}
	for _, c := range cases {
		m, err := New(c.cfg, 6, rng.New(3))
		if err != nil {
			t.Fatal(err)
		}
		if m.LogSigma2 != nil {
			m.LogSigma2.W[0] = -0.3
		}
		checkModelGrad(t, c.name, m, c.x, c.y, 2e-3)
	}
}

func TestConvVAEGrad(t *testing.T) {
	s := rng.New(4)
	x := randData(s, 2, 8*8, true)
	m, err := New(Config{Kind: KindConvVAE, Latent: 2, Hidden: []int{5}, Height: 8, Width: 8, Channels: 1, Init: "glorot", Activation: "tanh"}, 64, rng.New(5))
	if err != nil {
		t.Fatal(err)
	}
	checkModelGrad(t, "convvae", m, x, nil, 4e-3)
}
