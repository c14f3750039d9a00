package vae

import (
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
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
		{0.5, -1.0, 0.0, 0.4, 0.5 * (1.0*0.5 - 0.5*-1.0 + -0.5*0 + 0*0.4) / -0.3 * 0},
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
	for e := 0; e < 30; e++ {
		if _, err := tr.TrainEpoch(d); err != nil {
			t.Fatal(err)
		}
	}
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

func toyData(n, side int, seed uint64) *dataset.Dataset {
	s := rng.New(seed)
	x := tensor.New(n, side*side)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		c := s.IntN(2)
		labels[i] = c
		for r := 0; r < side; r++ {
			for q := 0; q < side; q++ {
				on := (c == 0 && r == side/2) || (c == 1 && q == side/2)
				v := float32(0.1)
				if on {
					v = 0.9
				}
				x.Set(i, r*side+q, v*(0.8+0.2*s.Float32()))
			}
		}
	}
	return &dataset.Dataset{Name: "toy", X: x, Labels: labels, NumClasses: 2, Height: side, Width: side, Channels: 1}
}

func trainerState(t *testing.T, tr *Trainer) []uint32 {
	var out []uint32
	for _, p := range tr.Model.Params() {
		for _, v := range p.W {
			out = append(out, math.Float32bits(v))
		}
	}
	for k := range tr.Adam.M {
		for i := range tr.Adam.M[k] {
			out = append(out, math.Float32bits(tr.Adam.M[k][i]), math.Float32bits(tr.Adam.V[k][i]))
		}
	}
	st, _ := tr.Rng.MarshalBinary()
	for _, b := range st {
		out = append(out, uint32(b))
	}
	return append(out, uint32(tr.Step), uint32(tr.Adam.T))
}

// TestResumeBitIdentical trains 3 epochs straight and 1 + (save, load) + 2, through
// a file on disk, and requires identical parameters, moments, step and stream.
func TestResumeBitIdentical(t *testing.T) {
	for _, cfg := range []Config{
		{Latent: 3, Hidden: []int{20}},
		{Kind: KindCVAE, Latent: 2, Hidden: []int{16}, CondDim: 2, IWK: 3, Decoder: Gaussian},
		{Kind: KindConvVAE, Latent: 2, Height: 6, Width: 6, Channels: 1},
	} {
		d := toyData(100, 6, 1)
		tc := TrainConfig{BatchSize: 32, Seed: 5, Binarize: "dynamic"}
		a, err := NewTrainer(cfg, 36, tc)
		if err != nil {
			t.Fatal(err)
		}
		for e := 0; e < 3; e++ {
			if _, err := a.TrainEpoch(d); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := NewTrainer(cfg, 36, tc)
		if _, err := b.TrainEpoch(d); err != nil {
			t.Fatal(err)
		}
		f, err := b.Checkpoint("toy")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.ckpt")
		if err := checkpoint.Save(path, f); err != nil {
			t.Fatal(err)
		}
		g, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		c, data, err := LoadTrainer(g)
		if err != nil {
			t.Fatal(err)
		}
		if data != "toy" || c.Epoch != 1 {
			t.Errorf("loaded data %q epoch %d, want toy, 1", data, c.Epoch)
		}
		for e := 0; e < 2; e++ {
			if _, err := c.TrainEpoch(d); err != nil {
				t.Fatal(err)
			}
		}
		sa, sc := trainerState(t, a), trainerState(t, c)
		if len(sa) != len(sc) {
			t.Fatalf("%s: state sizes %d, %d", cfg.Kind, len(sa), len(sc))
		}
		for i := range sa {
			if sa[i] != sc[i] {
				t.Fatalf("%s: resumed run differs at state word %d", cfg.Kind, i)
			}
		}
	}
}

// TestWorkersSameBits trains with 1 and 2 workers on batches big enough to be split.
func TestWorkersSameBits(t *testing.T) {
	run := func(w int) []uint32 {
		tensor.SetWorkers(w)
		defer tensor.SetWorkers(0)
		d := toyData(256, 24, 2)
		tr, err := NewTrainer(Config{Latent: 4, Hidden: []int{64}, IWK: 2}, 24*24, TrainConfig{BatchSize: 128, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.TrainEpoch(d); err != nil {
			t.Fatal(err)
		}
		ev, err := tr.Model.Evaluate(d, 20, rng.New(4))
		if err != nil {
			t.Fatal(err)
		}
		return append(trainerState(t, tr), uint32(math.Float64bits(ev.LogLik)), uint32(math.Float64bits(ev.LogLik)>>32))
	}
	a, b := run(1), run(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("state word %d differs between 1 and 2 workers", i)
		}
	}
}

func TestTrainingLearns(t *testing.T) {
	d := toyData(400, 8, 3)
	for _, cfg := range []Config{
		{Latent: 2, Hidden: []int{32}},
		{Kind: KindAE, Latent: 2, Hidden: []int{32}},
		{Kind: KindCVAE, Latent: 2, Hidden: []int{32}, CondDim: 2},
	} {
		tr, err := NewTrainer(cfg, 64, TrainConfig{BatchSize: 20, LR: 3e-3, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		first, _ := tr.TrainEpoch(d)
		var last EpochStats
		for e := 0; e < 9; e++ {
			last, _ = tr.TrainEpoch(d)
		}
		if !(last.Loss < first.Loss-2) {
			t.Errorf("%s: loss %.3f after 10 epochs, %.3f after 1", cfg.Kind, last.Loss, first.Loss)
		}
	}
}

func TestBadSettings(t *testing.T) {
	cases := []struct {
		cfg  Config
		dim  int
		want string
	}{
		{Config{Latent: -1}, 10, "latent dimension must be >= 1, got -1"},
		{Config{Hidden: []int{10, 0}}, 10, "hidden layer 2 size must be >= 1, got 0"},
		{Config{Kind: KindConvVAE, Height: 28, Width: 28, Channels: 1}, 100, "convvae image shape 28×28×1 needs 784 values per example, data has 100"},
		{Config{Kind: KindConvVAE}, 784, "convvae needs image data"},
		{Config{Kind: KindCVAE}, 10, "cvae needs a conditioning vector"},
		{Config{Decoder: "poisson"}, 10, `unknown decoder "poisson"`},
		{Config{IWK: 5, Beta: 2}, 10, "beta must be 1"},
		{Config{Kind: "gan"}, 10, `unknown model kind "gan"`},
		{Config{Activation: "gelu"}, 10, `unknown activation "gelu"`},
	}
	for _, c := range cases {
		_, err := New(c.cfg, c.dim, rng.New(1))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "vae: ") {
			t.Errorf("%+v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	// cvae on data without labels
	tr, err := NewTrainer(Config{Kind: KindCVAE, CondDim: 2, Hidden: []int{4}}, 36, TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	d := toyData(10, 6, 1)
	d.Labels = nil
	if _, err := tr.TrainEpoch(d); err == nil || !strings.Contains(err.Error(), "cvae needs labels") {
		t.Errorf("cvae without labels: %v", err)
	}
	if _, err := NewTrainer(Config{}, 36, TrainConfig{LR: -1}); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("negative lr: %v", err)
	}
}

func TestNaNLossNamesStep(t *testing.T) {
	d := toyData(64, 6, 1)
	tr, err := NewTrainer(Config{Latent: 2, Hidden: []int{8}}, 36, TrainConfig{BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.TrainEpoch(d); err != nil {
		t.Fatal(err)
	}
	tr.Model.Dec.Params()[0].W[0] = float32(math.NaN())
	_, err = tr.TrainEpoch(d)
	if err == nil || !strings.Contains(err.Error(), "at step 5 (epoch 2)") {
		t.Errorf("NaN weights: error %v, want one naming step 5", err)
	}
}

// TestGradAllocs: once warm, a training step allocates no matrices: what remains
// are a few closures handed to the worker pool (tens of bytes each), far less than
// one 32×64 batch matrix (8 KiB).
func TestGradAllocs(t *testing.T) {
	d := toyData(64, 8, 1)
	tr, _ := NewTrainer(Config{Latent: 2, Hidden: []int{16}}, 64, TrainConfig{BatchSize: 32})
	x := d.X.Slice(0, 32)
	s := rng.New(1)
	step := func() {
		tr.Model.Grad(x, nil, s)
		tr.Adam.Step(tr.params)
	}
	step()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const n = 50
	for i := 0; i < n; i++ {
		step()
	}
	runtime.ReadMemStats(&m1)
	perStep := float64(m1.TotalAlloc-m0.TotalAlloc) / n
	t.Logf("%.0f bytes, %.1f allocations per warm step", perStep, float64(m1.Mallocs-m0.Mallocs)/n)
	if perStep > 4096 {
		t.Errorf("%.0f bytes allocated per warm training step", perStep)
	}
}

func TestPictures(t *testing.T) {
	m, err := New(Config{Latent: 2, Hidden: []int{8}}, 16, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Traversals(nil, 5, 2, nil)
	if tr.Rows != 10 || tr.Cols != 16 {
		t.Fatalf("Traversals: %d×%d, want 10×16", tr.Rows, tr.Cols)
	}
	// row 2 of dimension 0 is h = (0, 0): the decoder mean at the origin
	origin := m.Decode(nil, tensor.New(1, 2), nil)
	for j, v := range origin.Row(0) {
		if tr.At(2, j) != v || v <= 0 || v >= 1 {
			t.Fatalf("traversal midpoint %g, decoder at 0 gives %g", tr.At(2, j), v)
		}
	}
	g := m.Manifold(4, nil)
	if g.Rows != 16 {
		t.Fatalf("Manifold: %d rows", g.Rows)
	}
	if q := NormalQuantile(0.975); math.Abs(q-1.959964) > 1e-5 {
		t.Errorf("NormalQuantile(0.975) = %g", q)
	}
}
