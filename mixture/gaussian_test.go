package mixture

import (
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

var allCov = []CovarianceType{Full, Diag, Spherical, Tied}

// TestOneComponent checks that with K = 1 one EM iteration gives the sample mean
// and the maximum-likelihood sample covariance (divisor n) plus reg·I.
func TestOneComponent(t *testing.T) {
	x, _ := blobs([][]float64{{1, -2, 3}}, 200, 1.5, 1)
	n, d := x.Rows, x.Cols
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.Row(i) {
			mean[j] += float64(v) / float64(n)
		}
	}
	cov := make([]float64, d*d)
	for i := 0; i < n; i++ {
		r := x.Row(i)
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				cov[a*d+b] += (float64(r[a]) - mean[a]) * (float64(r[b]) - mean[b]) / float64(n)
			}
		}
	}
	const reg = 1e-3
	for _, ct := range allCov {
		g, res, err := FitGaussian(x, GaussianConfig{Components: 1, Covariance: ct, RegCovar: reg, EM: EMConfig{MaxIter: 1}, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		checkMonotone(t, ct.String(), res, 0)
		for j := range mean {
			if math.Abs(g.Means[j]-mean[j]) > 1e-12 {
				t.Errorf("%s: mean[%d] = %v, want %v", ct, j, g.Means[j], mean[j])
			}
		}
		if math.Abs(g.Weights[0]-1) > 1e-15 {
			t.Errorf("%s: weight %v", ct, g.Weights[0])
		}
		var tr float64
		for a := 0; a < d; a++ {
			tr += cov[a*d+a]
		}
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				want := cov[a*d+b]
				var got float64
				switch ct {
				case Full, Tied:
					got = g.Covariances[a*d+b]
				case Diag:
					if a != b {
						continue
					}
					got = g.Covariances[a]
				case Spherical:
					if a != b {
						continue
					}
					got, want = g.Covariances[0], tr/float64(d)
				}
				if a == b {
					want += reg
				}
				if math.Abs(got-want) > 1e-10 {
					t.Errorf("%s: cov[%d,%d] = %v, want %v", ct, a, b, got, want)
				}
			}
		}
	}
}

// TestSeparatedClusters checks that well-separated clusters are recovered exactly
// (adjusted Rand index 1) and that F never increases, for every covariance type and
// both arithmetic paths.
func TestSeparatedClusters(t *testing.T) {
	centres := [][]float64{{0, 0}, {10, 0}, {0, 10}, {10, 10}}
	x, truth := blobs(centres, 150, 1, 7)
	for _, fast := range []bool{false, true} {
		for _, ct := range allCov {
			g, res, err := FitGaussian(x, GaussianConfig{Components: 4, Covariance: ct, RegCovar: DefaultRegCovar, NInit: 2, Seed: 11, FastMath: fast})
			if err != nil {
				t.Fatal(err)
			}
			slack := 0.0
			if fast {
				slack = 1e-6
			}
			checkMonotone(t, ct.String(), res, slack)
			if !res.Converged {
				t.Errorf("%s: not converged in %d iterations", ct, res.Iterations)
			}
			if ari := adjustedRand(truth, g.Predict(x)); ari != 1 {
				t.Errorf("%s fast=%v: adjusted Rand %v, want 1", ct, fast, ari)
			}
			if len(res.InitF) != 2 || res.FreeEnergy != math.Min(res.InitF[0], res.InitF[1]) {
				t.Errorf("%s: kept F %v of restarts %v", ct, res.FreeEnergy, res.InitF)
			}
			p := g.PredictProba(x)
			for i := 0; i < 5; i++ {
				var s float64
				for c := 0; c < 4; c++ {
					s += p[i*4+c]
				}
				if math.Abs(s-1) > 1e-12 {
					t.Errorf("PredictProba row %d sums to %v", i, s)
				}
			}
		}
	}
}

// TestFreeEnergyDecomposition checks, on a fit with a poor start, that the M-step
// trace value equals -L/n + mean KL(Q‖posterior) computed independently, and that
// after each E-step F = -L/n.
func TestFreeEnergyDecomposition(t *testing.T) {
	ref, x := loadSklearn(t)
	init, err := NewGaussianMixture(Full, ref.Weights, ref.Means, ref.Cases[0].Covariances)
	if err != nil {
		t.Fatal(err)
	}
	g := init.clone()
	g.RegCovar = 1e-6
	n, k := x.Rows, g.K
	// E-step by hand from the initial parameters.
	q := g.PredictProba(x)
	ll0 := g.Score(x)
	if err := g.MStep(x, q); err != nil {
		t.Fatal(err)
	}
	// F(Q_old, G_new) = -L(G_new)/n + (1/n) Σ_n KL(Q_old ‖ p(·|x_n, G_new)).
	post := g.PredictProba(x)
	var kl float64
	for i := 0; i < n*k; i++ {
		if q[i] > 0 {
			kl += q[i] * math.Log(q[i]/post[i])
		}
	}
	want := -g.Score(x) + kl/float64(n)
	_, res, err := FitGaussian(x, GaussianConfig{Components: k, Covariance: Full, RegCovar: 1e-6, Init: init, EM: EMConfig{MaxIter: 1, Tol: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if e := res.History[0]; relErr(e.F, -ll0) > 1e-13 {
		t.Errorf("F after E = %v, want -L/n = %v", e.F, -ll0)
	}
	if m := res.History[1]; relErr(m.F, want) > 1e-12 {
		t.Errorf("F after M = %v, want -L/n + KL/n = %v", m.F, want)
	}
	if kl <= 0 {
		t.Errorf("KL term %v should be positive after the first M-step", kl)
	}
}

// TestWorkersDeterminism checks that 1 and 2 workers give the same bits.
func TestWorkersDeterminism(t *testing.T) {
	x, _ := blobs([][]float64{{0, 0, 0}, {3, 3, 3}, {-3, 3, 0}}, 700, 1, 5) // 2100 rows: several chunks
	defer tensor.SetWorkers(0)
	for _, fast := range []bool{false, true} {
		var ref []float64
		for _, w := range []int{1, 2} {
			tensor.SetWorkers(w)
			g, res, err := FitGaussian(x, GaussianConfig{Components: 3, RegCovar: 1e-6, Seed: 2, FastMath: fast})
			if err != nil {
				t.Fatal(err)
			}
			got := append(append([]float64{res.FreeEnergy}, g.Means...), g.Covariances...)
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				if got[i] != ref[i] {
					t.Fatalf("fast=%v: value %d differs with 2 workers: %v vs %v", fast, i, got[i], ref[i])
				}
			}
		}
	}
}

// TestSampleRoundTrip samples from a known mixture and checks that fitting the
// sample recovers weights and means.
func TestSampleRoundTrip(t *testing.T) {
	truth, err := NewGaussianMixture(Full, []float64{0.3, 0.7}, []float64{-5, 0, 5, 1},
		[]float64{1, 0.5, 0.5, 2, 0.5, -0.2, -0.2, 0.3})
	if err != nil {
		t.Fatal(err)
	}
	x, labels := truth.Sample(20000, rng.New(9))
	var n0 float64
	for _, l := range labels {
		if l == 0 {
			n0++
		}
	}
	if p := n0 / 20000; math.Abs(p-0.3) > 4*math.Sqrt(0.3*0.7/20000) {
		t.Errorf("fraction of component 0 = %v, want 0.3", p)
	}
	g, res, err := FitGaussian(x, GaussianConfig{Components: 2, RegCovar: 1e-6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkMonotone(t, "roundtrip", res, 0)
	a := 0
	if g.Means[0] > 0 {
		a = 1
	}
	if math.Abs(g.Weights[a]-0.3) > 0.01 || math.Abs(g.Means[a*2]+5) > 0.05 || math.Abs(g.Means[(1-a)*2+1]-1) > 0.05 {
		t.Errorf("fit of sample: weights %v means %v", g.Weights, g.Means)
	}
	// The fitted model's likelihood on its training sample is at least the truth's.
	if g.Score(x) < truth.Score(x) {
		t.Errorf("fitted score %v below true model's %v", g.Score(x), truth.Score(x))
	}
}

func TestBadSettings(t *testing.T) {
	x, _ := blobs([][]float64{{0, 0}}, 5, 1, 1)
	cases := []struct {
		name string
		x    *tensor.Mat
		cfg  GaussianConfig
		want string
	}{
		{"K>n", x, GaussianConfig{Components: 6}, "larger than the number of examples"},
		{"K=0", x, GaussianConfig{Components: 0}, "Components must be >= 1"},
		{"reg<0", x, GaussianConfig{Components: 1, RegCovar: -1}, "RegCovar"},
	}
	nan := x.Clone()
	nan.Set(3, 1, float32(math.NaN()))
	cases = append(cases, struct {
		name string
		x    *tensor.Mat
		cfg  GaussianConfig
		want string
	}{"NaN", nan, GaussianConfig{Components: 1}, "row 3 column 1 is NaN"})
	// Points on a line: singular covariance without regularisation.
	line := tensor.New(50, 2)
	for i := 0; i < 50; i++ {
		line.Set(i, 0, float32(i))
		line.Set(i, 1, float32(2*i))
	}
	cases = append(cases, struct {
		name string
		x    *tensor.Mat
		cfg  GaussianConfig
		want string
	}{"singular", line, GaussianConfig{Components: 2}, "not positive definite"})
	for _, c := range cases {
		_, _, err := FitGaussian(c.x, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "mixture: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// With regularisation the singular data fit.
	if _, res, err := FitGaussian(line, GaussianConfig{Components: 2, RegCovar: 1e-3, Seed: 1}); err != nil {
		t.Errorf("singular data with reg 1e-3: %v", err)
	} else {
		checkMonotone(t, "line", res, 0)
	}
	if _, err := ParseCovariance("fulll"); err == nil {
		t.Error("ParseCovariance accepted fulll")
	}
}

// TestNotConverged checks that hitting MaxIter is a result, not an error.
func TestNotConverged(t *testing.T) {
	x, _ := blobs([][]float64{{0, 0}, {1, 1}}, 200, 1, 4)
	_, res, err := FitGaussian(x, GaussianConfig{Components: 5, RegCovar: 1e-6, EM: EMConfig{MaxIter: 2, Tol: 1e-12}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Converged || res.Iterations != 2 || len(res.History) != 4 {
		t.Errorf("got converged=%v iterations=%d history=%d", res.Converged, res.Iterations, len(res.History))
	}
}

func FuzzParseCovariance(f *testing.F) {
	for _, s := range []string{"full", "diag", "spherical", "tied", "", "FULL", "ful"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCovariance(s)
		if err == nil && c.String() != s {
			t.Errorf("ParseCovariance(%q) = %v", s, c)
		}
	})
}
