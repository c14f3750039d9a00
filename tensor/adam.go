package tensor

import (
	"fmt"
	"math"
)

// AdamUpdate applies the element-wise update of Adam (Kingma & Ba 2015, Algorithm 1,
// bias correction folded into step and isq) to the moments m, v and the weights w
// from the gradient g, for i < len(g):
//
//	m ← b1·m + (1−b1)·g,  v ← b2·v + ((1−b2)·g)·g,  w ← w − (step·m) / (√v·isq + eps)
//
// with step = lr/(1−b1ᵗ) and isq = 1/√(1−b2ᵗ). Every operation is rounded to float32
// separately, in this order, on every kernel path (the vector kernels fuse nothing),
// so the result does not depend on the path or on how the slices are split. It
// panics unless m, v and w have len(g) elements.
func AdamUpdate(m, v, w, g []float32, b1, b2, eps, step, isq float32) {
	if len(m) != len(g) || len(v) != len(g) || len(w) != len(g) {
		panic(fmt.Sprintf("tensor: AdamUpdate: lengths m %d, v %d, w %d, g %d differ", len(m), len(v), len(w), len(g)))
	}
	c1, c2 := 1-b1, 1-b2
	isa, wd := elemImpl.isa, elemImpl.width
	k := len(g) - len(g)%wd
	if k > 0 {
		kernelAdam(isa, m[:k], v[:k], w[:k], g[:k], b1, c1, b2, c2, step, isq, eps)
	}
	adamGeneric(m[k:], v[k:], w[k:], g[k:], b1, c1, b2, c2, step, isq, eps)
}

// adamGeneric is AdamUpdate's scalar reference. The float32 conversions round every
// product and sum (Go may otherwise fuse a multiply-add).
func adamGeneric(m, v, w, g []float32, b1, c1, b2, c2, step, isq, eps float32) {
	m, v, w = m[:len(g)], v[:len(g)], w[:len(g)]
	for i, gi := range g {
		mi := float32(b1*m[i]) + float32(c1*gi)
		vi := float32(b2*v[i]) + float32(float32(c2*gi)*gi)
		m[i], v[i] = mi, vi
		d := float32(sqrt32(vi)*isq) + eps
		w[i] -= float32(step*mi) / d
	}
}

// sqrt32 is the correctly rounded float32 square root (what VSQRTPS computes: a
// float64 square root rounded to float32 is the correctly rounded one).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
