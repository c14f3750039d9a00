package nn

import "math"

// GradNorm returns the global L2 norm of the gradients of params,
//
//	‖g‖ = √(Σ_k Σ_i G_k,i²),
//
// accumulated in float64 in parameter order (the same bits for any number of
// workers).
func GradNorm(params []*Param) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.G {
			s += float64(g) * float64(g)
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm rescales the gradients of params so that their global L2 norm is
// at most maxNorm, as PyTorch's clip_grad_norm_:
//
//	g ← g · maxNorm/(‖g‖ + 1e-6)     when ‖g‖ > maxNorm,
//
// and returns ‖g‖ before clipping (worth logging: a growing norm warns of
// divergence). A norm that is NaN or infinite is returned with the gradients
// untouched, for the caller's NaN check to report. It panics if maxNorm ≤ 0.
func ClipGradNorm(params []*Param, maxNorm float64) float64 {
	if !(maxNorm > 0) {
		panic("nn: ClipGradNorm: maxNorm must be positive")
	}
	n := GradNorm(params)
	if n <= maxNorm || math.IsNaN(n) || math.IsInf(n, 0) {
		return n
	}
	c := float32(maxNorm / (n + 1e-6))
	for _, p := range params {
		for i := range p.G {
			p.G[i] *= c
		}
	}
	return n
}
