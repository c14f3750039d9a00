package mcmc

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// randomBipartite returns a model with W ~ N(0, scale²) and biases ~ N(0, 0.5²).
func randomBipartite(nv, nh int, scale float32, seed uint64) Bipartite {
	s := rng.New(seed)
	m := Bipartite{W: tensor.New(nv, nh), B: make([]float32, nv), C: make([]float32, nh)}
	s.FillNormal(m.W.Data, 0, scale)
	s.FillNormal(m.B, 0, 0.5)
	s.FillNormal(m.C, 0, 0.5)
	return m
}

// bitsOf writes the n low bits of x into dst as 0/1.
func bitsOf(dst []float32, x int) {
	for i := range dst {
		dst[i] = float32(x >> i & 1)
	}
}

// bruteLogZ sums exp(−E(v,h)) over both layers.
func bruteLogZ(m Bipartite) float64 {
	nv, nh := m.NumVisible(), m.NumHidden()
	v, h := make([]float32, nv), make([]float32, nh)
	var terms []float64
	for a := 0; a < 1<<nv; a++ {
		bitsOf(v, a)
		for b := 0; b < 1<<nh; b++ {
			bitsOf(h, b)
			terms = append(terms, -m.Energy(v, h))
		}
	}
	return tensor.LogSumExp64(terms)
}

func TestFreeEnergyMatchesSumOverHidden(t *testing.T) {
	m := randomBipartite(6, 4, 1, 1)
	v, h := make([]float32, 6), make([]float32, 4)
	for a := 0; a < 64; a++ {
		bitsOf(v, a)
		var terms []float64
		for b := 0; b < 16; b++ {
			bitsOf(h, b)
			terms = append(terms, -m.Energy(v, h))
		}
		want := -tensor.LogSumExp64(terms)
		if got := m.FreeEnergy(v); math.Abs(got-want) > 1e-9 {
			t.Fatalf("F(v=%06b) = %.12g, brute force %.12g", a, got, want)
		}
	}
	// Hidden free energy against the sum over v.
	for b := 0; b < 16; b++ {
		bitsOf(h, b)
		var terms []float64
		for a := 0; a < 64; a++ {
			bitsOf(v, a)
			terms = append(terms, -m.Energy(v, h))
		}
		if got, want := m.HiddenFreeEnergy(h), -tensor.LogSumExp64(terms); math.Abs(got-want) > 1e-9 {
			t.Fatalf("F(h=%04b) = %.12g, brute force %.12g", b, got, want)
		}
	}
}

func TestExactLogZMatchesBruteForce(t *testing.T) {
	for _, sz := range [][2]int{{6, 4}, {4, 6}, {10, 8}, {5, 5}, {1, 3}} {
		m := randomBipartite(sz[0], sz[1], 1, uint64(sz[0]*100+sz[1]))
		got, err := ExactLogZ(m)
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteLogZ(m); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%d×%d: ExactLogZ = %.12g, brute force over both layers %.12g", sz[0], sz[1], got, want)
		}
	}
}

// Many Gray-code blocks (n = 15 > 12), against a sum of exp(−F(v)) over v.
func TestExactLogZManyBlocksAndWorkers(t *testing.T) {
	m := randomBipartite(20, 15, 0.3, 7)
	var want float64
	{
		v := make([]float32, 20)
		mT := Bipartite{W: tensor.New(15, 20), B: m.C, C: m.B} // transpose: enumerate the 15 via F(h)
		for i := 0; i < 20; i++ {
			for j := 0; j < 15; j++ {
				mT.W.Set(j, i, m.W.At(i, j))
			}
		}
		_ = v
		h := make([]float32, 15)
		terms := make([]float64, 0, 1<<15)
		for b := 0; b < 1<<15; b++ {
			bitsOf(h, b)
			terms = append(terms, -m.HiddenFreeEnergy(h))
		}
		want = tensor.LogSumExp64(terms)
	}
	defer tensor.SetWorkers(0)
	tensor.SetWorkers(1)
	z1, err := ExactLogZ(m)
	if err != nil {
		t.Fatal(err)
	}
	tensor.SetWorkers(2)
	z2, _ := ExactLogZ(m)
	if z1 != z2 {
		t.Errorf("ExactLogZ depends on workers: %.17g vs %.17g", z1, z2)
	}
	if math.Abs(z1-want) > 1e-9*math.Abs(want) {
		t.Errorf("ExactLogZ = %.12g, Σ_h exp(−F(h)) = %.12g", z1, want)
	}
}

func TestExactLogZTooLarge(t *testing.T) {
	m := Bipartite{W: tensor.New(40, 31), B: make([]float32, 40), C: make([]float32, 31)}
	if _, err := ExactLogZ(m); err == nil {
		t.Fatal("ExactLogZ of a 40×31 model: want an error")
	}
}

// exactVisibleMarginal returns p(v) for all 2^nv states.
func exactVisibleMarginal(m Bipartite) []float64 {
	nv := m.NumVisible()
	lz, _ := ExactLogZ(m)
	p := make([]float64, 1<<nv)
	v := make([]float32, nv)
	for a := range p {
		bitsOf(v, a)
		p[a] = math.Exp(-m.FreeEnergy(v) - lz)
	}
	return p
}

func stateIndex(v []float32) int {
	k := 0
	for i, x := range v {
		if x != 0 {
			k |= 1 << i
		}
	}
	return k
}

func totalVariation(p, q []float64) float64 {
	var d float64
	for i := range p {
		d += math.Abs(p[i] - q[i])
	}
	return d / 2
}

func TestGibbsHistogramMatchesExactMarginal(t *testing.T) {
	m := randomBipartite(6, 4, 1.5, 3)
	p := exactVisibleMarginal(m)
	var sum float64
	for _, x := range p {
		sum += x
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Fatalf("exact marginal sums to %g", sum)
	}
	chains, steps := 500, 200
	if testing.Short() {
		steps = 60
	}
	g := NewGibbs(m, tensor.New(chains, 6), 11)
	g.Step(20) // burn-in
	hist := make([]float64, 64)
	n := 0
	for t := 0; t < steps; t++ {
		g.Step(1)
		for i := 0; i < chains; i++ {
			hist[stateIndex(g.V.Row(i))]++
			n++
		}
	}
	for i := range hist {
		hist[i] /= float64(n)
	}
	// With ~n/τ effective samples over 64 cells, E[TV] ≈ Σ sqrt(p/(2π n_eff)); 0.03 is
	// several times that for n_eff ≥ 3e4.
	if tv := totalVariation(hist, p); tv > 0.03 {
		t.Errorf("Gibbs visible histogram: total variation %.4f from the exact marginal (n=%d)", tv, n)
	}
	// A model with a different state would be detected: TV to a perturbed model's marginal.
	m2 := randomBipartite(6, 4, 1.5, 4)
	if tv := totalVariation(hist, exactVisibleMarginal(m2)); tv < 0.1 {
		t.Errorf("test has no power: TV to another model's marginal is only %.4f", tv)
	}
}

func TestAISBetasSchedule(t *testing.T) {
	b := AISBetas(DefaultAISSteps)
	if len(b) != 14501 || b[0] != 0 || b[len(b)-1] != 1 {
		t.Fatalf("AISBetas(14500): len %d, ends %g, %g", len(b), b[0], b[len(b)-1])
	}
	checks := []struct {
		i    int
		want float64
	}{{1, 0.001}, {500, 0.5}, {501, 0.5001}, {4500, 0.9}, {4501, 0.90001}, {14500, 1}}
	for _, c := range checks {
		if math.Abs(b[c.i]-c.want) > 1e-12 {
			t.Errorf("beta[%d] = %.10g, want %g", c.i, b[c.i], c.want)
		}
	}
	for k := 1; k < len(b); k++ {
		if b[k] <= b[k-1] {
			t.Fatalf("not increasing at %d", k)
		}
	}
	if b := AISBetas(100); len(b) != 101 || b[100] != 1 {
		t.Errorf("AISBetas(100): len %d", len(b))
	}
}

func TestAISMatchesExactLogZ(t *testing.T) {
	steps, seeds := 4000, []uint64{21, 22, 23}
	if testing.Short() {
		steps, seeds = 2000, []uint64{21}
	}
	for _, seed := range seeds {
		m := randomBipartite(24, 12, 0.5, seed)
		exact, _ := ExactLogZ(m)
		data := tensor.New(200, 24)
		g := NewGibbs(m, data, seed)
		g.Step(50)
		r, err := AIS(m, AISConfig{Chains: 100, Betas: AISBetas(steps), BaseBias: BaseRateBias(g.V), Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.LogWeights) != 100 || r.StdErr <= 0 {
			t.Fatalf("AIS: %d log-weights, stderr %g", len(r.LogWeights), r.StdErr)
		}
		// 4 standard errors plus a small allowance for AIS's bias.
		if d := math.Abs(r.LogZ - exact); d > 4*r.StdErr+0.02 {
			t.Errorf("seed %d: AIS log Z = %.4f ± %.4f, exact %.4f (off by %.4f)", seed, r.LogZ, r.StdErr, exact, d)
		}
		t.Logf("seed %d: AIS %.4f ± %.4f, exact %.4f", seed, r.LogZ, r.StdErr, exact)
	}
}

func TestAISIndependentOfWorkers(t *testing.T) {
	m := randomBipartite(30, 20, 0.3, 5)
	cfg := AISConfig{Chains: 16, Betas: AISBetas(200), Seed: 9}
	defer tensor.SetWorkers(0)
	tensor.SetWorkers(1)
	a, _ := AIS(m, cfg)
	tensor.SetWorkers(2)
	b, _ := AIS(m, cfg)
	for i := range a.LogWeights {
		if a.LogWeights[i] != b.LogWeights[i] {
			t.Fatalf("log-weight %d: %.17g (1 worker) vs %.17g (2 workers)", i, a.LogWeights[i], b.LogWeights[i])
		}
	}
}

func TestAISBadSettings(t *testing.T) {
	m := randomBipartite(4, 3, 1, 1)
	for _, cfg := range []AISConfig{
		{Chains: -1},
		{Betas: []float64{0, 0.5}},
		{Betas: []float64{0, 0.6, 0.5, 1}},
		{BaseBias: make([]float32, 3)},
	} {
		if _, err := AIS(m, cfg); err == nil {
			t.Errorf("AIS(%+v): want an error", cfg)
		}
	}
}

func TestLogMeanExpStdErr(t *testing.T) {
	l := []float64{-1, 0.5, 2, 0.1, -3}
	got, se := logMeanExp(l)
	var s float64
	for _, x := range l {
		s += math.Exp(x)
	}
	mean := s / 5
	if want := math.Log(mean); math.Abs(got-want) > 1e-12 {
		t.Errorf("logMeanExp = %g, want %g", got, want)
	}
	var v float64
	for _, x := range l {
		v += (math.Exp(x) - mean) * (math.Exp(x) - mean)
	}
	if want := math.Sqrt(v/4) / math.Sqrt(5) / mean; math.Abs(se-want) > 1e-12 {
		t.Errorf("stderr = %g, want %g", se, want)
	}
}
