package diffusion

import (
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Analytic-DPM (Bao, Li, Zhu & Zhang 2022, "Analytic-DPM: an analytic estimate
// of the optimal reverse variance in diffusion probabilistic models", ICLR,
// Theorem 1): for a network trained on the mean alone (ε-prediction with
// L_simple), the reverse variance that maximises the bound at step t ≥ 2 is,
// with the DDPM posterior variance λ_t² = β̃_t,
//
//	σ*_t² = β̃_t + (√((1 − ᾱ_t)/α_t) − √(1 − ᾱ_{t−1} − β̃_t))² (1 − Γ_t)
//	      = β̃_t + β_t²/(α_t (1 − ᾱ_t)) · (1 − Γ_t),
//	Γ_t  = E_q ‖ε̂_θ(x_t, t)‖² / D,
//
// the second line by algebra on the schedule. Γ_t is a data average the
// network gives by Monte Carlo; the variance then lies in [β̃_t, β_t/α_t]
// (Γ_t clipped to [0, 1], the theorem's bounds). Any variance gives a valid
// bound, so one estimated on other data than the data scored keeps it a bound.

// AnalyticVariances returns σ*_t² for t = 2…T (index t; 0 and 1 unused, 0)
// from gamma[t] = Γ_t, each Γ clipped to [0, 1].
func (g Gaussian) AnalyticVariances(gamma []float64) []float64 {
	sc := g.S
	v := make([]float64, sc.T+1)
	for t := 2; t <= sc.T; t++ {
		gm := min(max(gamma[t], 0), 1)
		v[t] = sc.PostVar[t] + sc.Beta[t]*sc.Beta[t]/(sc.Alpha[t]*(1-sc.AlphaBar[t]))*(1-gm)
	}
	return v
}

// EpsMeanSquare returns Γ_t = E‖ε̂(x_t, t)‖²/D for t = 1…T (index t) by Monte
// Carlo: perT draws per step, each an x_0 taken in turn from the rows of x0
// (values on [−1, 1]) and a fresh ε from s, noised to x_t and run through d in
// batches of up to batch rows that mix steps. After each batch it calls
// progress(done, total) when progress is not nil, and stops early (returning
// nil) when stop, if not nil, returns an error.
func (g Gaussian) EpsMeanSquare(d Denoiser, x0 *tensor.Mat, perT, batch int, s *rng.Stream, progress func(done, total int), stop func() error) []float64 {
	T, D := g.S.T, x0.Cols
	total := T * perT
	gamma := make([]float64, T+1)
	ts := make([]int, 0, batch)
	xb := tensor.New(batch, D)
	eps := tensor.New(batch, D)
	var xt *tensor.Mat
	next := 0 // the next row of x0
	for lo := 0; lo < total; lo += batch {
		hi := min(total, lo+batch)
		n := hi - lo
		ts = ts[:0]
		for k := lo; k < hi; k++ {
			ts = append(ts, 1+k/perT)
			copy(xb.Row(k-lo), x0.Row(next))
			next = (next + 1) % x0.Rows
		}
		e := eps.Slice(0, n)
		s.FillNormal(e.Data, 0, 1)
		xt = g.Noise(xt, xb.Slice(0, n), e, ts)
		out := d.Eps(xt, ts)
		for i, t := range ts {
			var sq float64
			for _, v := range out.Row(i) {
				sq += float64(v) * float64(v)
			}
			gamma[t] += sq / float64(D*perT)
		}
		if progress != nil {
			progress(hi, total)
		}
		if stop != nil && stop() != nil {
			return nil
		}
	}
	return gamma
}

// varTerm returns the bound's term L_{t−1} (t ≥ 2) of one row with the reverse
// variance v ≠ β̃_t: Σ_j KL(N(μ̃_j, β̃_t) ‖ N(μ_θ,j, v)) =
// Σ_j ½[log(v/β̃_t) + β̃_t/v − 1 + (μ̃_j − μ_θ,j)²/v].
func (g Gaussian) varTerm(t int, v float64, x0, xt, eps []float32) float64 {
	pv := g.S.PostVar[t]
	var s float64
	for j, x := range x0 {
		mt := g.S.C0[t]*float64(x) + g.S.Ct[t]*float64(xt[j])
		d := mt - g.S.Mean0(t, float64(xt[j]), float64(eps[j]))
		s += d * d
	}
	return s/(2*v) + float64(len(x0))/2*(math.Log(v/pv)+pv/v-1)
}
