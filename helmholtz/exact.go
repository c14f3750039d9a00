package helmholtz

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// MaxExactHidden is the largest total number of hidden units ExactLogProb enumerates.
const MaxExactHidden = 20

// logBern64 returns Σ_j log Bernoulli(v_j | σ(a_j)) in float64.
func logBern64(v, a []float64) float64 {
	var s float64
	for j, f := range a {
		var sp float64
		if f > 0 {
			sp = f + math.Log1p(math.Exp(-f))
		} else {
			sp = math.Log1p(math.Exp(f))
		}
		s += v[j]*f - sp
	}
	return s
}

// affine64 returns W·v + b in float64 for W (rows × len(v)).
func affine64(w *tensor.Mat, b []float32, v []float64) []float64 {
	out := make([]float64, w.Rows)
	for i := range out {
		s := float64(b[i])
		for j, wj := range w.Row(i) {
			s += float64(wj) * v[j]
		}
		out[i] = s
	}
	return out
}

// logJoint64 returns log p(h_0, ..., h_L) in float64; hs[0] is x.
func (m *Machine) logJoint64(hs [][]float64) float64 {
	l := m.Layers()
	top := make([]float64, len(m.Top))
	for j, v := range m.Top {
		top[j] = float64(v)
	}
	s := logBern64(hs[l], top)
	for i := 0; i < l; i++ {
		s += logBern64(hs[i], affine64(m.GenW[i], m.GenB[i], hs[i+1]))
	}
	return s
}

// logQ64 returns log q(h_1, ..., h_L | h_0) in float64.
func (m *Machine) logQ64(hs [][]float64) float64 {
	var s float64
	for i := 0; i < m.Layers(); i++ {
		s += logBern64(hs[i+1], affine64(m.RecW[i], m.RecB[i], hs[i]))
	}
	return s
}

// enumerate calls f with every hidden configuration (hs[0] = x fixed).
func (m *Machine) enumerate(x []float32, f func(hs [][]float64)) error {
	total := 0
	for _, n := range m.Sizes[1:] {
		total += n
	}
	if total > MaxExactHidden {
		return fmt.Errorf("helmholtz: exact enumeration needs at most %d hidden units, model has %d", MaxExactHidden, total)
	}
	hs := make([][]float64, len(m.Sizes))
	for i, n := range m.Sizes {
		hs[i] = make([]float64, n)
	}
	for j, v := range x {
		hs[0][j] = float64(v)
	}
	for code := 0; code < 1<<total; code++ {
		bit := 0
		for i := 1; i < len(hs); i++ {
			for j := range hs[i] {
				hs[i][j] = float64((code >> bit) & 1)
				bit++
			}
		}
		f(hs)
	}
	return nil
}

// ExactLogProb returns log p(x_n) = log Σ_h p(x_n, h) for every row, by enumerating
// all 2^(H_1+...+H_L) hidden states (at most MaxExactHidden hidden units).
func (m *Machine) ExactLogProb(x *tensor.Mat) ([]float64, error) {
	out := make([]float64, x.Rows)
	for n := range out {
		var terms []float64
		if err := m.enumerate(x.Row(n), func(hs [][]float64) { terms = append(terms, m.logJoint64(hs)) }); err != nil {
			return nil, err
		}
		out[n] = logMeanExp(terms) + math.Log(float64(len(terms)))
	}
	return out, nil
}

// ExactELBO returns E_q[log p(x_n, h) - log q(h|x_n)] for every row, by enumeration.
func (m *Machine) ExactELBO(x *tensor.Mat) ([]float64, error) {
	out := make([]float64, x.Rows)
	for n := range out {
		var s float64
		if err := m.enumerate(x.Row(n), func(hs [][]float64) {
			lq := m.logQ64(hs)
			s += math.Exp(lq) * (m.logJoint64(hs) - lq)
		}); err != nil {
			return nil, err
		}
		out[n] = s
	}
	return out, nil
}
