package mixture

import (
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func plantedBernoulli(t *testing.T) (*BernoulliMixture, *tensor.Mat, []int) {
	t.Helper()
	const k, d = 4, 40
	s := rng.New(17)
	probs := make([]float64, k*d)
	for i := range probs {
		probs[i] = 0.1
		if s.Float64() < 0.5 {
			probs[i] = 0.9
		}
	}
	truth, err := NewBernoulliMixture([]float64{0.1, 0.2, 0.3, 0.4}, probs, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	x, labels := truth.Sample(4000, rng.New(3))
	return truth, x, labels
}

// TestBernoulliPlanted checks that EM recovers planted prototypes and weights, and
// that F (with the Beta prior term) never increases.
func TestBernoulliPlanted(t *testing.T) {
	truth, x, labels := plantedBernoulli(t)
	for _, fast := range []bool{false, true} {
		m, res, err := FitBernoulli(x, BernoulliConfig{Components: 4, Seed: 5, NInit: 3, FastMath: fast})
		if err != nil {
			t.Fatal(err)
		}
		slack := 0.0
		if fast {
			slack = 1e-6
		}
		checkMonotone(t, "bernoulli", res, slack)
		pred := m.Predict(x)
		if ari := adjustedRand(labels, pred); ari < 0.99 {
			t.Errorf("fast=%v: adjusted Rand %v", fast, ari)
		}
		// Match components through the majority label and compare parameters.
		for c := 0; c < 4; c++ {
			cnt := make([]int, 4)
			for i, p := range pred {
				if p == c {
					cnt[labels[i]]++
				}
			}
			best := 0
			for j := range cnt {
				if cnt[j] > cnt[best] {
					best = j
				}
			}
			if math.Abs(m.Weights[c]-truth.Weights[best]) > 0.03 {
				t.Errorf("weight %v, planted %v", m.Weights[c], truth.Weights[best])
			}
			for j := 0; j < truth.D; j++ {
				if math.Abs(m.Probs[c*truth.D+j]-truth.Probs[best*truth.D+j]) > 0.08 {
					t.Errorf("component %d prob %d = %v, planted %v", c, j, m.Probs[c*truth.D+j], truth.Probs[best*truth.D+j])
				}
			}
		}
		if m.Score(x) < truth.Score(x)-0.01 {
			t.Errorf("fitted score %v far below truth %v", m.Score(x), truth.Score(x))
		}
	}
}

// TestBernoulliExact checks LogJoint/Score against direct evaluation of
// Σ_k π_k Π_d μ^x (1-μ)^(1-x), and the MAP M-step formula against a hand computation.
func TestBernoulliExact(t *testing.T) {
	m, err := NewBernoulliMixture([]float64{0.25, 0.75}, []float64{0.2, 0.7, 0.5, 0.9, 0.1, 0.3}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromSlice(4, 3, []float32{1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0})
	var want float64
	for i := 0; i < 4; i++ {
		var p float64
		for c := 0; c < 2; c++ {
			q := m.Weights[c]
			for j := 0; j < 3; j++ {
				mu := m.Probs[c*3+j]
				if x.At(i, j) == 1 {
					q *= mu
				} else {
					q *= 1 - mu
				}
			}
			p += q
		}
		want += math.Log(p) / 4
	}
	for _, fast := range []bool{false, true} {
		m.FastMath = fast
		if got := m.Score(x); math.Abs(got-want) > 1e-6 {
			t.Errorf("fast=%v: Score %v, want %v", fast, got, want)
		}
	}
	m.FastMath = false
	resp := []float64{1, 0, 0.5, 0.5, 0.2, 0.8, 0, 1}
	if err := m.MStep(x, resp); err != nil {
		t.Fatal(err)
	}
	// Component 0: N = 1.7; Σ r x = (1+0.2, 0.2, 1+0.2) → μ = (Σ r x + a-1)/(N + a+b-2), a=3, b=2.
	for j, sx := range []float64{1.2, 0.2, 1.2} {
		if w := (sx + 2) / (1.7 + 3); math.Abs(m.Probs[j]-w) > 1e-14 {
			t.Errorf("μ_0%d = %v, want %v", j, m.Probs[j], w)
		}
	}
	if math.Abs(m.Weights[0]-1.7/4) > 1e-14 {
		t.Errorf("π_0 = %v", m.Weights[0])
	}
	// Log prior: Beta(3, 2) density, B(3,2) = 1/12.
	var lp float64
	for _, p := range m.Probs {
		lp += math.Log(12 * p * p * (1 - p))
	}
	if math.Abs(m.LogPrior()-lp) > 1e-12 {
		t.Errorf("LogPrior %v, want %v", m.LogPrior(), lp)
	}
}

// TestBernoulliOffBounds checks that a constant column (all zeros) leaves the
// probabilities strictly inside (0, 1) under the default prior, and that a, b < 1
// or non-binary data are refused.
func TestBernoulliOffBounds(t *testing.T) {
	x := tensor.New(30, 4)
	for i := 0; i < 30; i++ {
		x.Set(i, i%3, 1)
	}
	m, res, err := FitBernoulli(x, BernoulliConfig{Components: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkMonotone(t, "constant column", res, 0)
	for _, p := range m.Probs {
		if !(p > 0 && p < 1) {
			t.Errorf("probability %v", p)
		}
	}
	if _, _, err := FitBernoulli(x, BernoulliConfig{Components: 2, PriorA: 0.5}); err == nil || !strings.Contains(err.Error(), "PriorA") {
		t.Errorf("a=0.5: %v", err)
	}
	x.Set(0, 0, 2)
	if _, _, err := FitBernoulli(x, BernoulliConfig{Components: 2}); err == nil || !strings.Contains(err.Error(), "row 0 column 0") {
		t.Errorf("x=2: %v", err)
	}
}

func TestBernoulliWorkers(t *testing.T) {
	truth, _, _ := plantedBernoulli(t)
	x, _ := truth.Sample(20000, rng.New(8)) // three M-step blocks of mBlock rows
	defer tensor.SetWorkers(0)
	for _, fast := range []bool{false, true} {
		var ref []float64
		for _, w := range []int{1, 2} {
			tensor.SetWorkers(w)
			m, res, err := FitBernoulli(x, BernoulliConfig{Components: 4, Seed: 5, FastMath: fast})
			if err != nil {
				t.Fatal(err)
			}
			got := append([]float64{res.FreeEnergy}, m.Probs...)
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				if got[i] != ref[i] {
					t.Fatalf("fast=%v value %d: %v vs %v", fast, i, got[i], ref[i])
				}
			}
		}
	}
}
