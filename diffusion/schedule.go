package diffusion

import (
	"fmt"
	"math"
)

// Schedule is the noise schedule of a diffusion with T steps, computed once in
// float64. Slices are indexed by the step t = 0, …, T; index 0 is the data
// (β_0 = 0, ᾱ_0 = 1). With α_t = 1 − β_t,
//
//	ᾱ_t = Π_{s≤t} α_s
//	q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I)
//	q(x_t | x_0)     = N(√ᾱ_t x_0, (1 − ᾱ_t) I)
//	q(x_{t−1} | x_t, x_0) = N(C0_t x_0 + Ct_t x_t, β̃_t I),
//	    C0_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t),
//	    Ct_t = √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t),
//	    β̃_t  = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t)
//
// (Ho et al. 2020, eqs. 4, 6, 7). β̃_1 = 0; LogVarClipped uses β̃_2 at t = 1,
// as Ho et al.'s code does. Binary diffusion reads the same β_t and ᾱ_t as the
// probabilities of resampling a bit uniformly (see Binary).
type Schedule struct {
	T                      int
	Kind                   string // "linear", "cosine" or "custom"
	Beta, Alpha, AlphaBar  []float64
	SqrtAB, SqrtOneMinusAB []float64 // √ᾱ_t, √(1 − ᾱ_t)
	C0, Ct, PostVar        []float64 // posterior mean coefficients and β̃_t (index 1…T)
	LogVarClipped          []float64 // log β̃_t, with β̃_2 at t = 1
}

// Linear β of Ho et al. 2020.
const (
	LinearBetaStart = 1e-4
	LinearBetaEnd   = 0.02
)

// NewSchedule returns the schedule of the given kind with T steps:
//
//	linear: β_t = min(k·(β_start + (β_end − β_start)(t − 1)/(T − 1)), 0.999),
//	        from 1e-4 to 0.02 (Ho et al. 2020, section 4) scaled by k = 1000/T,
//	        as Nichol & Dhariwal's code does, so that x_T is close to N(0, I)
//	        for any T (unscaled, T = 100 would leave ᾱ_T ≈ 0.37);
//	cosine: ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008,
//	        β_t = min(1 − ᾱ_t/ᾱ_{t−1}, 0.999) (Nichol & Dhariwal 2021, eq. 17).
//
// It returns an error for T < 2 or an unknown kind.
func NewSchedule(kind string, T int) (*Schedule, error) {
	if kind == "linear" {
		return NewLinearScaled(T, LinearBetaStart, LinearBetaEnd)
	}
	return NewScheduleRange(kind, T, LinearBetaStart, LinearBetaEnd)
}

// NewLinearScaled returns the linear schedule whose end points start and end
// (in (0, 1)) are given for T = 1000: β_t = min(k·(start + (end − start)(t −
// 1)/(T − 1)), 0.999) with k = 1000/T.
func NewLinearScaled(T int, start, end float64) (*Schedule, error) {
	if T < 2 {
		return nil, fmt.Errorf("diffusion: T = %d steps; a diffusion needs T >= 2", T)
	}
	for _, b := range []struct {
		name string
		v    float64
	}{{"start", start}, {"end", end}} {
		if !(b.v > 0 && b.v < 1) {
			return nil, fmt.Errorf("diffusion: β %s = %v is outside (0, 1)", b.name, b.v)
		}
	}
	k := 1000 / float64(T)
	beta := make([]float64, T)
	for t := 1; t <= T; t++ {
		beta[t-1] = min(k*(start+(end-start)*float64(t-1)/float64(T-1)), 0.999)
	}
	sc, err := FromBetas(beta)
	if err != nil {
		return nil, err
	}
	sc.Kind = "linear"
	return sc, nil
}

// NewScheduleRange is NewSchedule with the linear schedule's end points, used
// as given (the cosine schedule ignores them). β outside (0, 1) is an error.
func NewScheduleRange(kind string, T int, start, end float64) (*Schedule, error) {
	if T < 2 {
		return nil, fmt.Errorf("diffusion: T = %d steps; a diffusion needs T >= 2", T)
	}
	beta := make([]float64, T+1)
	switch kind {
	case "linear":
		for _, b := range []struct {
			name string
			v    float64
		}{{"start", start}, {"end", end}} {
			if !(b.v > 0 && b.v < 1) {
				return nil, fmt.Errorf("diffusion: β %s = %v is outside (0, 1)", b.name, b.v)
			}
		}
		for t := 1; t <= T; t++ {
			beta[t] = start + (end-start)*float64(t-1)/float64(T-1)
		}
	case "cosine":
		const s = 0.008
		f := func(t int) float64 {
			c := math.Cos((float64(t)/float64(T) + s) / (1 + s) * math.Pi / 2)
			return c * c
		}
		for t := 1; t <= T; t++ {
			beta[t] = min(1-f(t)/f(t-1), 0.999)
		}
	default:
		return nil, fmt.Errorf("diffusion: unknown schedule %q (want linear or cosine)", kind)
	}
	sc, err := FromBetas(beta[1:])
	if err != nil {
		return nil, err
	}
	sc.Kind = kind
	return sc, nil
}

// FromBetas returns the schedule with β_1, …, β_T = betas. Every β must lie in
// (0, 1) and T >= 2.
func FromBetas(betas []float64) (*Schedule, error) {
	T := len(betas)
	if T < 2 {
		return nil, fmt.Errorf("diffusion: T = %d steps; a diffusion needs T >= 2", T)
	}
	n := T + 1
	sc := &Schedule{T: T, Kind: "custom",
		Beta: make([]float64, n), Alpha: make([]float64, n), AlphaBar: make([]float64, n),
		SqrtAB: make([]float64, n), SqrtOneMinusAB: make([]float64, n),
		C0: make([]float64, n), Ct: make([]float64, n), PostVar: make([]float64, n), LogVarClipped: make([]float64, n)}
	sc.Alpha[0], sc.AlphaBar[0], sc.SqrtAB[0] = 1, 1, 1
	for t := 1; t <= T; t++ {
		b := betas[t-1]
		if !(b > 0 && b < 1) {
			return nil, fmt.Errorf("diffusion: β_%d = %v is outside (0, 1)", t, b)
		}
		sc.Beta[t], sc.Alpha[t] = b, 1-b
		sc.AlphaBar[t] = sc.AlphaBar[t-1] * (1 - b)
		sc.SqrtAB[t] = math.Sqrt(sc.AlphaBar[t])
		sc.SqrtOneMinusAB[t] = math.Sqrt(1 - sc.AlphaBar[t])
		abPrev, ab := sc.AlphaBar[t-1], sc.AlphaBar[t]
		sc.C0[t] = math.Sqrt(abPrev) * b / (1 - ab)
		sc.Ct[t] = math.Sqrt(1-b) * (1 - abPrev) / (1 - ab)
		sc.PostVar[t] = (1 - abPrev) * b / (1 - ab)
	}
	for t := 1; t <= T; t++ {
		sc.LogVarClipped[t] = math.Log(sc.PostVar[max(t, 2)])
	}
	return sc, nil
}

// Mean0 returns the posterior mean from x_t and a prediction ε̂ of the noise,
// through x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t (Ho et al. 2020, eq. 11):
//
//	μ = C0_t x̂_0 + Ct_t x_t = (x_t − β_t/√(1 − ᾱ_t) ε̂)/√α_t.
func (sc *Schedule) Mean0(t int, xt, eps float64) float64 {
	return (xt - sc.Beta[t]/sc.SqrtOneMinusAB[t]*eps) / math.Sqrt(sc.Alpha[t])
}
