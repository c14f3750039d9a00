package diffusion

import (
	"math"
	"sort"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// gaussEps is the optimal noise prediction for data x_0 ~ N(m, s²) (every
// value independent): x_t ~ N(√ᾱ m, ᾱs² + 1 − ᾱ) and
//
//	E[ε | x_t] = √(1 − ᾱ)(x_t − √ᾱ m)/(ᾱ s² + 1 − ᾱ).
type gaussEps struct {
	sc    *Schedule
	m, s2 float64
	out   *tensor.Mat
	calls int
}

func (d *gaussEps) Eps(xt *tensor.Mat, t []int) *tensor.Mat {
	d.calls++
	d.out = tensor.Reuse(d.out, xt.Rows, xt.Cols)
	for i := 0; i < xt.Rows; i++ {
		ab := d.sc.AlphaBar[t[i]]
		for j, v := range xt.Row(i) {
			d.out.Set(i, j, float32(math.Sqrt(1-ab)*(float64(v)-math.Sqrt(ab)*d.m)/(ab*d.s2+1-ab)))
		}
	}
	return d.out
}

func moments(x []float32) (mean, v float64) {
	for _, a := range x {
		mean += float64(a)
	}
	mean /= float64(len(x))
	for _, a := range x {
		v += (float64(a) - mean) * (float64(a) - mean)
	}
	return mean, v / float64(len(x)-1)
}

// ks returns the two-sample Kolmogorov–Smirnov statistic.
func ks(a, b []float32) float64 {
	a, b = append([]float32(nil), a...), append([]float32(nil), b...)
	sort.Slice(a, func(i, j int) bool { return a[i] < a[j] })
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	var d float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			i++
		} else {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// exactMoments returns the mean and variance of DDIM's output (η, S steps)
// from x_T ~ N(0, 1) with the predictor d: for Gaussian data every step is
// affine in x plus Gaussian noise, so the output is Gaussian and its moments
// propagate exactly.
func exactMoments(g Gaussian, d *gaussEps, S int, eta float64) (mean, v float64) {
	sc := g.S
	tau := g.DDIMSteps(S)
	mean, v = 0, 1
	for k := S - 1; k >= 0; k-- {
		t, prev := tau[k], 0
		if k > 0 {
			prev = tau[k-1]
		}
		ab, abp := sc.AlphaBar[t], sc.AlphaBar[prev]
		vt := ab*d.s2 + 1 - ab
		e1, e0 := math.Sqrt(1-ab)/vt, -math.Sqrt(1-ab)*math.Sqrt(ab)*d.m/vt // ε̂ = e1 x + e0
		a1, a0 := (1-math.Sqrt(1-ab)*e1)/math.Sqrt(ab), -math.Sqrt(1-ab)*e0/math.Sqrt(ab)
		sig2 := eta * eta * (1 - abp) / (1 - ab) * (1 - ab/abp)
		dir := math.Sqrt(max(1-abp-sig2, 0))
		n1, n0 := math.Sqrt(abp)*a1+dir*e1, math.Sqrt(abp)*a0+dir*e0
		mean, v = n1*mean+n0, n1*n1*v+sig2
	}
	return mean, v
}

// DDIM with η = 1 and S = T draws from the same distribution as ancestral
// sampling. With the optimal predictor for N(0.3, 0.25²) data every step is
// affine plus Gaussian noise, so each sampler's output is a Gaussian whose
// moments propagate exactly: 20000 draws of ancestral sampling, of DDIM with
// η = 1, S = T and of deterministic DDIM with 50 steps each match their exact
// moments within 4 standard errors, and the two-sample KS statistic between
// ancestral and DDIM η = 1 is below its 1% critical value 1.63·√(2/n).
// (With T = 1000 and S = T the exact output is N(0.2995, 0.0618) for the
// linear schedule: the samplers reach the data as the steps shrink.)
func TestDDIMEta1MatchesAncestral(t *testing.T) {
	sc, _ := NewSchedule("cosine", 100)
	g := Gaussian{S: sc}
	const n, m, sd = 20000, 0.3, 0.25
	d := &gaussEps{sc: sc, m: m, s2: sd * sd}
	draw := func(seed uint64, run func(x *tensor.Mat)) *tensor.Mat {
		x := tensor.New(n, 1)
		rng.New(seed).FillNormal(x.Data, 0, 1)
		run(x)
		return x
	}
	a := draw(1, func(x *tensor.Mat) { g.Ancestral(d, x, rng.New(2), nil) })
	b := draw(3, func(x *tensor.Mat) { g.DDIM(d, x, sc.T, 1, rng.New(4), nil) })
	d.calls = 0
	c := draw(5, func(x *tensor.Mat) { g.DDIM(d, x, 50, 0, nil, nil) })
	if d.calls != 50 {
		t.Errorf("DDIM with 50 steps called the network %d times", d.calls)
	}
	for _, r := range []struct {
		name string
		x    *tensor.Mat
		S    int
		eta  float64
	}{{"ancestral", a, sc.T, 1}, {"DDIM η=1 S=T", b, sc.T, 1}, {"DDIM η=0 S=50", c, 50, 0}} {
		em, ev := exactMoments(g, d, r.S, r.eta)
		mm, mv := moments(r.x.Data)
		t.Logf("%s: mean %.4f var %.5f; exact %.4f %.5f", r.name, mm, mv, em, ev)
		if math.Abs(mm-em) > 4*math.Sqrt(ev/n) || math.Abs(mv-ev) > 4*ev*math.Sqrt(2.0/n) {
			t.Errorf("%s: moments %v %v, exact %v %v", r.name, mm, mv, em, ev)
		}
	}
	if k := ks(a.Data, b.Data); k > 1.63*math.Sqrt(2.0/n) {
		t.Errorf("ancestral vs DDIM η=1: KS statistic %v", k)
	}
}

// dataLogP returns log P(k) of 8-bit level k under N(m, s²) discretised into
// the decoder's bins.
func dataLogP(y, m, s float64) float64 { return logBin(y, m, s) }

// The bound with the optimal predictor for N(m, s²) data against the exact
// log-likelihood of the discretised data: on 8-bit data drawn from the
// discretised N(0.1, 0.3²), the mean of −L − log P_data(x) is at most 0 (3
// standard errors), since −L ≤ log p_θ(x) and E log p_θ ≤ E log P_data; and
// the gap (the decoder's and the fixed variances' price) is below 1 nat;
// a predictor for the wrong mean does worse. The estimate over sampled t agrees with the
// full sum.
func TestGaussianBoundVsExact(t *testing.T) {
	sc, _ := NewSchedule("linear", 1000)
	g := Gaussian{S: sc}
	const m, sd = 0.1, 0.3
	n := 2000
	if testing.Short() {
		n = 300
	}
	x := tensor.New(n, 1)
	s := rng.New(7)
	for i := range n {
		x.Data[i] = float32(-1 + 2*float64(Level(m+sd*s.NormFloat64()))/255)
	}
	d := &gaussEps{sc: sc, m: m, s2: sd * sd}
	all := g.BoundAll(d, x, rng.New(8))
	diff := make([]float64, n)
	for i, l := range all {
		diff[i] = -l - dataLogP(float64(x.Data[i]), m, sd)
	}
	md, se := meanSE(diff)
	ml, sel := meanSE(all)
	t.Logf("T=1000: bound −L %.4f ± %.4f nats (%.4f bits/dim); −L − log P_data = %.4f ± %.4f", -ml, sel, ml/math.Ln2, md, se)
	if md > 3*se || md < -1 {
		t.Errorf("bound minus exact log-likelihood %v ± %v", md, se)
	}
	// a worse predictor (the mean off by 0.2) gives a lower bound
	worse := g.BoundAll(&gaussEps{sc: sc, m: m + 0.2, s2: sd * sd}, x, rng.New(8))
	if mw, _ := meanSE(worse); !(mw > ml+0.1) {
		t.Errorf("a predictor for the wrong mean: −L %v, optimal %v", -mw, -ml)
	}
	samp := g.BoundSampled(d, x, 20, rng.New(9))
	ms, ses := meanSE(samp)
	t.Logf("sampled t (20 per example): −L %.4f ± %.4f", -ms, ses)
	if math.Abs(ms-ml) > 4*math.Hypot(ses, sel) {
		t.Errorf("sampled estimate %v ± %v, full sum %v ± %v", ms, ses, ml, sel)
	}
}

func TestLogBinSumsToOne(t *testing.T) {
	for _, c := range [][2]float64{{0.1, 0.3}, {-0.99, 0.01}, {1.2, 0.05}, {0.5, 3}} {
		var z float64
		for k := range 256 {
			z += math.Exp(logBin(-1+2*float64(k)/255, c[0], c[1]))
		}
		if math.Abs(z-1) > 1e-9 {
			t.Errorf("N(%v, %v²): bins sum to %v", c[0], c[1], z)
		}
	}
}

// wildEps predicts noise far too large.
type wildEps struct{ out *tensor.Mat }

func (w *wildEps) Eps(x *tensor.Mat, t []int) *tensor.Mat {
	w.out = tensor.Reuse(w.out, x.Rows, x.Cols)
	for i := range w.out.Data {
		w.out.Data[i] = 5 * float32(1-2*(i%2))
	}
	return w.out
}

// With ClipX0 both samplers end inside [−1, 1] whatever the predictor says;
// with the optimal predictor of data well inside [−1, 1] clipping changes
// nothing.
func TestClipX0(t *testing.T) {
	sc, _ := NewSchedule("cosine", 50)
	g := Gaussian{S: sc, ClipX0: true}
	for _, run := range []func(x *tensor.Mat){
		func(x *tensor.Mat) { g.Ancestral(&wildEps{}, x, rng.New(1), nil) },
		func(x *tensor.Mat) { g.DDIM(&wildEps{}, x, 10, 0.5, rng.New(1), nil) },
	} {
		x := tensor.New(4, 3)
		rng.New(2).FillNormal(x.Data, 0, 1)
		run(x)
		for _, v := range x.Data {
			if v < -1 || v > 1 {
				t.Fatalf("sample %v outside [−1, 1]", v)
			}
		}
	}
	d := &gaussEps{sc: sc, m: 0, s2: 0.01}
	a, b := tensor.New(200, 1), tensor.New(200, 1)
	rng.New(3).FillNormal(a.Data, 0, 1)
	b.Copy(a)
	g.DDIM(d, a, 50, 0, nil, nil)
	Gaussian{S: sc}.DDIM(d, b, 50, 0, nil, nil)
	for i := range a.Data {
		if math.Abs(float64(a.Data[i]-b.Data[i])) > 1e-5 {
			t.Fatalf("clipping changed sample %d: %v vs %v", i, a.Data[i], b.Data[i])
		}
	}
}
