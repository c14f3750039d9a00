package vae

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// ppca is a linear-Gaussian model x = zW + b + noise, z ~ N(0, I_D), noise ~ N(0, σ²I):
// probabilistic PCA, where log p(x) = log N(x; b, WᵀW + σ²I) is closed form.
type ppca struct {
	W      [][]float64 // D×P
	b      []float64
	sigma2 float64
}

// logp returns log N(x; b, C) with C = WᵀW + σ²I, by Cholesky.
func (p ppca) logp(x []float32) float64 {
	P := len(p.b)
	C := make([][]float64, P)
	for i := range C {
		C[i] = make([]float64, P)
		for j := range C[i] {
			for _, w := range p.W {
				C[i][j] += w[i] * w[j]
			}
		}
		C[i][i] += p.sigma2
	}
	L := make([][]float64, P) // C = LLᵀ
	for i := range L {
		L[i] = make([]float64, P)
		for j := 0; j <= i; j++ {
			s := C[i][j]
			for k := 0; k < j; k++ {
				s -= L[i][k] * L[j][k]
			}
			if i == j {
				L[i][i] = math.Sqrt(s)
			} else {
				L[i][j] = s / L[j][j]
			}
		}
	}
	r := make([]float64, P) // solve L r = x − b
	var logdet, quad float64
	for i := 0; i < P; i++ {
		s := float64(x[i]) - p.b[i]
		for k := 0; k < i; k++ {
			s -= L[i][k] * r[k]
		}
		r[i] = s / L[i][i]
		quad += r[i] * r[i]
		logdet += 2 * math.Log(L[i][i])
	}
	return -0.5 * (quad + logdet + float64(P)*math.Log(2*math.Pi))
}

func (p ppca) sample(s *rng.Stream, n int) *tensor.Mat {
	P, D := len(p.b), len(p.W)
	x := tensor.New(n, P)
	for i := 0; i < n; i++ {
		z := make([]float64, D)
		for d := range z {
			z[d] = s.NormFloat64()
		}
		for j := 0; j < P; j++ {
			v := p.b[j] + math.Sqrt(p.sigma2)*s.NormFloat64()
			for d := range z {
				v += z[d] * p.W[d][j]
			}
			x.Set(i, j, float32(v))
		}
	}
	return x
}

// linearVAE returns a VAE whose encoder and decoder are single Linear layers.
func linearVAE(t *testing.T, D, P int, sigma2 float64) *Model {
	m, err := New(Config{Latent: D, Hidden: []int{1}, Decoder: Gaussian, Sigma2: sigma2}, P, rng.New(6))
	if err != nil {
		t.Fatal(err)
	}
	s := rng.New(7)
	enc := nn.NewLinear(P, 2*D, nn.Glorot, s)
	enc.NoInputGrad = true
	m.Enc = nn.NewSequential(enc)
	m.Dec = nn.NewSequential(nn.NewLinear(D, P, nn.Glorot, s))
	return m
}

// setPPCA makes m's decoder the pPCA model p and its encoder the exact posterior
// mean M⁻¹W(x − b) with variance σ²M⁻¹ (M = WWᵀ + σ²I diagonal because W's rows are
// orthogonal), then scales the posterior mean by meanScale and adds lvShift to
// log σ², so the encoder is exact only for meanScale = 1, lvShift = 0.
func setPPCA(m *Model, p ppca, meanScale float32, lvShift float64) {
	D, P := len(p.W), len(p.b)
	dec := m.Dec.Layers[0].(*nn.Linear)
	enc := m.Enc.Layers[0].(*nn.Linear)
	for d := 0; d < D; d++ {
		var Md float64 = p.sigma2
		for j := 0; j < P; j++ {
			Md += p.W[d][j] * p.W[d][j]
		}
		var mb float64
		for j := 0; j < P; j++ {
			dec.W.W[d*P+j] = float32(p.W[d][j])
			// μ_d = Σ_j x_j W[d][j]/M_d − Σ_j b_j W[d][j]/M_d
			enc.W.W[j*2*D+d] = meanScale * float32(p.W[d][j]/Md)
			enc.W.W[j*2*D+D+d] = 0
			mb += p.b[j] * p.W[d][j] / Md
		}
		enc.B.W[d] = -meanScale * float32(mb)
		enc.B.W[D+d] = float32(math.Log(p.sigma2/Md) + lvShift)
	}
	for j := 0; j < P; j++ {
		dec.B.W[j] = float32(p.b[j])
	}
}

var testPPCA = ppca{
	W: [][]float64{
		{1.0, 0.5, -0.5, 0.0, 0.3},
		{0.5, -1.0, 0.0, 0.4, 0}, // last entry set by init: rows orthogonal
	},
	b:      []float64{0.2, -0.1, 0.5, 0, 1},
	sigma2: 0.25,
}

func init() {
	// make the two rows of W exactly orthogonal: adjust W[1][4]
	w0, w1 := testPPCA.W[0], testPPCA.W[1]
	var dot float64
	for j := 0; j < 4; j++ {
		dot += w0[j] * w1[j]
	}
	w1[4] = -dot / w0[4]
}

// TestExactPosteriorGivesLogLik: with the decoder equal to the pPCA model and the
// encoder equal to its exact posterior, every importance weight equals p(x), so
// the ELBO and the IWAE estimate both equal the closed-form log p(x).
func TestExactPosteriorGivesLogLik(t *testing.T) {
	p := testPPCA
	x := p.sample(rng.New(8), 20)
	m := linearVAE(t, 2, 5, p.sigma2)
	setPPCA(m, p, 1, 0)
	ll, elbo := make([]float64, 20), make([]float64, 20)
	m.LogLikelihood(ll, elbo, x, nil, 7, rng.New(9))
	for i := range ll {
		want := p.logp(x.Row(i))
		if math.Abs(ll[i]-want) > 2e-4 || math.Abs(elbo[i]-want) > 2e-4 {
			t.Errorf("x%d: IWAE %.6f, ELBO %.6f, closed form %.6f", i, ll[i], elbo[i], want)
		}
	}
}

// TestIWAEConvergesToLogLik: with a deliberately wrong encoder, the ELBO lies below
// log p(x), the IWAE estimate L_k rises with k and L_5000 is within 0.01 nats.
func TestIWAEConvergesToLogLik(t *testing.T) {
	p := testPPCA
	x := p.sample(rng.New(10), 10)
	m := linearVAE(t, 2, 5, p.sigma2)
	setPPCA(m, p, 0.6, 0.7) // shrunk mean, doubled variance
	var exact float64
	for i := 0; i < x.Rows; i++ {
		exact += p.logp(x.Row(i)) / float64(x.Rows)
	}
	mean := func(k int) (ll, elbo float64) {
		l, e := make([]float64, x.Rows), make([]float64, x.Rows)
		m.LogLikelihood(l, e, x, nil, k, rng.New(uint64(11+k)))
		for i := range l {
			ll += l[i] / float64(x.Rows)
			elbo += e[i] / float64(x.Rows)
		}
		return
	}
	_, elbo := mean(5000) // precise ELBO estimate from 5000 samples per point
	gapELBO := exact - elbo
	if gapELBO < 0.05 {
		t.Fatalf("ELBO %.4f is not clearly below log p(x) = %.4f", elbo, exact)
	}
	prevGap := gapELBO
	for _, k := range []int{1, 10, 100, 5000} {
		ll, _ := mean(k)
		gap := exact - ll
		t.Logf("k=%d: L_k %.4f, log p(x) %.4f, gap %.4f", k, ll, exact, gap)
		if k > 1 && gap > prevGap+0.02 {
			t.Errorf("k=%d: gap %.4f did not shrink (previous %.4f)", k, gap, prevGap)
		}
		prevGap = gap
	}
	if math.Abs(prevGap) > 0.01 {
		t.Errorf("L_5000 is %.4f nats from log p(x)", prevGap)
	}
}

// TestTrainedLinearVAEBound trains a linear VAE on pPCA data and checks that its
// ELBO stays below its own closed-form log p(x) while IWAE approaches it.
func TestTrainedLinearVAEBound(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	p := testPPCA
	d := &dataset.Dataset{Name: "ppca", X: p.sample(rng.New(12), 2000)}
	tr, err := NewTrainer(Config{Latent: 2, Hidden: []int{1}, Decoder: Gaussian, Sigma2: p.sigma2}, 5, TrainConfig{BatchSize: 50, LR: 3e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := rng.New(13)
	enc := nn.NewLinear(5, 4, nn.Glorot, s)
	enc.NoInputGrad = true
	tr.Model.Enc = nn.NewSequential(enc)
	tr.Model.Dec = nn.NewSequential(nn.NewLinear(2, 5, nn.Glorot, s))
	tr.params = tr.Model.Params()
	mustFit(t, tr, d, 30)
	// the model's own pPCA: W and b of its decoder
	dec := tr.Model.Dec.Layers[0].(*nn.Linear)
	q := ppca{W: [][]float64{make([]float64, 5), make([]float64, 5)}, b: make([]float64, 5), sigma2: p.sigma2}
	for dd := 0; dd < 2; dd++ {
		for j := 0; j < 5; j++ {
			q.W[dd][j] = float64(dec.W.W[dd*5+j])
		}
	}
	for j := 0; j < 5; j++ {
		q.b[j] = float64(dec.B.W[j])
	}
	x := d.X.Slice(0, 50)
	var exact, truth float64
	for i := 0; i < x.Rows; i++ {
		exact += q.logp(x.Row(i)) / 50
		truth += p.logp(x.Row(i)) / 50
	}
	ll, elbo := make([]float64, 50), make([]float64, 50)
	tr.Model.LogLikelihood(ll, elbo, x, nil, 5000, rng.New(14))
	var mll, melbo float64
	for i := range ll {
		mll += ll[i] / 50
		melbo += elbo[i] / 50
	}
	t.Logf("model log p(x) %.4f (data-generating model %.4f), ELBO %.4f, IWAE-5000 %.4f", exact, truth, melbo, mll)
	if melbo > exact+0.005 {
		t.Errorf("ELBO %.4f above log p(x) %.4f", melbo, exact)
	}
	if mll > exact+0.005 || exact-mll > 0.5*(exact-melbo)+0.005 {
		t.Errorf("IWAE-5000 %.4f not between the ELBO %.4f and log p(x) %.4f, closer to the latter", mll, melbo, exact)
	}
	if exact < truth-0.1 {
		t.Errorf("trained model's log p(x) %.4f far below the data-generating model's %.4f", exact, truth)
	}
}
