package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// Optimizer updates parameters from their gradients G.
type Optimizer interface {
	Step(params []*Param)
}

// Adam is the optimiser of Kingma & Ba (2015), Algorithm 1, with bias correction:
//
//	m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,   t ← t+1
//	θ ← θ − lr · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
//
// written, as in PyTorch, as θ ← θ − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε).
// The zero values of Beta1, Beta2 and Eps mean 0.9, 0.999 and 1e-8.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	T                     int         // steps taken
	M, V                  [][]float32 // moments, one slice per parameter (lazily allocated)

	k   *adamKernel      // the update of one parameter, reused every step
	run func(lo, hi int) // k.run, bound once so that Step does not allocate
}

// adamKernel holds what the element-wise Adam update reads: every parameter's
// moments, weights and gradients, laid end to end in one index space (off[i] is
// where parameter i starts), so that one parallel loop covers them all.
type adamKernel struct {
	m, v, w, g                [][]float32
	off                       []int
	b1, b2, eps, step, isqBC2 float32
}

// run applies, for every index in [lo, hi) of the joined parameters,
//
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  w ← w − step·m / (√v/√(1−β₂ᵗ) + ε)
//
// with step = lr/(1−β₁ᵗ) (Kingma & Ba 2015, Algorithm 1, bias correction folded in),
// through tensor.AdamUpdate (vectorised; the same bits on every kernel path and
// for any split of the range, the update being element-wise).
func (k *adamKernel) run(lo, hi int) {
	for i := range k.m {
		a, b := max(lo, k.off[i]), min(hi, k.off[i+1])
		if a >= b {
			continue
		}
		a, b = a-k.off[i], b-k.off[i]
		tensor.AdamUpdate(k.m[i][a:b], k.v[i][a:b], k.w[i][a:b], k.g[i][a:b], k.b1, k.b2, k.eps, k.step, k.isqBC2)
	}
}

// NewAdam returns Adam with learning rate lr and the default β₁, β₂, ε.
func NewAdam(lr float64) *Adam { return &Adam{LR: lr} }

// Step applies one Adam update to every parameter. The moments are matched to
// params by position, so pass the same list every step.
func (a *Adam) Step(params []*Param) {
	b1, b2, eps := orDefault(a.Beta1, 0.9), orDefault(a.Beta2, 0.999), orDefault(a.Eps, 1e-8)
	a.ensure(params)
	a.T++
	bc1 := 1 - math.Pow(b1, float64(a.T))
	bc2 := 1 - math.Pow(b2, float64(a.T))
	step := float32(a.LR / bc1)
	isq := float32(1 / math.Sqrt(bc2))
	if a.k == nil {
		a.k = new(adamKernel)
		a.run = a.k.run
	}
	k := a.k
	k.b1, k.b2, k.eps, k.step, k.isqBC2 = float32(b1), float32(b2), float32(eps), step, isq
	k.m, k.v, k.off = a.M, a.V, append(k.off[:0], 0)
	for _, p := range params {
		k.w, k.g = append(k.w, p.W), append(k.g, p.G)
		k.off = append(k.off, k.off[len(k.off)-1]+len(p.W))
	}
	if n := k.off[len(params)]; n < 65536 {
		k.run(0, n)
	} else {
		tensor.ParallelFor(n, 32768, a.run)
	}
	clear(k.w)
	clear(k.g)
	k.m, k.v, k.w, k.g = nil, nil, k.w[:0], k.g[:0] // do not keep the parameters alive
}

func (a *Adam) ensure(params []*Param) {
	if len(a.M) == 0 {
		a.M = make([][]float32, len(params))
		a.V = make([][]float32, len(params))
		for k, p := range params {
			a.M[k] = make([]float32, len(p.W))
			a.V[k] = make([]float32, len(p.W))
		}
	}
	if len(a.M) != len(params) {
		panic(fmt.Sprintf("nn: Adam: state for %d parameters, got %d", len(a.M), len(params)))
	}
	for k, p := range params {
		if len(a.M[k]) != len(p.W) {
			panic(fmt.Sprintf("nn: Adam: parameter %d (%s) has %d values, state has %d", k, p.Name, len(p.W), len(a.M[k])))
		}
	}
}

// SGD is stochastic gradient descent with (PyTorch-style) momentum μ:
//
//	u ← μu + g,   θ ← θ − lr·u          (plain SGD when μ = 0).
type SGD struct {
	LR, Momentum float64
	U            [][]float32 // velocities, one slice per parameter
}

// Step applies one update to every parameter.
func (s *SGD) Step(params []*Param) {
	if s.Momentum != 0 && len(s.U) == 0 {
		s.U = make([][]float32, len(params))
		for k, p := range params {
			s.U[k] = make([]float32, len(p.W))
		}
	}
	lr, mu := float32(s.LR), float32(s.Momentum)
	for k, p := range params {
		w, g := p.W, p.G
		if s.Momentum == 0 {
			for i, gi := range g {
				w[i] -= lr * gi
			}
			continue
		}
		u := s.U[k]
		for i, gi := range g {
			u[i] = mu*u[i] + gi
			w[i] -= lr * u[i]
		}
	}
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
