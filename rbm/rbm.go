package rbm

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Visible is the type of the visible units.
type Visible int

const (
	Bernoulli Visible = iota // binary visible units
	Gaussian                 // Gaussian visible units with per-unit σ
)

func (v Visible) String() string {
	switch v {
	case Bernoulli:
		return "bernoulli"
	case Gaussian:
		return "gaussian"
	}
	return fmt.Sprintf("Visible(%d)", int(v))
}

// RBM is a restricted Boltzmann machine (see the package documentation for the
// energies). Fields are exported so that a Go user can inspect or set parameters; keep
// the shapes consistent (W is (nv, nh), len(B) = nv, len(C) = nh).
type RBM struct {
	Visible Visible
	W       *tensor.Mat // (nv, nh) weights
	B       []float32   // visible biases, len nv
	C       []float32   // hidden biases, len nh

	// Gaussian visible units only (nil for Bernoulli):
	LogSigma  []float32 // log σ_i of the standardised data, len nv
	Mean, Std []float32 // standardisation z = (x − Mean)/Std, len nv

	// Height, Width, Channels describe a visible vector as an image (zeros when it is
	// not one); used for pictures of filters and samples.
	Height, Width, Channels int
}

// New returns a Bernoulli–Bernoulli (visible == Bernoulli) or Gaussian–Bernoulli RBM
// with nv visible and nh hidden units and zero parameters (σ = 1, identity
// standardisation). Initialise it with InitFromData before training. It returns an error
// naming the size that is not positive.
func New(visible Visible, nv, nh int) (*RBM, error) {
	if nv < 1 {
		return nil, fmt.Errorf("rbm: visible units must be >= 1, got %d", nv)
	}
	if nh < 1 {
		return nil, fmt.Errorf("rbm: hidden units must be >= 1, got %d", nh)
	}
	m := &RBM{Visible: visible, W: weightMat(nv, nh), B: make([]float32, nv), C: make([]float32, nh)}
	switch visible {
	case Bernoulli:
	case Gaussian:
		m.LogSigma = make([]float32, nv)
		m.Mean = make([]float32, nv)
		m.Std = make([]float32, nv)
		for i := range m.Std {
			m.Std[i] = 1
		}
	default:
		return nil, fmt.Errorf("rbm: unknown visible unit type %d", int(visible))
	}
	return m, nil
}

// NumVisible returns nv.
func (m *RBM) NumVisible() int { return m.W.Rows }

// NumHidden returns nh.
func (m *RBM) NumHidden() int { return m.W.Cols }

// Kind returns the checkpoint kind: "rbm" or "grbm".
func (m *RBM) Kind() string {
	if m.Visible == Gaussian {
		return "grbm"
	}
	return "rbm"
}

// Bipartite returns the parameters as an mcmc.Bipartite (views, not copies). It panics
// for a Gaussian RBM.
func (m *RBM) Bipartite() mcmc.Bipartite {
	if m.Visible != Bernoulli {
		panic("rbm: Bipartite of a Gaussian RBM")
	}
	return mcmc.Bipartite{W: m.W, B: m.B, C: m.C}
}

// InitFromData initialises the parameters for training on the rows of x
// (Hinton 2010, "A practical guide to training RBMs", section 8): W_ij ~ N(0, 0.01²)
// from s, c = 0, and
//   - Bernoulli: b_i = log(p_i/(1−p_i)) from the data marginals p_i, clipped to
//     [1e-3, 1−1e-3] so constant pixels keep finite biases;
//   - Gaussian: Mean and Std of each column (the model standardises the data), b = 0,
//     σ = 1. A constant column (Std = 0) is an error naming the column.
func (m *RBM) InitFromData(x *tensor.Mat, s *rng.Stream) error {
	nv := m.NumVisible()
	if x.Cols != nv {
		return fmt.Errorf("rbm: data has %d columns, model has %d visible units", x.Cols, nv)
	}
	if x.Rows < 1 {
		return fmt.Errorf("rbm: no training examples")
	}
	nh := m.NumHidden()
	w := make([]float32, nv*nh) // one draw in row-major order, whatever W's stride
	s.FillNormal(w, 0, 0.01)
	setFlat(m.W, w)
	clear(m.C)
	mean, std := columnMoments(x)
	switch m.Visible {
	case Bernoulli:
		for i := range m.B {
			p := min(max(mean[i], 1e-3), 1-1e-3)
			m.B[i] = float32(math.Log(p / (1 - p)))
		}
	case Gaussian:
		for i := range m.B {
			if !(std[i] > 1e-8*max(1, math.Abs(mean[i]))) {
				return fmt.Errorf("rbm: Gaussian RBM: column %d of the data is constant (value %g); standardisation needs a positive std (drop the column)", i, mean[i])
			}
			m.Mean[i], m.Std[i] = float32(mean[i]), float32(std[i])
			m.B[i], m.LogSigma[i] = 0, 0
		}
	}
	return nil
}

// columnMoments returns the column means and (population) standard deviations, in float64.
func columnMoments(x *tensor.Mat) (mean, std []float64) {
	mean, std = make([]float64, x.Cols), make([]float64, x.Cols)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			mean[j] += float64(v)
		}
	}
	n := float64(x.Rows)
	for j := range mean {
		mean[j] /= n
	}
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			d := float64(v) - mean[j]
			std[j] += d * d
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / n)
	}
	return mean, std
}

// standardize returns x in model units: x itself for Bernoulli, a standardised copy
// (x − Mean)/Std for Gaussian.
func (m *RBM) standardize(x *tensor.Mat) *tensor.Mat {
	m.checkData(x)
	if m.Visible != Gaussian {
		return x
	}
	z := tensor.New(x.Rows, x.Cols)
	for i := 0; i < x.Rows; i++ {
		zr := z.Row(i)
		for j, v := range x.Row(i) {
			zr[j] = (v - m.Mean[j]) / m.Std[j]
		}
	}
	return z
}

// unstandardize maps model-unit rows back to data units in place.
func (m *RBM) unstandardize(z *tensor.Mat) {
	if m.Visible != Gaussian {
		return
	}
	for i := 0; i < z.Rows; i++ {
		r := z.Row(i)
		for j := range r {
			r[j] = r[j]*m.Std[j] + m.Mean[j]
		}
	}
}

func (m *RBM) checkData(x *tensor.Mat) {
	if x.Cols != m.NumVisible() {
		panic(fmt.Sprintf("rbm: data has %d columns, model has %d visible units", x.Cols, m.NumVisible()))
	}
}

// hiddenInput returns the rows of u = z/σ (Gaussian) or z itself (Bernoulli): what W
// multiplies.
func (m *RBM) hiddenInput(z *tensor.Mat) *tensor.Mat {
	if m.Visible != Gaussian {
		return z
	}
	u := tensor.New(z.Rows, z.Cols)
	for i := 0; i < z.Rows; i++ {
		ur := u.Row(i)
		for j, v := range z.Row(i) {
			ur[j] = v * float32(math.Exp(-float64(m.LogSigma[j])))
		}
	}
	return u
}

// FreeEnergy sets dst[n] = F(x_n) for the rows x_n of x (dst allocated when nil) and
// returns dst:
//
//	Bernoulli: F(v) = −bᵀv − Σ_j softplus(c_j + Σ_i v_i W_ij)
//	Gaussian:  F(z) = Σ_i (z_i − b_i)²/(2σ_i²) − Σ_j softplus(c_j + Σ_i (z_i/σ_i) W_ij)
//
// with z = (x − Mean)/Std, accumulated in float64 (Hinton 2010, eq. 25; Cho et al. 2011).
// It panics if x has the wrong number of columns.
func (m *RBM) FreeEnergy(dst []float64, x *tensor.Mat) []float64 {
	z := m.standardize(x)
	if dst == nil {
		dst = make([]float64, x.Rows)
	}
	nh := m.NumHidden()
	tensor.ParallelFor(x.Rows, 16, func(lo, hi int) {
		a := make([]float64, nh)
		for n := lo; n < hi; n++ {
			f := m.preActivation(a, z.Row(n))
			for _, aj := range a {
				f -= softplus(aj)
			}
			dst[n] = f
		}
	})
	return dst
}

// preActivation sets a_j = c_j + Σ_i u_i W_ij for one row z in model units (u = z, or
// z/σ for Gaussian units), in float64, and returns the visible part of the free energy
// (−bᵀv, or Σ_i (z_i − b_i)²/(2σ_i²)).
func (m *RBM) preActivation(a []float64, z []float32) float64 {
	for j := range a {
		a[j] = float64(m.C[j])
	}
	var f float64
	for i, v := range z {
		u := float64(v)
		if m.Visible == Gaussian {
			is := math.Exp(-float64(m.LogSigma[i]))
			d := (u - float64(m.B[i])) * is
			f += d * d / 2
			u *= is
		} else {
			f -= u * float64(m.B[i])
		}
		if u == 0 {
			continue
		}
		for j, w := range m.W.Row(i) {
			a[j] += u * float64(w)
		}
	}
	return f
}

// Energy returns E(x, h) for one visible vector x (data units) and hidden vector h.
// It panics on mismatched lengths.
func (m *RBM) Energy(x, h []float32) float64 {
	nv, nh := m.NumVisible(), m.NumHidden()
	if len(x) != nv || len(h) != nh {
		panic(fmt.Sprintf("rbm: Energy: len(x)=%d, len(h)=%d for a %d×%d RBM", len(x), len(h), nv, nh))
	}
	var e float64
	for j, hj := range h {
		e -= float64(hj) * float64(m.C[j])
	}
	for i, xi := range x {
		v := float64(xi)
		scale := 1.0
		if m.Visible == Gaussian {
			v = (v - float64(m.Mean[i])) / float64(m.Std[i])
			scale = math.Exp(-float64(m.LogSigma[i]))
			d := (v - float64(m.B[i])) * scale
			e += d * d / 2
		} else {
			e -= v * float64(m.B[i])
		}
		var s float64
		for j, w := range m.W.Row(i) {
			s += float64(w) * float64(h[j])
		}
		e -= v * scale * s
	}
	return e
}

// HiddenProbs returns the (n, nh) matrix of p(h_j = 1 | x_n) = σ(c_j + Σ_i u_ni W_ij),
// u = x (Bernoulli) or z/σ (Gaussian), for the rows x_n of x (dst reused when it has room).
func (m *RBM) HiddenProbs(dst, x *tensor.Mat) *tensor.Mat {
	u := m.hiddenInput(m.standardize(x))
	dst = tensor.Reuse(dst, x.Rows, m.NumHidden())
	tensor.Gemm(false, false, 1, u, m.W, 0, dst)
	for n := 0; n < dst.Rows; n++ {
		r := dst.Row(n)
		for j := range r {
			r[j] = sigmoid(r[j] + m.C[j])
		}
	}
	return dst
}

// VisibleMean returns the (n, nv) matrix of E[x | h_n] in data units (dst reused when it
// has room): σ(b + Wh) for Bernoulli units, Mean + Std·(b + σ⊙Wh) for Gaussian ones.
func (m *RBM) VisibleMean(dst, h *tensor.Mat) *tensor.Mat {
	if h.Cols != m.NumHidden() {
		panic(fmt.Sprintf("rbm: VisibleMean: h has %d columns, model has %d hidden units", h.Cols, m.NumHidden()))
	}
	dst = tensor.Reuse(dst, h.Rows, m.NumVisible())
	tensor.Gemm(false, true, 1, h, m.W, 0, dst)
	for n := 0; n < dst.Rows; n++ {
		r := dst.Row(n)
		for i := range r {
			if m.Visible == Gaussian {
				r[i] = m.B[i] + float32(math.Exp(float64(m.LogSigma[i])))*r[i]
			} else {
				r[i] = sigmoid(r[i] + m.B[i])
			}
		}
	}
	m.unstandardize(dst)
	return dst
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// finite reports whether every parameter is finite, and names the first that is not.
func (m *RBM) finite() (bool, string) {
	check := func(name string, xs []float32) (bool, string) {
		for i, x := range xs {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return false, fmt.Sprintf("%s[%d] = %g", name, i, x)
			}
		}
		return true, ""
	}
	for _, p := range []struct {
		n string
		x []float32
	}{{"W", m.W.Data}, {"b", m.B}, {"c", m.C}, {"log σ", m.LogSigma}} {
		if ok, s := check(p.n, p.x); !ok {
			return false, s
		}
	}
	return true, ""
}

// Clone returns a deep copy of m.
func (m *RBM) Clone() *RBM {
	c := *m
	c.W = weightMat(m.W.Rows, m.W.Cols)
	c.W.Copy(m.W)
	c.B = append([]float32(nil), m.B...)
	c.C = append([]float32(nil), m.C...)
	if m.LogSigma != nil {
		c.LogSigma = append([]float32(nil), m.LogSigma...)
		c.Mean = append([]float32(nil), m.Mean...)
		c.Std = append([]float32(nil), m.Std...)
	}
	return &c
}

// weightMat returns a zero nv×nh matrix laid out for the training step: with nh ≥ 64
// its rows are padded to a whole number of 64-byte cache lines (a stride that is a
// multiple of 16), so that the rows the sparse products gather start on a cache line
// (on the 784×500 RBM about 10% faster than a stride of 500). Smaller models keep
// contiguous rows. The padding stays zero.
func weightMat(nv, nh int) *tensor.Mat {
	stride := nh
	if nh >= 64 {
		stride = (nh + 15) &^ 15
	}
	return &tensor.Mat{Rows: nv, Cols: nh, Stride: stride, Data: make([]float32, nv*stride)}
}

// flat returns the elements of m in row-major order without padding: m.Data itself
// when the rows are contiguous, else a packed copy.
func flat(m *tensor.Mat) []float32 {
	if m.Contiguous() {
		return m.Data[:m.Rows*m.Cols]
	}
	out := make([]float32, 0, m.Rows*m.Cols)
	for i := 0; i < m.Rows; i++ {
		out = append(out, m.Row(i)...)
	}
	return out
}

// setFlat copies the row-major elements src (len Rows·Cols) into m.
func setFlat(m *tensor.Mat, src []float32) {
	for i := 0; i < m.Rows; i++ {
		copy(m.Row(i), src[i*m.Cols:(i+1)*m.Cols])
	}
}
