package decoder

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"gonum.org/v1/gonum/mat"
)

// ppca is a linear generator G(z, y) = z W_z + W_y[y] + b (no label part when
// classes = 0): the decoder model is then probabilistic PCA, p(x | y) =
// N(x; b + W_y[y], W_zᵀ W_z + σ² I), with log p(x | y) in closed form.
type ppca struct {
	latent, classes, dim int
	lin                  *nn.Linear
}

func newPPCA(latent, classes, dim int, seed uint64) ppca {
	s := rng.New(seed)
	lin := nn.NewLinear(latent+classes, dim, nn.Glorot, s)
	for i := range lin.B.W {
		lin.B.W[i] = float32(0.3 * s.NormFloat64())
	}
	return ppca{latent, classes, dim, lin}
}

func (p ppca) net() Net {
	return Net{G: nn.NewSequential(p.lin), Latent: p.latent, Classes: p.classes}
}

// logLik returns the exact log p(x_i | y_i) of every row.
func (p ppca) logLik(t *testing.T, x *tensor.Mat, labels []int, sigma2 float64) []float64 {
	w := mat.NewDense(p.latent, p.dim, nil)
	for i := 0; i < p.latent; i++ {
		for j := 0; j < p.dim; j++ {
			w.Set(i, j, float64(p.lin.W.W[i*p.dim+j]))
		}
	}
	cov := mat.NewSymDense(p.dim, nil)
	cov.SymOuterK(1, w.T())
	for j := 0; j < p.dim; j++ {
		cov.SetSym(j, j, cov.At(j, j)+sigma2)
	}
	var chol mat.Cholesky
	if !chol.Factorize(cov) {
		t.Fatal("covariance not positive definite")
	}
	out := make([]float64, x.Rows)
	r := mat.NewVecDense(p.dim, nil)
	var sol mat.VecDense
	for i := range out {
		for j := 0; j < p.dim; j++ {
			mu := float64(p.lin.B.W[j])
			if p.classes > 0 {
				mu += float64(p.lin.W.W[(p.latent+labels[i])*p.dim+j])
			}
			r.SetVec(j, float64(x.At(i, j))-mu)
		}
		if err := chol.SolveVecTo(&sol, r); err != nil {
			t.Fatal(err)
		}
		out[i] = -0.5 * (float64(p.dim)*math.Log(2*math.Pi) + chol.LogDet() + mat.Dot(r, &sol))
	}
	return out
}

// simulate draws n examples from the model with σ², labels in turn.
func (p ppca) simulate(n int, sigma2 float64, seed uint64) (*tensor.Mat, []int) {
	s := rng.New(seed)
	in := tensor.New(n, p.latent+p.classes)
	var labels []int
	for i := 0; i < n; i++ {
		s.FillNormal(in.Row(i)[:p.latent], 0, 1)
		if p.classes > 0 {
			labels = append(labels, i%p.classes)
			in.Row(i)[p.latent+i%p.classes] = 1
		}
	}
	x := p.lin.Forward(in).Clone()
	for i := range x.Data {
		x.Data[i] += float32(math.Sqrt(sigma2) * s.NormFloat64())
	}
	return x, labels
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func steps(full int) int {
	if testing.Short() {
		return full / 4
	}
	return full
}

// A conditional linear generator: Score's estimate of log p(x | y) agrees with the
// closed form within three standard errors.
func TestScoreConditionalMatchesPPCA(t *testing.T) {
	const sigma2 = 0.05
	p := newPPCA(2, 3, 5, 4)
	x, labels := p.simulate(9, sigma2, 5)
	exact := mean(p.logLik(t, x, labels, sigma2))
	est, err := Score(context.Background(), p.net(), &dataset.Dataset{X: x, Labels: labels},
		&EvalConfig{Sigma2: sigma2, Chains: 16, Steps: steps(800), Leapfrog: 10}, model.ScoreOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AIS-HMC %.4f ± %.4f, exact %.4f", est.LogLik, est.StdErr, exact)
	if math.Abs(est.LogLik-exact) > 3*est.StdErr+0.02 {
		t.Errorf("AIS-HMC %.4f ± %.4f, exact %.4f: more than 3 standard errors apart", est.LogLik, est.StdErr, exact)
	}
	// The labels matter: scoring every example under another label is far worse.
	wrong := make([]int, len(labels))
	for i, l := range labels {
		wrong[i] = (l + 1) % 3
	}
	if w := mean(p.logLik(t, x, wrong, sigma2)); w > exact-1 {
		t.Fatalf("test is weak: the wrong labels give %.3f against %.3f", w, exact)
	}
	if _, err := Score(context.Background(), p.net(), &dataset.Dataset{X: x}, &EvalConfig{Sigma2: sigma2, Chains: 1, Steps: 1, Leapfrog: 1}, model.ScoreOptions{Seed: 2}); err == nil ||
		!strings.Contains(err.Error(), "conditional") {
		t.Errorf("a conditional model on data without labels: %v", err)
	}
}

// ChooseSigma2 on held-out data simulated with σ² = 0.05: every grid value's
// estimate agrees with the closed form, and the chosen σ² is the closed form's
// best.
func TestChooseSigma2(t *testing.T) {
	const sigma2 = 0.05
	p := newPPCA(2, 0, 6, 7)
	x, _ := p.simulate(12, sigma2, 8)
	f := t.TempDir() + "/valid.csv"
	writeCSV(t, f, x)
	cfg := &EvalConfig{Sigma2Grid: "0.0125,0.05,0.2", Sigma2Data: f, Chains: 16, Steps: steps(600), Leapfrog: 10}
	c, err := ChooseSigma2(context.Background(), p.net(), 6, cfg, model.ScoreOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	best, bestV := 0.0, math.Inf(-1)
	for i, s2 := range c.Grid {
		// The CSV holds the values to float32 precision and more digits; reread them.
		exact := mean(p.logLik(t, readBack(t, f), nil, s2))
		t.Logf("σ² %g: AIS %.4f ± %.4f, exact %.4f", s2, c.LogLik[i], c.StdErr[i], exact)
		if math.Abs(c.LogLik[i]-exact) > 3*c.StdErr[i]+0.03 {
			t.Errorf("σ² %g: AIS %.4f ± %.4f, exact %.4f", s2, c.LogLik[i], c.StdErr[i], exact)
		}
		if exact > bestV {
			best, bestV = s2, exact
		}
	}
	if c.Sigma2 != best || c.N != 12 {
		t.Errorf("chose σ² = %g on %d examples, the closed form's best is %g", c.Sigma2, c.N, best)
	}
	if !strings.Contains(c.Table(), "0.05: ") {
		t.Errorf("table %q", c.Table())
	}
	for _, bad := range []struct {
		cfg  EvalConfig
		flag string
	}{
		{EvalConfig{Sigma2Grid: "0.01,x", Sigma2Data: f}, "sigma2-grid"},
		{EvalConfig{Sigma2Grid: "0.01,-1", Sigma2Data: f}, "sigma2-grid"},
		{EvalConfig{Sigma2Grid: "0.01"}, "sigma2-data"},
	} {
		_, err := ChooseSigma2(context.Background(), p.net(), 6, &bad.cfg, model.ScoreOptions{})
		if fe, ok := err.(*model.FlagError); !ok || fe.Flag != bad.flag {
			t.Errorf("%+v: got %v, want an error naming --%s", bad.cfg, err, bad.flag)
		}
	}
	if _, err := ChooseSigma2(context.Background(), p.net(), 7, &EvalConfig{Sigma2Grid: "0.01", Sigma2Data: f, Chains: 1, Steps: 1, Leapfrog: 1}, model.ScoreOptions{}); err == nil || !strings.Contains(err.Error(), "6 values per example") {
		t.Errorf("held-out data of the wrong width: %v", err)
	}
}

// BDMC on data simulated from a linear decoder: the forward and reverse
// estimates bracket the exact mean log p(x), up to Monte Carlo error, and their
// gap is small; the conditional path brackets log p(x | y).
func TestCheckBDMCBracketsExact(t *testing.T) {
	for _, classes := range []int{0, 3} {
		const sigma2 = 0.05
		p := newPPCA(2, classes, 5, 11)
		for seed := uint64(1); seed <= 2; seed++ {
			b, err := CheckBDMC(context.Background(), p.net(), sigma2, 8, &EvalConfig{Chains: 8, Steps: steps(800), Leapfrog: 10}, seed)
			if err != nil {
				t.Fatal(err)
			}
			exact := mean(p.logLik(t, b.X, b.Labels, sigma2))
			t.Logf("classes %d: forward %.4f ± %.4f, reverse %.4f ± %.4f, exact %.4f", classes, b.Forward, b.ForwardSE, b.Reverse, b.ReverseSE, exact)
			if b.Forward > exact+3*b.ForwardSE+1e-3 || b.Reverse < exact-3*b.ReverseSE-1e-3 {
				t.Errorf("classes %d: forward %.4f and reverse %.4f do not bracket the exact %.4f", classes, b.Forward, b.Reverse, exact)
			}
			if g := b.Gap(); g > 0.3 || g < -3*(b.ForwardSE+b.ReverseSE) {
				t.Errorf("classes %d: BDMC gap %.4f", classes, g)
			}
			if classes > 0 && len(b.Labels) != 8 {
				t.Errorf("labels %v", b.Labels)
			}
		}
	}
}

// A linear generator with a categorical code (an InfoGAN's): p(x) = (1/K)
// Σ_c p(x | c), each term a probabilistic PCA in closed form. Score's estimate
// agrees with the exact mixture within three standard errors, on examples
// simulated from different codes, and differs from every single code's
// log p(x | c), so the mixture is what was scored.
func TestScoreCodesMatchesMixture(t *testing.T) {
	const sigma2, k = 0.05, 3
	p := newPPCA(2, k, 5, 4)
	x, _ := p.simulate(9, sigma2, 5)
	per := make([][]float64, k)
	for c := range k {
		codes := make([]int, x.Rows)
		for i := range codes {
			codes[i] = c
		}
		per[c] = p.logLik(t, x, codes, sigma2)
	}
	exactRows := make([]float64, x.Rows)
	for i := range exactRows {
		top := math.Inf(-1)
		for c := range k {
			top = max(top, per[c][i])
		}
		var s float64
		for c := range k {
			s += math.Exp(per[c][i] - top)
		}
		exactRows[i] = top + math.Log(s/k)
	}
	exact := mean(exactRows)
	net := p.net()
	net.Classes, net.Codes = 0, k
	est, err := Score(context.Background(), net, &dataset.Dataset{X: x},
		&EvalConfig{Sigma2: sigma2, Chains: 16, Steps: steps(800), Leapfrog: 10}, model.ScoreOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AIS-HMC over %d codes %.4f ± %.4f, exact %.4f", k, est.LogLik, est.StdErr, exact)
	if math.Abs(est.LogLik-exact) > 3*est.StdErr+0.02 {
		t.Errorf("AIS-HMC %.4f ± %.4f, exact mixture %.4f: more than 3 standard errors apart", est.LogLik, est.StdErr, exact)
	}
	if !(est.StdErr > 0) || len(est.PerExample) != x.Rows {
		t.Errorf("standard error %g, %d per-example figures", est.StdErr, len(est.PerExample))
	}
	for c := range k {
		if m := mean(per[c]); math.Abs(m-exact) < 0.5 {
			t.Fatalf("test is weak: code %d alone gives %.3f against the mixture's %.3f", c, m, exact)
		}
	}
}

// mixCodes on hand-made weights: two codes, two chains each, one example:
// p̂ = (1/2)((e¹ + e³)/2 + (e² + e²)/2), and the stratified delta-method error.
func TestMixCodes(t *testing.T) {
	runs := []mcmc.DecoderAISResult{
		{LogWeights: []float64{1, 3}, Chains: 2, AcceptRate: 0.5, Bound: "lower"},
		{LogWeights: []float64{2, 2}, Chains: 2, AcceptRate: 0.7, Bound: "lower"},
	}
	got := mixCodes(runs, 1)
	e := math.Exp
	p := 0.5 * ((e(1)+e(3))/2 + (e(2)+e(2))/2)
	v0 := (e(1) - e(3)) * (e(1) - e(3)) / 2 // sample variance of {e¹, e³}
	se := math.Sqrt(v0/2/4) / p
	if math.Abs(got.LogLik[0]-math.Log(p)) > 1e-12 || math.Abs(got.StdErr[0]-se) > 1e-12 ||
		got.Chains != 4 || math.Abs(got.AcceptRate-0.6) > 1e-12 || got.Mean != got.LogLik[0] {
		t.Errorf("mixCodes: %+v; want log p̂ %.12f, standard error %.12f", got, math.Log(p), se)
	}
}
