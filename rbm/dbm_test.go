package rbm

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// randomDBM returns a DBM of the given sizes with weights N(0, scale²) and
// biases N(0, 0.5²), the blocks of non-neighbouring layers zero.
func randomDBM(t testing.TB, sizes []int, scale float32, seed uint64) *DBM {
	t.Helper()
	d, err := NewDBM(sizes)
	if err != nil {
		t.Fatal(err)
	}
	s := rng.New(seed)
	s.FillNormal(d.R.W.Data, 0, scale)
	s.FillNormal(d.R.B, 0, 0.5)
	s.FillNormal(d.R.C, 0, 0.5)
	d.mask()
	return d
}

// layerEnergy returns −E(x_0, …, x_L) from the layer-wise definition
// Σ_l x_{l−1}ᵀ W_l x_l + Σ_l b_lᵀ x_l, in float64, through Weights and Bias.
func layerEnergy(d *DBM, x [][]float64) float64 {
	var s float64
	for l := range d.Sizes {
		for j, b := range d.Bias(l) {
			s += float64(b) * x[l][j]
		}
		if l == 0 {
			continue
		}
		w, tr := d.Weights(l)
		for i := 0; i < d.Sizes[l-1]; i++ {
			for j := 0; j < d.Sizes[l]; j++ {
				var wij float32
				if tr {
					wij = w.At(j, i)
				} else {
					wij = w.At(i, j)
				}
				s += float64(wij) * x[l-1][i] * x[l][j]
			}
		}
	}
	return s
}

// bruteDBM enumerates every joint state of d and returns log Z and the
// log-probabilities log p(v) of the 2^nv visible states (v's bits from state
// index, bit i = unit i).
func bruteDBM(d *DBM) (logZ float64, logPV []float64) {
	total := 0
	for _, n := range d.Sizes {
		total += n
	}
	nv := d.Sizes[0]
	x := make([][]float64, len(d.Sizes))
	for l, n := range d.Sizes {
		x[l] = make([]float64, n)
	}
	byV := make([][]float64, 1<<nv)
	for s := 0; s < 1<<total; s++ {
		k := 0
		for l := range x {
			for j := range x[l] {
				x[l][j] = float64(s >> k & 1)
				k++
			}
		}
		v := s & (1<<nv - 1)
		byV[v] = append(byV[v], layerEnergy(d, x))
	}
	logPV = make([]float64, 1<<nv)
	var all []float64
	for v := range byV {
		logPV[v] = logSumExp(byV[v])
		all = append(all, logPV[v])
	}
	logZ = logSumExp(all)
	for v := range logPV {
		logPV[v] -= logZ
	}
	return logZ, logPV
}

// Exact log Z (the odd or even layers enumerated, mcmc.ExactLogZ on the bipartite
// form) and exact log p(v) (the hidden layers given v) agree with a brute-force
// sum over every joint state of the layer-wise energy, for two and three hidden
// layers.
func TestDBMExactAgainstBruteForce(t *testing.T) {
	for _, sizes := range [][]int{{4, 3, 3}, {3, 2, 3, 2}, {2, 3, 2, 2, 2}} {
		d := randomDBM(t, sizes, 0.8, 1)
		lz, err := d.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		bz, bp := bruteDBM(d)
		if math.Abs(lz-bz) > 1e-5*math.Abs(bz)+1e-6 {
			t.Errorf("%v: exact log Z %.9f, brute force %.9f", sizes, lz, bz)
		}
		x := allStates(sizes[0])
		lp, err := d.ExactLogProb(nil, x, lz)
		if err != nil {
			t.Fatal(err)
		}
		var total float64
		for v := range lp {
			if math.Abs(lp[v]-bp[stateIndex(x.Row(v))]) > 1e-5 {
				t.Errorf("%v: log p(v=%v) %.7f, brute force %.7f", sizes, x.Row(v), lp[v], bp[stateIndex(x.Row(v))])
			}
			total += math.Exp(lp[v])
		}
		if math.Abs(total-1) > 1e-5 {
			t.Errorf("%v: Σ_v p(v) = %v", sizes, total)
		}
	}
}

// AIS over the DBM (the odd layers summed out) estimates the exact log Z within
// max(0.1, 3σ).
func TestDBMAISMatchesExactLogZ(t *testing.T) {
	for i, sizes := range [][]int{{12, 8, 6}, {8, 6, 5, 4}} {
		d := randomDBM(t, sizes, 0.7, uint64(10+i))
		exact, err := d.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		x := allStates(sizes[0]).Slice(0, 200)
		mf := d.MeanField(nil, x, 50, 1e-6)
		a, err := d.AISLogZ(x, mf, mcmc.AISConfig{Chains: 100, Betas: mcmc.AISBetas(3000), Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		if tol := max(0.1, 3*a.StdErr); math.Abs(a.LogZ-exact) > tol {
			t.Errorf("%v: AIS log Z %.4f ± %.4f, exact %.4f", sizes, a.LogZ, a.StdErr, exact)
		} else {
			t.Logf("%v: AIS log Z %.4f ± %.4f, exact %.4f", sizes, a.LogZ, a.StdErr, exact)
		}
	}
}

// enumeratedDBM returns a random DBM of sizes (weights N(0, 1.2²)), its exact
// log Z, every visible state x, their exact log p(v) and their mean field
// (run to 1e-7).
func enumeratedDBM(t *testing.T, sizes []int) (d *DBM, lz float64, x *tensor.Mat, exact []float64, mf *MeanField) {
	t.Helper()
	d = randomDBM(t, sizes, 1.2, 3)
	lz, _ = d.ExactLogZ()
	x = allStates(sizes[0])
	exact, err := d.ExactLogProb(nil, x, lz)
	if err != nil {
		t.Fatal(err)
	}
	return d, lz, x, exact, d.MeanField(nil, x, 500, 1e-7)
}

// The mean-field bound is below the exact log p(v) for every v, and equal to it
// when the posterior is factorial (W_2 = 0: mean field is then exact).
func TestDBMMeanFieldBound(t *testing.T) {
	for _, sizes := range [][]int{{5, 4, 3}, {4, 3, 3, 2}} {
		d, lz, x, exact, mf := enumeratedDBM(t, sizes)
		if !mf.Converged {
			t.Fatalf("%v: mean field did not converge: residual %g", sizes, mf.Residual)
		}
		bound := d.LowerBound(nil, mf, lz)
		gap := 0.0
		for v := range bound {
			if bound[v] > exact[v]+1e-5 {
				t.Errorf("%v: bound %.6f > exact %.6f at v=%v", sizes, bound[v], exact[v], x.Row(v))
			}
			gap += exact[v] - bound[v]
		}
		if gap <= 0.01 {
			t.Errorf("%v: the bound is not below the exact value anywhere (total gap %g): the test cannot fail", sizes, gap)
		}
	}
	// W_2 = 0: Q is the exact posterior.
	d := randomDBM(t, []int{5, 4, 3}, 1.2, 4)
	w2, _ := d.Weights(2)
	for i := 0; i < w2.Rows; i++ {
		clear(w2.Row(i))
	}
	lz, _ := d.ExactLogZ()
	x := allStates(5)
	exact, _ := d.ExactLogProb(nil, x, lz)
	bound := d.LowerBound(nil, d.MeanField(nil, x, 50, 1e-7), lz)
	for v := range bound {
		if math.Abs(bound[v]-exact[v]) > 1e-5 {
			t.Errorf("factorial posterior: bound %.7f, exact %.7f", bound[v], exact[v])
		}
	}
}

// Mean field that stops before it converges says so with its residual.
func TestDBMMeanFieldResidual(t *testing.T) {
	d := randomDBM(t, []int{6, 5, 4}, 1.5, 7)
	x := allStates(6)
	one := d.MeanField(nil, x, 1, 0)
	if one.Converged || one.Iters != 1 || !(one.Residual > 0) {
		t.Errorf("one update with tol 0: converged %t, iters %d, residual %g", one.Converged, one.Iters, one.Residual)
	}
	full := d.MeanField(nil, x, 1000, 1e-6)
	if !full.Converged || full.Residual >= 1e-6 || full.Iters < 2 {
		t.Errorf("converged %t after %d updates, residual %g", full.Converged, full.Iters, full.Residual)
	}
	// At the fixed point every mean satisfies its update equation.
	L := d.NumLayers()
	for l := 1; l <= L; l++ {
		for n := 0; n < x.Rows; n++ {
			for j := 0; j < d.Sizes[l]; j++ {
				a := float64(d.Bias(l)[j])
				for _, k := range []int{l - 1, l + 1} {
					if k > L {
						continue
					}
					mu := d.layerCols(full.Even, full.Odd, k).Row(n)
					w, tr := d.Weights(max(k, l))
					for i := range mu {
						var wij float32
						switch {
						case k < l && !tr:
							wij = w.At(i, j)
						case k < l && tr:
							wij = w.At(j, i)
						case k > l && !tr:
							wij = w.At(j, i)
						default:
							wij = w.At(i, j)
						}
						a += float64(wij) * float64(mu[i])
					}
				}
				got := float64(d.layerCols(full.Even, full.Odd, l).Row(n)[j])
				if math.Abs(got-sigmoid64(a)) > 1e-5 {
					t.Fatalf("layer %d unit %d row %d: μ %v, σ(input) %v", l, j, n, got, sigmoid64(a))
				}
			}
		}
	}
}

// bruteBipartiteLL returns the mean exact log-likelihood of the rows of x under
// the DBM whose bipartite form has parameters (w, b, c) in float64 (w
// row-major ne×no), by brute force over every even and odd state.
func bruteBipartiteLL(nv, ne, no int, w, b, c []float64, x *tensor.Mat) float64 {
	logPStar := func(e []float64) float64 { // odd layers summed out
		s := 0.0
		for i := range e {
			s += b[i] * e[i]
		}
		for j := 0; j < no; j++ {
			a := c[j]
			for i := range e {
				a += e[i] * w[i*no+j]
			}
			s += softplus(a)
		}
		return s
	}
	e := make([]float64, ne)
	var all []float64
	for s := 0; s < 1<<ne; s++ {
		for i := range e {
			e[i] = float64(s >> i & 1)
		}
		all = append(all, logPStar(e))
	}
	logZ := logSumExp(all)
	var ll float64
	for n := 0; n < x.Rows; n++ {
		var terms []float64
		for s := 0; s < 1<<(ne-nv); s++ {
			for i := range e {
				if i < nv {
					e[i] = float64(x.Row(n)[i])
				} else {
					e[i] = float64(s >> (i - nv) & 1)
				}
			}
			terms = append(terms, logPStar(e))
		}
		ll += logSumExp(terms) - logZ
	}
	return ll / float64(x.Rows)
}

// The DBM's gradient with exact expectations (ExactGradient) matches central
// finite differences of the exact log-likelihood, for every parameter, with two
// and three hidden layers (where the blocks between non-neighbours are not
// parameters and get 0).
func TestDBMGradientFiniteDifferences(t *testing.T) {
	for _, sizes := range [][]int{{3, 3, 2}, {2, 2, 2, 2}} {
		d := randomDBM(t, sizes, 0.9, 2)
		x := allStates(sizes[0]).Slice(1, 1<<sizes[0]) // every visible state but 0
		gW, gB, gC, err := d.ExactGradient(x)
		if err != nil {
			t.Fatal(err)
		}
		nv, ne, no := d.NumVisible(), d.R.NumVisible(), d.R.NumHidden()
		w, b, c := make([]float64, ne*no), make([]float64, ne), make([]float64, no)
		for i := 0; i < ne; i++ {
			for j := 0; j < no; j++ {
				w[i*no+j] = float64(d.R.W.At(i, j))
			}
			b[i] = float64(d.R.B[i])
		}
		for j := range c {
			c[j] = float64(d.R.C[j])
		}
		fd := func(p []float64, k int) float64 {
			const h = 1e-5
			old := p[k]
			p[k] = old + h
			up := bruteBipartiteLL(nv, ne, no, w, b, c, x)
			p[k] = old - h
			down := bruteBipartiteLL(nv, ne, no, w, b, c, x)
			p[k] = old
			return (up - down) / (2 * h)
		}
		check := func(name string, p, g []float64, param func(k int) bool) {
			for k := range p {
				if !param(k) {
					if g[k] != 0 {
						t.Errorf("%v: %s[%d] is not a parameter but has gradient %g", sizes, name, k, g[k])
					}
					continue
				}
				if want := fd(p, k); math.Abs(g[k]-want) > 1e-6 {
					t.Errorf("%v: ∂/∂%s[%d] = %.8f, finite differences %.8f", sizes, name, k, g[k], want)
				}
			}
		}
		connected := func(k int) bool {
			i, j := k/no, k%no
			le, lo := layerOf(d, i, true), layerOf(d, j, false)
			return le-lo == 1 || lo-le == 1
		}
		all := func(int) bool { return true }
		check("W", w, gW, connected)
		check("b", b, gB, all)
		check("c", c, gC, all)
	}
}

// layerOf returns the layer of row i (even) or column i (odd) of d.R.W.
func layerOf(d *DBM, i int, even bool) int {
	for l := range d.Sizes {
		if (l%2 == 0) == even && i >= d.off[l] && i < d.off[l]+d.Sizes[l] {
			return l
		}
	}
	return -1
}

// Block-Gibbs chains of the DBM sample its exact marginal p(v).
func TestDBMSamplesMatchExactMarginal(t *testing.T) {
	d := randomDBM(t, []int{3, 3, 2}, 1.5, 8)
	_, bp := bruteDBM(d)
	const n = 20000
	s, _ := d.Sample(SampleConfig{N: n, Steps: 50, Seed: 3})
	checkHistogram(t, "dbm", s, bp, n)
}

// checkHistogram compares the visible states of the rows of s with the exact
// log-probabilities logP (by state index) within 4.5 binomial standard errors.
func checkHistogram(t *testing.T, what string, s *tensor.Mat, logP []float64, n int) {
	t.Helper()
	count := make([]float64, len(logP))
	for i := 0; i < s.Rows; i++ {
		count[stateIndex(s.Row(i))]++
	}
	for v, lp := range logP {
		p := math.Exp(lp)
		se := math.Sqrt(p * (1 - p) / float64(n))
		if got := count[v] / float64(n); math.Abs(got-p) > 4.5*se+1e-3 {
			t.Errorf("%s: p(v=%d) sampled %.4f, exact %.4f (se %.4f)", what, v, got, p, se)
		}
	}
}

func barsData() *dataset.Dataset {
	return &dataset.Dataset{X: repeat(barsAndStripes(3), 10), Binary: true, Height: 3, Width: 3, Channels: 1}
}

// Greedy pretraining with the doubled RBMs and joint training (mean field +
// PCD) on 3×3 bars and stripes: the composed pretrained DBM is far above the
// uniform distribution's −9 log 2 = −6.24, joint training raises its exact
// log-likelihood further towards the data's −log 14 = −2.64, and the Score's
// mean-field bound is below the exact value it reports.
func TestDBMTrainsBarsAndStripes(t *testing.T) {
	for _, center := range []float64{0, 0.05} {
		t.Run(fmt.Sprintf("center=%g", center), func(t *testing.T) { dbmTrainsBarsAndStripes(t, center) })
	}
}

// dbmTrainsBarsAndStripes is TestDBMTrainsBarsAndStripes with joint training
// centred at rate center (0: plain).
func dbmTrainsBarsAndStripes(t *testing.T, center float64) {
	d := &dataset.Dataset{X: repeat(barsAndStripes(3), 40), Binary: true, Height: 3, Width: 3, Channels: 1}
	test := &dataset.Dataset{X: barsAndStripes(3)}
	f := DefaultDBMFlags()
	f.Hidden, f.PretrainEpochs, f.LR, f.JointLR, f.Batch, f.Momentum = []int{8, 4}, 30, 0.1, 0.02, 20, 0.5
	f.Center = center
	out := filepath.Join(t.TempDir(), "dbm.lt")
	if err := runFamily(t, "dbm", f, d, "", 60, out, 0); err != nil {
		t.Fatal(err)
	}
	pre := loadTrainer(t, out).(*DBMTrainer)
	if err := pre.start(2, d.X); err != nil { // compose the pretrained RBMs
		t.Fatal(err)
	}
	before, err := pre.Score(context.Background(), test, model.ScoreOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	resumeFile(t, out, d, 90)
	tr := loadTrainer(t, out).(*DBMTrainer)
	est, err := tr.Score(context.Background(), test, model.ScoreOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ll0, ll := extra(t, before, "exact_log_likelihood"), extra(t, est, "exact_log_likelihood")
	t.Logf("dbm 9-8-4 on bars and stripes: exact log-likelihood %.3f pretrained, %.3f after joint training; mean-field bound %.3f (%s)", ll0, ll, est.LogLik, est.Method)
	if ll0 < -5 || ll < ll0+0.3 || ll < -3.9 {
		t.Errorf("exact log-likelihood %.3f pretrained, %.3f jointly trained; want above -5 and then 0.3 higher, above -3.9 (uniform: -6.24, best: -2.64)", ll0, ll)
	}
	if est.LogLik > ll+1e-6 || est.Bound != "lower" || est.Method != "mf-exact" {
		t.Errorf("bound %.4f (%s, %s), exact %.4f", est.LogLik, est.Method, est.Bound, ll)
	}
	// --is-k: importance sampling over h_2 (4 units) with h_1 summed out; with
	// 5000 draws it is the exact figure, above the mean-field bound.
	fl := defaultDeepEval()
	fl.ISK = 5000
	is, err := tr.Score(context.Background(), test, model.ScoreOptions{Seed: 1, Family: fl})
	if err != nil {
		t.Fatal(err)
	}
	v := extra(t, is, "is_log_likelihood")
	t.Logf("importance-sampled log p(v) %.4f (median ESS %.0f of 5000)", v, extra(t, is, "is_ess_median"))
	if math.Abs(v-ll) > 0.01 || v < est.LogLik || is.LogLik != est.LogLik || extra(t, is, "is_k") != 5000 {
		t.Errorf("importance sampling %.4f, exact %.4f, bound %.4f (and %.4f with --is-k)", v, ll, est.LogLik, is.LogLik)
	}
}

func extra(t *testing.T, est model.Estimate, name string) float64 {
	t.Helper()
	for _, m := range est.Extra {
		if m.Name == name {
			v, ok := m.Float()
			if !ok {
				t.Fatalf("%s is %v", name, m.Value)
			}
			return v
		}
	}
	t.Fatalf("no %s in %v", name, est.Extra)
	return 0
}

func loadTrainer(t *testing.T, path string) model.Model {
	t.Helper()
	f, err := loadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A DBM run interrupted and resumed from its file writes the same bytes as one
// that was not: 2 epochs of joint training against 1 + 1 (the persistent
// chains and their streams travel in the file), and 3 epochs against 1 + 2
// across the end of pretraining.
func TestDBMResumeBitForBit(t *testing.T) {
	d := barsData()
	for _, c := range []struct {
		pre, epochs, first int
		dynamic, pcd       bool
		center             float64
		hidden             []int
	}{{0, 2, 1, false, false, 0, nil}, {1, 3, 1, false, false, 0, nil}, {1, 4, 2, true, false, 0, nil}, {2, 5, 1, false, true, 0, nil},
		{1, 4, 2, false, false, 0.1, nil}, {1, 5, 4, false, false, 0.1, []int{5, 3, 2}}} {
		f := DefaultDBMFlags()
		f.Hidden, f.PretrainEpochs, f.Batch, f.Momentum, f.PretrainPCD, f.Center = []int{5, 3}, c.pre, 7, 0.5, c.pcd, c.center
		if c.hidden != nil {
			f.Hidden = c.hidden
		}
		bin := ""
		data := d
		if c.dynamic {
			bin = "dynamic"
			data = &dataset.Dataset{X: d.X.Clone(), Height: 3, Width: 3, Channels: 1}
			for i := range data.X.Data {
				data.X.Data[i] = 0.1 + 0.8*data.X.Data[i]
			}
		}
		dir := t.TempDir()
		whole, part := filepath.Join(dir, "whole.lt"), filepath.Join(dir, "part.lt")
		if err := runFamily(t, "dbm", f, data, bin, c.epochs, whole, 0); err != nil {
			t.Fatal(err)
		}
		err := runFamily(t, "dbm", f, data, bin, c.epochs, part, c.first)
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("interrupted run: %v", err)
		}
		resumeFile(t, part, data, c.epochs)
		sameFiles(t, "dbm resumed", whole, part)
	}
}

// Joint training that stops mean field before it converges says so: a line
// through the Progress and the epoch's mf_unconverged and mf_residual.
func TestDBMWarnsWhenMeanFieldDoesNotConverge(t *testing.T) {
	d := barsData()
	f := DefaultDBMFlags()
	f.Hidden, f.PretrainEpochs, f.MFIters, f.MFTol, f.Batch = []int{5, 3}, 0, 1, 0, 10
	s := model.NewSettings("dbm", d, "test", "", 1, 1)
	tr, err := model.Lookup("dbm").New(f, d, s)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(l string) { lines = append(lines, l) }})
	r, err := model.Train(ctx, tr, d, s, model.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, l := range lines {
		warned = warned || strings.Contains(l, "did not converge") && strings.Contains(l, "residual")
	}
	got := map[string]any{}
	for _, m := range r.Last.Metrics {
		got[m.Name] = m.Value
	}
	if !warned || got["mf_unconverged"] != 14 || got["mf_residual"] == nil {
		t.Errorf("warning %t, metrics %v, lines %q", warned, got, lines)
	}
}

// Bad settings and data are errors that name the flag.
func TestDeepBadInput(t *testing.T) {
	d := barsData()
	for _, c := range []struct {
		name   string
		hidden []int
		data   *dataset.Dataset
		flag   string
	}{
		{"dbm", []int{5, 0}, d, "hidden"},
		{"dbm", []int{5}, d, "hidden"},
		{"dbm", nil, d, "hidden"},
		{"dbn", []int{0, 4}, d, "hidden"},
		{"dbn", []int{}, d, "hidden"},
		{"dbm", []int{5, 3}, d, "pretrain-pcd"},
	} {
		f := model.Lookup(c.name).Config()
		switch f := f.(type) {
		case *DBMFlags:
			f.Hidden = c.hidden
			if c.flag == "pretrain-pcd" {
				f.PretrainPCD, f.PretrainEpochs = true, 0
			}
		case *DBNFlags:
			f.Hidden = c.hidden
		}
		err := model.Validate(f)
		if err == nil || !model.IsFlagError(err) || !strings.HasPrefix(err.Error(), "--"+c.flag) {
			t.Errorf("%s --hidden %v: %v", c.name, c.hidden, err)
		}
	}
	gray := &dataset.Dataset{X: d.X.Clone()}
	gray.X.Data[3] = 0.5
	for _, name := range []string{"dbn", "dbm"} {
		fl := model.Lookup(name).Config()
		s := model.NewSettings(name, gray, "gray.npy", "", 1, 30)
		_, err := model.Lookup(name).New(fl, gray, s)
		if err == nil || !strings.HasPrefix(err.Error(), "--binarize") || !strings.Contains(err.Error(), "gray.npy") {
			t.Errorf("%s on non-binary data: %v", name, err)
		}
		s = model.NewSettings(name, d, "bars", "", 1, 2)
		_, err = model.Lookup(name).New(fl, d, s)
		if err == nil || !strings.HasPrefix(err.Error(), "--epochs") {
			t.Errorf("%s with too few epochs for its layers: %v", name, err)
		}
	}
	if _, err := NewDBM([]int{3, 2}); err == nil {
		t.Error("a DBM of one hidden layer")
	}
	if _, err := NewDBN([]int{3, 0}); err == nil {
		t.Error("a DBN layer of 0 units")
	}
}

// The doubled RBMs of pretraining keep their two copies of a layer tied: the
// bottom RBM's visible copies and the top RBM's hidden copies have the same
// weights and biases after training with momentum.
func TestDBMPretrainingKeepsCopiesTied(t *testing.T) {
	for _, pcd := range []bool{false, true} {
		dbmPretrainingTied(t, pcd)
	}
}

func dbmPretrainingTied(t *testing.T, pcd bool) {
	d := barsData()
	f := DefaultDBMFlags()
	f.Hidden, f.PretrainEpochs, f.Batch, f.Momentum, f.LR, f.PretrainPCD = []int{5, 3}, 2, 10, 0.9, 0.1, pcd
	s := model.NewSettings("dbm", d, "bars", "", 3, 4)
	tr, err := model.Lookup("dbm").New(f, d, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	if m, want := tr.(*DBMTrainer).cur.Config().Method, map[bool]Method{false: CD, true: PCD}[pcd]; m != want {
		t.Fatalf("--pretrain-pcd=%t: the top RBM trained with %v", pcd, m)
	}
	pre := tr.(*DBMTrainer).pre
	bottom, top := pre[0], pre[1]
	if bottom.NumVisible() != 18 || top.NumHidden() != 6 {
		t.Fatalf("doubled RBMs %d×%d and %d×%d", bottom.NumVisible(), bottom.NumHidden(), top.NumVisible(), top.NumHidden())
	}
	moved := false
	for i := 0; i < 9; i++ {
		for j := 0; j < 5; j++ {
			if bottom.W.At(i, j) != bottom.W.At(i+9, j) {
				t.Fatalf("bottom W[%d,%d] = %v, its copy %v", i, j, bottom.W.At(i, j), bottom.W.At(i+9, j))
			}
			moved = moved || math.Abs(float64(bottom.W.At(i, j))) > 0.05
		}
		if bottom.B[i] != bottom.B[i+9] {
			t.Fatalf("bottom b[%d] = %v, its copy %v", i, bottom.B[i], bottom.B[i+9])
		}
	}
	for i := 0; i < 5; i++ {
		for j := 0; j < 3; j++ {
			if top.W.At(i, j) != top.W.At(i, j+3) {
				t.Fatalf("top W[%d,%d] = %v, its copy %v", i, j, top.W.At(i, j), top.W.At(i, j+3))
			}
		}
	}
	for j := 0; j < 3; j++ {
		if top.C[j] != top.C[j+3] {
			t.Fatalf("top c[%d] = %v, its copy %v", j, top.C[j], top.C[j+3])
		}
	}
	if !moved {
		t.Error("the bottom RBM's weights did not move from their initial N(0, 0.01²): the test cannot fail")
	}
}

// The joint training step (mean field for the data term, the RBM Trainer's PCD
// on the bipartite form for the model's) follows the exact gradient: with W_2 = 0
// the posterior is factorial and mean field exact, so the average update over
// many small steps, divided by the learning rate, matches ExactGradient
// averaged along the way (trapezoid rule over 7 points) within the Monte Carlo
// error of the persistent chains.
func TestDBMJointStepFollowsExactGradient(t *testing.T) {
	if testing.Short() {
		t.Skip("a few thousand steps")
	}
	d := randomDBM(t, []int{4, 3, 3}, 0.8, 12)
	w2, _ := d.Weights(2)
	for i := 0; i < w2.Rows; i++ {
		clear(w2.Row(i))
	}
	x := repeat(allStates(4), 8) // 128 rows, each visible state 8 times
	gW := make([]float64, d.R.NumVisible()*d.R.NumHidden())
	gB, gC := make([]float64, d.R.NumVisible()), make([]float64, d.R.NumHidden())
	addExact := func(weight float64) {
		w, b, c, err := d.ExactGradient(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range [][2][]float64{{gW, w}, {gB, b}, {gC, c}} {
			for k := range p[0] {
				p[0][k] += weight * p[1][k]
			}
		}
	}
	tr, err := NewTrainer(d.R, Config{Method: PCD, BatchSize: x.Rows, LearningRate: 1e-12, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	var mf *MeanField
	step := func() {
		mf = d.MeanField(mf, x, 100, 1e-7)
		if !mf.Converged {
			t.Fatalf("mean field: residual %g", mf.Residual)
		}
		tr.Update(mf.Even)
	}
	for i := 0; i < 200; i++ { // burn the chains in; the parameters do not move
		step()
	}
	w0 := flat(d.R.W)
	w0 = append([]float32(nil), w0...)
	b0, c0 := append([]float32(nil), d.R.B...), append([]float32(nil), d.R.C...)
	const steps, lr = 3000, 1e-4
	tr.cfg.LearningRate = lr
	for i := 0; i < steps; i++ {
		if i%(steps/6) == 0 {
			addExact(map[bool]float64{true: 1.0 / 12, false: 1.0 / 6}[i == 0])
		}
		step()
	}
	addExact(1.0 / 12)
	worst := 0.0
	cmp := func(name string, now, before []float32, exact []float64) {
		for k := range exact {
			got := (float64(now[k]) - float64(before[k])) / (steps * lr)
			worst = max(worst, math.Abs(got-exact[k]))
			if math.Abs(got-exact[k]) > 0.006 {
				t.Errorf("%s[%d]: mean update / lr %.4f, exact gradient %.4f", name, k, got, exact[k])
			}
		}
	}
	cmp("W", flat(d.R.W), w0, gW)
	cmp("b", d.R.B, b0, gB)
	cmp("c", d.R.C, c0, gC)
	t.Logf("largest |mean update / lr − exact gradient| %.4f", worst)
}

// --schedule linear decays the rate to 0 over each pretraining phase and over
// joint training: the last update of each runs at its rate/(its steps), and a
// run resumed in joint training writes the same file as one that was not
// interrupted.
func TestDBMLinearSchedule(t *testing.T) {
	d := barsData()
	f := DefaultDBMFlags()
	f.Hidden, f.PretrainEpochs, f.Batch, f.Momentum, f.Schedule = []int{5, 3}, 1, 7, 0.5, "linear"
	checkLinearSchedule(t, "dbm", f, d, 5, func(tr model.Trainer) (int, *Trainer) {
		return tr.(*DBMTrainer).phase, tr.(*DBMTrainer).cur
	}, []phaseRate{{1, 0, 1, f.LR}, {2, 1, 1, f.LR}, {5, 2, 3, f.JointLR}}, []int{3})
}

// --bottom starts the DBM from a trained RBM. With the weights above the first
// hidden layer zero, the DBM's exact log p(v) is the RBM's for every v (the
// known answer: the upper layers add the same factor to Z and to every p(v)); a
// run starts joint training at once from the RBM's first layer, resumes bit for
// bit without the RBM file, and bad combinations name their flag.
func TestDBMBottom(t *testing.T) {
	d := barsData()
	dir := t.TempDir()
	rbmFile, r := bottomRBM(t, d, dir)
	// The known answer.
	net, err := NewDBM([]int{9, 6, 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.initFromData(d.X, rng.New(3)); err != nil {
		t.Fatal(err)
	}
	net.setBottom(r)
	w2, _ := net.Weights(2)
	for i := 0; i < w2.Rows; i++ {
		clear(w2.Row(i))
	}
	for j := range net.Bias(2) {
		net.Bias(2)[j] = 0.3 * float32(j-1) // any top biases
	}
	dz, err := net.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	rz, err := r.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	x := allStates(9)
	dp, err := net.ExactLogProb(nil, x, dz)
	if err != nil {
		t.Fatal(err)
	}
	rp := r.LogProb(nil, x, rz)
	for v := range rp {
		if math.Abs(dp[v]-rp[v]) > 1e-5 {
			t.Fatalf("v = %v: DBM log p %.7f, RBM %.7f", x.Row(v), dp[v], rp[v])
		}
	}
	// A run: joint training from the first epoch, on the RBM's first layer.
	f := DefaultDBMFlags()
	f.Hidden, f.PretrainEpochs, f.Batch, f.Bottom, f.JointLR = []int{6, 4}, 0, 10, rbmFile, 1e-9
	whole := filepath.Join(dir, "dbm.lt")
	if err := runFamily(t, "dbm", f, d, "", 2, whole, 0); err != nil {
		t.Fatal(err)
	}
	tr := loadTrainer(t, whole).(*DBMTrainer)
	if tr.phase != tr.layers() {
		t.Fatalf("phase %d after 2 epochs, want joint training (%d)", tr.phase, tr.layers())
	}
	w1, _ := tr.Net.Weights(1)
	for i := 0; i < w1.Rows; i++ {
		for j, v := range w1.Row(i) {
			if math.Abs(float64(v-r.W.At(i, j))) > 1e-6 {
				t.Fatalf("W1[%d,%d] = %g after 2 epochs at lr 1e-9, the RBM's is %g", i, j, v, r.W.At(i, j))
			}
		}
	}
	f.JointLR = 0.005
	whole2, part := filepath.Join(dir, "dbm2.lt"), filepath.Join(dir, "part.lt")
	if err := runFamily(t, "dbm", f, d, "", 3, whole2, 0); err != nil {
		t.Fatal(err)
	}
	if err := runFamily(t, "dbm", f, d, "", 3, part, 1); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := os.Remove(rbmFile); err != nil {
		t.Fatal(err)
	}
	resumeFile(t, part, d, 3)
	sameFiles(t, "dbm --bottom resumed", whole2, part)
	// Bad input names the flag.
	for _, c := range []struct {
		hidden []int
		pre    int
		file   string
		flag   string
	}{{[]int{6, 4}, 0, rbmFile, "--bottom"}, {[]int{7, 4}, 0, whole, "--bottom"}, {[]int{6, 4}, 5, whole, "--bottom"}} {
		f.Hidden, f.PretrainEpochs, f.Bottom = c.hidden, c.pre, c.file
		s := model.NewSettings("dbm", d, "test", "", 77, 20)
		if _, err := model.Lookup("dbm").New(f, d, s); err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("--hidden %v --pretrain-epochs %d --bottom %s: %v", c.hidden, c.pre, c.file, err)
		}
	}
}

// --bottom with --pretrain-epochs K: the layers above the given RBM are
// pretrained (the top one a doubled RBM, here with PCD) on its hidden units
// and composed with it, which is left as it was; the run resumes bit for bit
// across the end of pretraining without the RBM file, and too few epochs for
// the pretraining name --epochs.
func TestDBMBottomPretrained(t *testing.T) {
	d := barsData()
	dir := t.TempDir()
	rbmFile, r := bottomRBM(t, d, dir)
	f := DefaultDBMFlags()
	f.Hidden, f.PretrainEpochs, f.Batch, f.Bottom, f.PretrainPCD, f.LR = []int{6, 4}, 2, 10, rbmFile, true, 0.1
	f.JointLR = 1e-9
	pre := filepath.Join(dir, "pre.lt")
	if err := runFamily(t, "dbm", f, d, "", 2, pre, 0); err != nil {
		t.Fatal(err)
	}
	tr := loadTrainer(t, pre).(*DBMTrainer)
	if tr.phase != 1 || len(tr.pre) != 2 || tr.pre[1].NumVisible() != 6 || tr.pre[1].NumHidden() != 8 {
		t.Fatalf("after 2 epochs: phase %d, %d RBMs", tr.phase, len(tr.pre))
	}
	if tr.cur.Config().Method != PCD {
		t.Errorf("the top RBM trained with %v", tr.cur.Config().Method)
	}
	sameRBM := func(what string, w *tensor.Mat, b []float32) {
		t.Helper()
		for i := 0; i < r.NumVisible(); i++ {
			for j := 0; j < r.NumHidden(); j++ {
				if math.Abs(float64(w.At(i, j)-r.W.At(i, j))) > 1e-6 {
					t.Fatalf("%s: W1[%d,%d] = %g, the RBM's %g", what, i, j, w.At(i, j), r.W.At(i, j))
				}
			}
			if b[i] != r.B[i] {
				t.Fatalf("%s: b0[%d] = %g, the RBM's %g", what, i, b[i], r.B[i])
			}
		}
	}
	sameRBM("pretraining", tr.pre[0].W, tr.pre[0].B)
	whole := filepath.Join(dir, "whole.lt")
	if err := runFamily(t, "dbm", f, d, "", 4, whole, 0); err != nil {
		t.Fatal(err)
	}
	tr = loadTrainer(t, whole).(*DBMTrainer)
	if tr.phase != 2 {
		t.Fatalf("phase %d after 4 epochs", tr.phase)
	}
	w1, _ := tr.Net.Weights(1)
	sameRBM("composed", w1, tr.Net.Bias(0))
	// W_2 is the top RBM's of the same pretraining (the 2-epoch run), the
	// first of its tied copies (W_2ᵀ is stored: layer 2 is even).
	top := loadTrainer(t, pre).(*DBMTrainer).cur.Model
	w2, _ := tr.Net.Weights(2)
	for i := 0; i < 6; i++ {
		for j := 0; j < 4; j++ {
			if math.Abs(float64(w2.At(j, i)-top.W.At(i, j))) > 1e-6 {
				t.Fatalf("W2[%d,%d] = %g, the pretrained top RBM's %g", i, j, w2.At(j, i), top.W.At(i, j))
			}
		}
	}
	f.JointLR = 0.005
	whole, part := filepath.Join(dir, "whole2.lt"), filepath.Join(dir, "part.lt")
	if err := runFamily(t, "dbm", f, d, "", 4, whole, 0); err != nil {
		t.Fatal(err)
	}
	if err := runFamily(t, "dbm", f, d, "", 4, part, 1); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := os.Remove(rbmFile); err != nil {
		t.Fatal(err)
	}
	resumeFile(t, part, d, 4)
	sameFiles(t, "dbm --bottom --pretrain-epochs resumed", whole, part)
	f.Bottom, f.PretrainEpochs = whole, 30 // one layer above the bottom: 30 epochs > 20
	rbmFile, _ = bottomRBM(t, d, t.TempDir())
	f.Bottom = rbmFile
	s := model.NewSettings("dbm", d, "test", "", 77, 20)
	if _, err := model.Lookup("dbm").New(f, d, s); err == nil || !strings.HasPrefix(err.Error(), "--epochs") || !strings.Contains(err.Error(), "at least 30") {
		t.Errorf("30 pretraining epochs in 20: %v", err)
	}
}
