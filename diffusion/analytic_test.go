package diffusion

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// For Gaussian data with the exact ε-predictor, Analytic-DPM's variance is the
// true variance of q(x_{t−1} | x_t), a β_t/b with a = ᾱ_{t−1}s² + 1 − ᾱ_{t−1}
// and b = ᾱ_t s² + 1 − ᾱ_t (Gaussian conditioning), for Γ_t in closed form,
// (1 − ᾱ_t)/b; EpsMeanSquare's Monte Carlo Γ_t matches that closed form.
func TestAnalyticVarianceGaussianData(t *testing.T) {
	for _, kind := range []string{"linear", "cosine"} {
		sc, err := NewSchedule(kind, 40)
		if err != nil {
			t.Fatal(err)
		}
		g := Gaussian{S: sc}
		const s2 = 0.3
		gamma := make([]float64, sc.T+1)
		for k := 1; k <= sc.T; k++ {
			gamma[k] = (1 - sc.AlphaBar[k]) / (sc.AlphaBar[k]*s2 + 1 - sc.AlphaBar[k])
		}
		v := g.AnalyticVariances(gamma)
		for k := 2; k <= sc.T; k++ {
			a := sc.AlphaBar[k-1]*s2 + 1 - sc.AlphaBar[k-1]
			b := sc.AlphaBar[k]*s2 + 1 - sc.AlphaBar[k]
			want := a * sc.Beta[k] / b
			if math.Abs(v[k]-want) > 1e-12*want {
				t.Errorf("%s t=%d: analytic variance %.15g, true conditional variance %.15g", kind, k, v[k], want)
			}
			if !(v[k] >= sc.PostVar[k]*(1-1e-12) && v[k] <= sc.Beta[k]/sc.Alpha[k]*(1+1e-12)) {
				t.Errorf("%s t=%d: %g outside [β̃, β/α] = [%g, %g]", kind, k, v[k], sc.PostVar[k], sc.Beta[k]/sc.Alpha[k])
			}
		}
		// Monte Carlo Γ_t on draws of the data.
		x0 := tensor.New(64, 50)
		rng.New(3).FillNormal(x0.Data, 0, float32(math.Sqrt(s2)))
		mc := g.EpsMeanSquare(&gaussEps{sc: sc, s2: s2}, x0, 64, 100, rng.New(4), nil, nil)
		for k := 1; k <= sc.T; k++ {
			if math.Abs(mc[k]-gamma[k]) > 0.06*gamma[k] {
				t.Errorf("%s t=%d: Monte Carlo Γ %.4f, closed form %.4f", kind, k, mc[k], gamma[k])
			}
		}
	}
}

// With the variances the bound's terms t ≥ 2 are KLs to N(μ_θ, σ_t²): each
// matches the closed form of the expected term for Gaussian data, and the
// analytic variances raise the bound above the fixed β̃_t ones by the amount
// that closed form predicts (both averaged over many draws).
func TestAnalyticVarianceRaisesBound(t *testing.T) {
	sc, err := NewSchedule("linear", 30)
	if err != nil {
		t.Fatal(err)
	}
	const s2, D = 0.3, 20
	den := &gaussEps{sc: sc, s2: s2}
	gamma := make([]float64, sc.T+1)
	for k := 1; k <= sc.T; k++ {
		gamma[k] = (1 - sc.AlphaBar[k]) / (sc.AlphaBar[k]*s2 + 1 - sc.AlphaBar[k])
	}
	fixed := Gaussian{S: sc}
	ana := Gaussian{S: sc, Var: fixed.AnalyticVariances(gamma)}
	x0 := tensor.New(4000, D)
	rng.New(5).FillNormal(x0.Data, 0, float32(math.Sqrt(s2)))
	eps := tensor.New(x0.Rows, D)
	ts := make([]int, x0.Rows)
	for _, k := range []int{2, 10, 30} {
		for i := range ts {
			ts[i] = k
		}
		rng.New(uint64(k)).FillNormal(eps.Data, 0, 1)
		xt := fixed.Noise(nil, x0, eps, ts)
		e := den.Eps(xt, ts)
		var sf, sa float64
		for i := range x0.Rows {
			sf += fixed.Term(k, x0.Row(i), xt.Row(i), e.Row(i)) / float64(x0.Rows)
			sa += ana.Term(k, x0.Row(i), xt.Row(i), e.Row(i)) / float64(x0.Rows)
		}
		// E(μ̃ − μ_θ)² per value is the true conditional variance minus β̃.
		pv, v := sc.PostVar[k], ana.Var[k]
		m2 := v - pv
		wantF := D * m2 / (2 * pv)
		wantA := D / 2 * (math.Log(v/pv) + pv/v - 1 + m2/v)
		if math.Abs(sf-wantF) > 0.05*wantF || math.Abs(sa-wantA) > 0.05*wantA {
			t.Errorf("t=%d: terms fixed %.5f (closed form %.5f), analytic %.5f (%.5f)", k, sf, wantF, sa, wantA)
		}
		if !(sa < sf) {
			t.Errorf("t=%d: the analytic variance's term %.5f is not below the fixed one's %.5f", k, sa, sf)
		}
	}
}

// eval --variance analytic on a tiny model: a valid estimate that names its
// variances, and the flag errors.
func TestScoreAnalyticVariance(t *testing.T) {
	d := squares(24, 8, 8, 1)
	m, err := NewGaussModel(tinyGaussConfig(), d, model.NewSettings(KindGaussian, d, "squares", "", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := DefaultEvalConfig()
	cfg.Variance = "analytic"
	if _, err := m.Score(ctx, d, model.ScoreOptions{Seed: 1, Family: cfg}); err == nil || !model.IsFlagError(err) || !contains(err.Error(), "--var-data") {
		t.Errorf("no --var-data: %v", err)
	}
	cfg.VarData = "bars:4"
	if _, err := m.Score(ctx, d, model.ScoreOptions{Seed: 1, Family: cfg}); err == nil || !contains(err.Error(), "--var-data") {
		t.Errorf("--var-data of 16 values for 64: %v", err)
	}
	// Other images of the same kind as the variances' data: the estimate is a
	// bound whose terms now use σ*_t² ≥ β̃_t, and it says so.
	path := filepath.Join(t.TempDir(), "train.npy")
	if err := dataset.SaveNPY(path, squares(40, 8, 8, 9)); err != nil {
		t.Fatal(err)
	}
	cfg.VarData, cfg.VarN = path, 8
	est, err := m.Score(ctx, d, model.ScoreOptions{Seed: 1, Family: cfg})
	if err != nil || !(est.LogLik < 0) || est.Bound != "lower" {
		t.Fatalf("analytic: %+v, %v", est, err)
	}
	fixed, err := m.Score(ctx, d, model.ScoreOptions{Seed: 1, Family: DefaultEvalConfig()})
	if err != nil {
		t.Fatal(err)
	}
	note := ""
	for _, e := range est.Extra {
		if e.Name == "reverse_variance" {
			note = fmt.Sprint(e.Value)
		}
	}
	t.Logf("untrained tiny model: bound %.2f (fixed) → %.2f (analytic); %s", fixed.LogLik, est.LogLik, note)
	if !contains(note, "analytic") || !contains(note, path) {
		t.Errorf("reverse_variance %q", note)
	}
}
