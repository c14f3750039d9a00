package mcmc

import (
	"errors"
	"math"
	"runtime"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"gonum.org/v1/gonum/mat"
)

// affineGen is the generator G(z) = act(z W + b), W (dz, D), with act the identity
// or tanh: a linear decoder (probabilistic PCA) or a small nonlinear one.
type affineGen struct {
	W    *tensor.Mat
	B    []float32
	Tanh bool
	y    *tensor.Mat
	dz   *tensor.Mat
	dpre *tensor.Mat
}

func newAffineGen(dz, D int, wScale float32, tanh bool, seed uint64) *affineGen {
	s := rng.New(seed)
	g := &affineGen{W: tensor.New(dz, D), B: make([]float32, D), Tanh: tanh}
	s.FillNormal(g.W.Data, 0, wScale)
	s.FillNormal(g.B, 0, 0.5)
	return g
}

func (g *affineGen) Forward(z *tensor.Mat) *tensor.Mat {
	g.y = tensor.Reuse(g.y, z.Rows, g.W.Cols)
	for i := range z.Rows {
		copy(g.y.Row(i), g.B)
	}
	tensor.Gemm(false, false, 1, z, g.W, 1, g.y)
	if g.Tanh {
		for i, v := range g.y.Data {
			g.y.Data[i] = float32(math.Tanh(float64(v)))
		}
	}
	return g.y
}

func (g *affineGen) Backward(dy *tensor.Mat) *tensor.Mat {
	d := dy
	if g.Tanh {
		g.dpre = tensor.Reuse(g.dpre, dy.Rows, dy.Cols)
		for i, v := range dy.Data {
			y := g.y.Data[i]
			g.dpre.Data[i] = v * (1 - y*y)
		}
		d = g.dpre
	}
	g.dz = tensor.Reuse(g.dz, dy.Rows, g.W.Rows)
	tensor.Gemm(false, true, 1, d, g.W, 0, g.dz)
	return g.dz
}

// simulate draws n pairs z ~ N(0, I), x ~ N(G(z), σ² I).
func simulate(g *affineGen, n int, sigma2 float64, seed uint64) (x, z *tensor.Mat) {
	s := rng.New(seed)
	z = tensor.New(n, g.W.Rows)
	s.FillNormal(z.Data, 0, 1)
	x = g.Forward(z).Clone()
	noise := tensor.New(n, g.W.Cols)
	s.FillNormal(noise.Data, 0, float32(math.Sqrt(sigma2)))
	for i := range x.Data {
		x.Data[i] += noise.Data[i]
	}
	return x, z
}

// ppcaLogProb returns log N(x; b, WᵀW + σ² I) for each row of x (W is dz×D here),
// the closed form of probabilistic PCA (Tipping & Bishop 1999), in float64 through a
// Cholesky factor (gonum mat; distmv would add golang.org/x/tools to go.sum).
func ppcaLogProb(g *affineGen, sigma2 float64, x *tensor.Mat) []float64 {
	dz, D := g.W.Rows, g.W.Cols
	W := mat.NewDense(dz, D, nil)
	for i := range dz {
		for j := range D {
			W.Set(i, j, float64(g.W.At(i, j)))
		}
	}
	var cov mat.SymDense
	cov.SymOuterK(1, W.T())
	for j := range D {
		cov.SetSym(j, j, cov.At(j, j)+sigma2)
	}
	var chol mat.Cholesky
	if !chol.Factorize(&cov) {
		panic("covariance not positive definite")
	}
	out := make([]float64, x.Rows)
	r, u := mat.NewVecDense(D, nil), mat.NewVecDense(D, nil)
	for i := range out {
		for j, v := range x.Row(i) {
			r.SetVec(j, float64(v)-float64(g.B[j]))
		}
		if err := chol.SolveVecTo(u, r); err != nil {
			panic(err)
		}
		// log N(x; b, C) = −(D log 2π + log det C + rᵀC⁻¹r)/2, r = x − b.
		out[i] = -0.5 * (float64(D)*math.Log(2*math.Pi) + chol.LogDet() + mat.Dot(r, u))
	}
	return out
}

// gridLogProb returns log ∫ N(z; 0, I) N(x; tanh(zW + b), σ² I) dz for 2-D z by the
// midpoint rule on [−7, 7]² with spacing h, in float64 (log-sum-exp over the grid).
func gridLogProb(g *affineGen, sigma2 float64, x []float32, h float64) float64 {
	D := g.W.Cols
	n := int(math.Round(14 / h))
	c := -0.5*float64(D)*math.Log(2*math.Pi*sigma2) - math.Log(2*math.Pi) + 2*math.Log(h)
	terms := make([]float64, 0, n*n)
	w0, w1 := make([]float64, D), make([]float64, D)
	for j := range D {
		w0[j], w1[j] = float64(g.W.At(0, j)), float64(g.W.At(1, j))
	}
	for a := range n {
		z0 := -7 + (float64(a)+0.5)*h
		for b := range n {
			z1 := -7 + (float64(b)+0.5)*h
			s := 0.0
			for j := range D {
				e := float64(x[j]) - math.Tanh(z0*w0[j]+z1*w1[j]+float64(g.B[j]))
				s += e * e
			}
			terms = append(terms, -0.5*(z0*z0+z1*z1)-0.5*s/sigma2)
		}
	}
	return c + tensor.LogSumExp64(terms)
}

// The Gaussian decoder's log-likelihood matches the formula and its gradient matches
// central differences (a tanh generator).
func TestGaussianDecoderGradient(t *testing.T) {
	for _, tanh := range []bool{false, true} {
		g := newAffineGen(3, 7, 0.8, tanh, 3)
		dec, err := NewGaussianDecoder(g, 3, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := simulate(g, 5, 0.2, 4)
		z := tensor.New(5, 3)
		rng.New(5).FillNormal(z.Data, 0, 1)
		grad, ll := tensor.New(5, 3), make([]float64, 5)
		dec.LogLik(grad, z, x, ll)
		y := g.Forward(z).Clone()
		for r := range 5 {
			var s float64
			for j := range 7 {
				e := float64(x.At(r, j)) - float64(y.At(r, j))
				s += e * e
			}
			if want := -s/0.4 - 3.5*math.Log(2*math.Pi*0.2); math.Abs(ll[r]-want) > 1e-9*math.Abs(want) {
				t.Errorf("tanh=%v row %d: log p(x|z) = %.10g, want %.10g", tanh, r, ll[r], want)
			}
		}
		const h = 1e-2
		zp, gp, lp := tensor.New(5, 3), tensor.New(5, 3), make([]float64, 5)
		lm := make([]float64, 5)
		for k := range 3 {
			zp.Copy(z)
			for r := range 5 {
				zp.Set(r, k, z.At(r, k)+h)
			}
			dec.LogLik(gp, zp, x, lp)
			for r := range 5 {
				zp.Set(r, k, z.At(r, k)-h)
			}
			dec.LogLik(gp, zp, x, lm)
			for r := range 5 {
				den := float64(z.At(r, k)+h) - float64(z.At(r, k)-h)
				fd := (lp[r] - lm[r]) / den
				if d := math.Abs(fd - float64(grad.At(r, k))); d > 2e-3*max(1, math.Abs(fd)) {
					t.Errorf("tanh=%v row %d dz_%d: gradient %.6g, central difference %.6g", tanh, r, k, grad.At(r, k), fd)
				}
			}
		}
	}
	if _, err := NewGaussianDecoder(newAffineGen(2, 3, 1, false, 1), 2, 0); err == nil {
		t.Error("NewGaussianDecoder with σ² = 0: want an error")
	}
	if _, err := NewGaussianDecoder(newAffineGen(2, 3, 1, false, 1), 0, 1); err == nil {
		t.Error("NewGaussianDecoder with latent size 0: want an error")
	}
}

// The Bernoulli decoder's gradient matches central differences.
func TestBernoulliDecoderGradient(t *testing.T) {
	g := newAffineGen(3, 6, 1, false, 8)
	dec := &BernoulliDecoder{G: g, Latent: 3}
	x := tensor.New(4, 6)
	for i := range x.Data {
		x.Data[i] = float32(i % 2)
	}
	z := tensor.New(4, 3)
	rng.New(2).FillNormal(z.Data, 0, 1)
	grad, ll := tensor.New(4, 3), make([]float64, 4)
	dec.LogLik(grad, z, x, ll)
	const h = 1e-2
	zp, gp, lp, lm := tensor.New(4, 3), tensor.New(4, 3), make([]float64, 4), make([]float64, 4)
	for k := range 3 {
		zp.Copy(z)
		for r := range 4 {
			zp.Set(r, k, z.At(r, k)+h)
		}
		dec.LogLik(gp, zp, x, lp)
		for r := range 4 {
			zp.Set(r, k, z.At(r, k)-h)
		}
		dec.LogLik(gp, zp, x, lm)
		for r := range 4 {
			fd := (lp[r] - lm[r]) / (float64(z.At(r, k)+h) - float64(z.At(r, k)-h))
			if d := math.Abs(fd - float64(grad.At(r, k))); d > 2e-3*max(1, math.Abs(fd)) {
				t.Errorf("row %d dz_%d: gradient %.6g, central difference %.6g", r, k, grad.At(r, k), fd)
			}
		}
	}
}

func TestSchedules(t *testing.T) {
	for _, K := range []int{1, 2, 10, 1000} {
		b := SigmoidBetas(K, 4)
		if err := checkBetas(b); err != nil || len(b) != K+1 {
			t.Fatalf("SigmoidBetas(%d): %v (len %d)", K, err, len(b))
		}
		for k := range b { // symmetric about the middle
			if d := b[k] + b[K-k] - 1; math.Abs(d) > 1e-12 {
				t.Errorf("SigmoidBetas(%d): β_%d + β_%d = 1%+g", K, k, K-k, d)
			}
		}
		if err := checkBetas(LinearBetas(K)); err != nil {
			t.Errorf("LinearBetas(%d): %v", K, err)
		}
	}
	// Grosse et al.'s sigmoid_schedule(5, rad=4): t = −4, −2, 0, 2, 4.
	sig := func(t float64) float64 { return 1 / (1 + math.Exp(-t)) }
	b := SigmoidBetas(4, 4)
	if want := (sig(-2) - sig(-4)) / (sig(4) - sig(-4)); math.Abs(b[1]-want) > 1e-15 || b[2] != 0.5 {
		t.Errorf("SigmoidBetas(4, 4) = %v, want β_1 = %g and β_2 = 0.5", b, want)
	}
	g := GeometricBetas(5, 1e-4)
	if err := checkBetas(g); err != nil || math.Abs(g[1]-1e-4) > 1e-18 || math.Abs(g[3]/g[2]-g[2]/g[1]) > 1e-9 {
		t.Errorf("GeometricBetas(5, 1e-4) = %v (%v)", g, err)
	}
}

// AIS with HMC on a linear decoder (probabilistic PCA) agrees with the closed form
// log N(x; b, WᵀW + σ² I) within three standard errors, per example and on average.
// (With 16 chains the delta-method error bar of one example is itself noisy and AIS's
// downward bias is a sizeable part of it: at K = 1000 two of these 20 examples fall
// 3.5 standard errors low; 64 chains make both errors small.)
func TestAISDecoderPPCA(t *testing.T) {
	const dz, D, sigma2 = 4, 12, 0.09
	n, cfg := 20, DecoderAISConfig{Chains: 64, Steps: 1000, Seed: 1}
	if testing.Short() {
		n, cfg.Chains, cfg.Steps = 8, 16, 300
	}
	g := newAffineGen(dz, D, 1, false, 11)
	dec, _ := NewGaussianDecoder(g, dz, sigma2)
	x, _ := simulate(g, n, sigma2, 12)
	exact := ppcaLogProb(g, sigma2, x)
	r, err := AISDecoder(dec, x, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	worst := 0.0
	for e := range n {
		mean += exact[e] / float64(n)
		z := (r.LogLik[e] - exact[e]) / r.StdErr[e]
		worst = max(worst, math.Abs(z))
		if math.Abs(z) > 3 || !(r.StdErr[e] > 0) {
			t.Errorf("example %d: AIS %.4f ± %.4f, exact %.4f (%.1f se)", e, r.LogLik[e], r.StdErr[e], exact[e], z)
		}
	}
	if d := r.Mean - mean; math.Abs(d) > 3*r.MeanStdErr {
		t.Errorf("mean over %d examples: AIS %.4f ± %.4f, exact %.4f", n, r.Mean, r.MeanStdErr, mean)
	}
	if r.AcceptRate < 0.4 || r.AcceptRate > 0.95 || r.Bound != "lower" {
		t.Errorf("acceptance rate %.3f, bound %q", r.AcceptRate, r.Bound)
	}
	t.Logf("pPCA dz=%d D=%d σ²=%g, %d examples, %d chains, K=%d, L=10: AIS mean %.4f ± %.4f, exact %.4f (diff %+.4f); worst example %.1f se; acceptance %.3f, final ε %.3f",
		dz, D, sigma2, n, cfg.Chains, cfg.Steps, r.Mean, r.MeanStdErr, mean, r.Mean-mean, worst, r.AcceptRate, r.StepSize)
	for e := range min(n, 4) {
		t.Logf("  example %d: exact %.4f, AIS %.4f ± %.4f", e, exact[e], r.LogLik[e], r.StdErr[e])
	}
}

// Bidirectional Monte Carlo on data simulated from a linear decoder: the forward
// (lower) and reverse (upper) estimates bracket the exact log p(x), and the gap
// shrinks as the number of intermediate distributions grows.
func TestBDMCBracketsPPCA(t *testing.T) {
	const dz, D, sigma2 = 4, 12, 0.09
	n, steps := 10, []int{10, 100, 1000}
	if testing.Short() {
		n, steps = 5, []int{10, 100}
	}
	g := newAffineGen(dz, D, 1, false, 21)
	dec, _ := NewGaussianDecoder(g, dz, sigma2)
	x, z := simulate(g, n, sigma2, 22)
	exact := ppcaLogProb(g, sigma2, x)
	var mean float64
	for _, v := range exact {
		mean += v / float64(n)
	}
	prevGap := math.Inf(1)
	for _, K := range steps {
		lo, up, err := BDMC(dec, x, z, DecoderAISConfig{Chains: 16, Steps: K, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if up.Bound != "upper" || lo.Bound != "lower" {
			t.Fatalf("bounds %q, %q", lo.Bound, up.Bound)
		}
		for e := range n {
			if lo.LogLik[e] > exact[e]+3*lo.StdErr[e]+1e-3 || up.LogLik[e] < exact[e]-3*up.StdErr[e]-1e-3 {
				t.Errorf("K=%d example %d: lower %.4f ± %.4f, exact %.4f, upper %.4f ± %.4f: not bracketed",
					K, e, lo.LogLik[e], lo.StdErr[e], exact[e], up.LogLik[e], up.StdErr[e])
			}
		}
		gap := up.Mean - lo.Mean
		if gap > prevGap {
			t.Errorf("K=%d: BDMC gap %.4f after %.4f with fewer distributions", K, gap, prevGap)
		}
		prevGap = gap
		t.Logf("K=%4d: lower %.4f ± %.4f ≤ exact %.4f ≤ upper %.4f ± %.4f, gap %.4f (acceptance %.2f / %.2f)",
			K, lo.Mean, lo.MeanStdErr, mean, up.Mean, up.MeanStdErr, gap, lo.AcceptRate, up.AcceptRate)
	}
	if !testing.Short() && prevGap > 0.05 {
		t.Errorf("BDMC gap %.4f nats at K = %d, want < 0.05", prevGap, steps[len(steps)-1])
	}
}

// AIS on a nonlinear decoder x = tanh(zW + b) + noise with 2-D z agrees with log p(x)
// by quadrature on a fine grid.
func TestAISDecoderTanhQuadrature(t *testing.T) {
	const dz, D, sigma2 = 2, 6, 0.04
	n, cfg := 5, DecoderAISConfig{Chains: 32, Steps: 1000, Seed: 5}
	if testing.Short() {
		n, cfg.Chains, cfg.Steps = 3, 16, 300
	}
	g := newAffineGen(dz, D, 1.5, true, 31)
	dec, _ := NewGaussianDecoder(g, dz, sigma2)
	x, _ := simulate(g, n, sigma2, 32)
	r, err := AISDecoder(dec, x, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for e := range n {
		h := 0.01
		if testing.Short() {
			h = 0.02 // agrees with h = 0.01 within 1e-6 on these examples
		}
		exact := gridLogProb(g, sigma2, x.Row(e), h)
		if !testing.Short() {
			if coarse := gridLogProb(g, sigma2, x.Row(e), 0.02); math.Abs(coarse-exact) > 1e-6 {
				t.Errorf("example %d: quadrature %.8f at h = 0.01, %.8f at h = 0.02", e, exact, coarse)
			}
		}
		if z := (r.LogLik[e] - exact) / r.StdErr[e]; math.Abs(z) > 3 {
			t.Errorf("example %d: AIS %.4f ± %.4f, quadrature %.4f (%.1f se)", e, r.LogLik[e], r.StdErr[e], exact, z)
		}
		t.Logf("tanh decoder example %d: quadrature %.4f, AIS %.4f ± %.4f", e, exact, r.LogLik[e], r.StdErr[e])
	}
	t.Logf("acceptance %.3f, final ε %.3f", r.AcceptRate, r.StepSize)
}

// AISDecoder gives the same bits with 1 and 2 workers (GOMAXPROCS and tensor
// workers) and whatever the batch of rows per decoder call.
func TestAISDecoderIndependentOfWorkersAndBatch(t *testing.T) {
	g := newAffineGen(3, 10, 1, true, 41)
	dec, _ := NewGaussianDecoder(g, 3, 0.1)
	x, z := simulate(g, 7, 0.1, 42)
	run := func(w, batch int, reverse bool) DecoderAISResult {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(w))
		tensor.SetWorkers(w)
		defer tensor.SetWorkers(0)
		cfg := DecoderAISConfig{Chains: 6, Steps: 40, Leapfrog: 5, Batch: batch, Seed: 8}
		var r DecoderAISResult
		var err error
		if reverse {
			r, err = AISDecoderReverse(dec, x, z, cfg)
		} else {
			r, err = AISDecoder(dec, x, cfg)
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// BDMC's passes are AISDecoder's and AISDecoderReverse's, bit for bit.
	cfg := DecoderAISConfig{Chains: 6, Steps: 40, Leapfrog: 5, Seed: 8}
	lo, up, err := BDMC(dec, x, z, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := AISDecoder(dec, x, cfg)
	rv, _ := AISDecoderReverse(dec, x, z, cfg)
	for i := range lo.LogWeights {
		if lo.LogWeights[i] != f.LogWeights[i] || up.LogWeights[i] != rv.LogWeights[i] {
			t.Fatalf("BDMC log weight %d: %g, %g; separate passes %g, %g", i, lo.LogWeights[i], up.LogWeights[i], f.LogWeights[i], rv.LogWeights[i])
		}
	}
	for _, reverse := range []bool{false, true} {
		ref := run(1, 0, reverse)
		for _, c := range []struct{ w, batch int }{{2, 0}, {1, 5}, {2, 20}, {1, 30}, {2, 1}} {
			r := run(c.w, c.batch, reverse)
			for i := range ref.LogWeights {
				if math.Float64bits(ref.LogWeights[i]) != math.Float64bits(r.LogWeights[i]) {
					t.Fatalf("reverse=%v, %d workers, batch %d: log weight %d = %.17g, want %.17g",
						reverse, c.w, c.batch, i, r.LogWeights[i], ref.LogWeights[i])
				}
			}
			for i := range ref.Z.Data {
				if math.Float32bits(ref.Z.Data[i]) != math.Float32bits(r.Z.Data[i]) {
					t.Fatalf("reverse=%v, %d workers, batch %d: final state %d differs", reverse, c.w, c.batch, i)
				}
			}
			if r.AcceptRate != ref.AcceptRate || r.Mean != ref.Mean {
				t.Fatalf("reverse=%v, %d workers, batch %d: acceptance %v, mean %v; want %v, %v",
					reverse, c.w, c.batch, r.AcceptRate, r.Mean, ref.AcceptRate, ref.Mean)
			}
		}
	}
}

func TestAISDecoderBadSettings(t *testing.T) {
	g := newAffineGen(2, 4, 1, false, 1)
	dec, _ := NewGaussianDecoder(g, 2, 0.1)
	x, _ := simulate(g, 2, 0.1, 2)
	for _, cfg := range []DecoderAISConfig{
		{Chains: -1}, {Steps: -2}, {Leapfrog: -1}, {StepSize: -0.1}, {StepSize: math.NaN()},
		{Batch: -1}, {Schedule: "cosine"}, {Schedule: "geometric", Steps: 1},
		{Betas: []float64{0, 0.5}}, {Betas: []float64{0, 0.7, 0.6, 1}},
		{Adapt: StepAdapt{Target: 1.5}}, {PilotChains: -1},
	} {
		if _, err := AISDecoder(dec, x, cfg); err == nil {
			t.Errorf("AISDecoder(%+v): want an error", cfg)
		}
	}
	// A decoder whose log-likelihood is NaN: an error naming the example.
	nanDec := &GaussianDecoder{G: nanGen{g}, Latent: 2, Sigma2: 0.1}
	if _, err := AISDecoder(nanDec, x, DecoderAISConfig{Steps: 5}); err == nil {
		t.Error("AISDecoder with a NaN log-likelihood: want an error")
	} else {
		t.Log(err)
	}
	// Fixed step size and explicit betas run.
	if _, err := AISDecoder(dec, x, DecoderAISConfig{Betas: []float64{0, 0.5, 1}, FixedStepSize: true}); err != nil {
		t.Error(err)
	}
}

type nanGen struct{ *affineGen }

func (g nanGen) Forward(z *tensor.Mat) *tensor.Mat {
	y := g.affineGen.Forward(z)
	y.Data[0] = float32(math.NaN())
	return y
}

// Stop ends a run at the first transition it returns an error after, forward and
// reverse, and that error comes back.
func TestAISDecoderStop(t *testing.T) {
	g := newAffineGen(2, 4, 1, false, 5)
	dec, _ := NewGaussianDecoder(g, 2, 0.1)
	x, z := simulate(g, 3, 0.1, 6)
	stopErr := errors.New("stopped")
	for _, reverse := range []bool{false, true} {
		calls := 0
		cfg := DecoderAISConfig{Chains: 2, Steps: 50, Stop: func() error {
			calls++
			if calls == 7 {
				return stopErr
			}
			return nil
		}}
		var err error
		if reverse {
			_, _, err = BDMC(dec, x, z, cfg)
		} else {
			_, err = AISDecoder(dec, x, cfg)
		}
		if err != stopErr || calls != 7 {
			t.Errorf("reverse %v: error %v after %d calls of Stop, want %v after 7", reverse, err, calls, stopErr)
		}
	}
}
