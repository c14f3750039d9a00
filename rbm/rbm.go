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

	// Keep and Fill describe data columns left out of a Gaussian RBM because
	// they were constant in the training data (the border pixels of MNIST), so
	// that there is no spread to standardise (see InitFromData). Visible unit i
	// models data column Keep[i]; Fill holds a value for every data column,
	// which samples and means take in the columns left out. Keep is nil when
	// every data column is modelled; then the data have nv columns.
	Keep []int
	Fill []float32

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

// DataDim returns the number of values in a row of data: NumVisible plus the
// constant columns left out of a Gaussian RBM (Keep).
func (m *RBM) DataDim() int {
	if m.Keep == nil {
		return m.NumVisible()
	}
	return len(m.Fill)
}

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
//     σ = 1. A column that is constant in x (Std ≤ 1e-8·max(1, |Mean|)) has no
//     spread to standardise: it is left out of the model, which then has one
//     visible unit fewer (W, B, LogSigma, Mean and Std shrink; Keep and Fill
//     record the column and its value, see RBM). Samples and means take the
//     value in that column, and log-likelihoods are those of the modelled
//     columns. Every column constant is an error.
//
// x has DataDim() columns: the width of the data, not of a model already trimmed.
func (m *RBM) InitFromData(x *tensor.Mat, s *rng.Stream) error {
	if x.Cols != m.DataDim() {
		return fmt.Errorf("rbm: data has %d columns, model has %d visible units", x.Cols, m.DataDim())
	}
	if x.Rows < 1 {
		return fmt.Errorf("rbm: no training examples")
	}
	mean, std := columnMoments(x)
	if m.Visible == Gaussian {
		if err := m.keepSpread(mean, std); err != nil {
			return err
		}
	}
	nv, nh := m.NumVisible(), m.NumHidden()
	w := make([]float32, nv*nh) // one draw in row-major order, whatever W's stride
	s.FillNormal(w, 0, 0.01)
	setFlat(m.W, w)
	clear(m.C)
	switch m.Visible {
	case Bernoulli:
		for i := range m.B {
			p := min(max(mean[i], 1e-3), 1-1e-3)
			m.B[i] = float32(math.Log(p / (1 - p)))
		}
	case Gaussian:
		for i := range m.B {
			c := m.column(i)
			m.Mean[i], m.Std[i] = float32(mean[c]), float32(std[c])
			m.B[i], m.LogSigma[i] = 0, 0
		}
	}
	return nil
}

// keepSpread resizes a Gaussian RBM to the columns whose std is positive and
// records the others' values in Keep and Fill (Keep nil when none is constant).
func (m *RBM) keepSpread(mean, std []float64) error {
	var keep []int
	fill := make([]float32, len(mean))
	for c := range mean {
		fill[c] = float32(mean[c])
		if std[c] > 1e-8*max(1, math.Abs(mean[c])) {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return fmt.Errorf("rbm: Gaussian RBM: every column of the data is constant; there is nothing to model")
	}
	nh := m.NumHidden()
	m.Keep, m.Fill = nil, nil
	if len(keep) < len(mean) {
		m.Keep, m.Fill = keep, fill
	}
	if nv := len(keep); nv != m.NumVisible() {
		m.W = weightMat(nv, nh)
		m.B, m.LogSigma = make([]float32, nv), make([]float32, nv)
		m.Mean, m.Std = make([]float32, nv), make([]float32, nv)
	}
	return nil
}

// column returns the data column of visible unit i.
func (m *RBM) column(i int) int {
	if m.Keep == nil {
		return i
	}
	return m.Keep[i]
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

// standardize returns x (DataDim columns) in model units: x itself for
// Bernoulli, a standardised copy (x − Mean)/Std of the modelled columns for
// Gaussian.
func (m *RBM) standardize(x *tensor.Mat) *tensor.Mat {
	m.checkData(x)
	if m.Visible != Gaussian {
		return x
	}
	return m.standardizeInto(tensor.New(x.Rows, m.NumVisible()), x)
}

// standardizeInto sets the rows of z (x.Rows × NumVisible, reused) to the
// standardised modelled columns of x, and returns it.
func (m *RBM) standardizeInto(z, x *tensor.Mat) *tensor.Mat {
	z = tensor.Reuse(z, x.Rows, m.NumVisible())
	for n := 0; n < x.Rows; n++ {
		zr, xr := z.Row(n), x.Row(n)
		for i := range zr {
			zr[i] = (xr[m.column(i)] - m.Mean[i]) / m.Std[i]
		}
	}
	return z
}

// toData maps model-unit rows z to data units: in place for a Bernoulli RBM or
// one that models every column; else into a new (z.Rows, DataDim) matrix whose
// columns left out hold Fill.
func (m *RBM) toData(z *tensor.Mat) *tensor.Mat {
	if m.Visible != Gaussian {
		return z
	}
	x := z
	if m.Keep != nil {
		x = tensor.New(z.Rows, m.DataDim())
	}
	for n := 0; n < z.Rows; n++ {
		zr, xr := z.Row(n), x.Row(n)
		if m.Keep != nil {
			copy(xr, m.Fill)
		}
		for i, v := range zr {
			xr[m.column(i)] = v*m.Std[i] + m.Mean[i]
		}
	}
	return x
}

func (m *RBM) checkData(x *tensor.Mat) {
	if x.Cols != m.DataDim() {
		panic(fmt.Sprintf("rbm: data has %d columns, model has %d visible units", x.Cols, m.DataDim()))
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

// Energy returns E(x, h) for one visible vector x (data units, DataDim values) and
// hidden vector h. It panics on mismatched lengths.
func (m *RBM) Energy(x, h []float32) float64 {
	nv, nh := m.NumVisible(), m.NumHidden()
	if len(x) != m.DataDim() || len(h) != nh {
		panic(fmt.Sprintf("rbm: Energy: len(x)=%d, len(h)=%d for a %d×%d RBM", len(x), len(h), m.DataDim(), nh))
	}
	var e float64
	for j, hj := range h {
		e -= float64(hj) * float64(m.C[j])
	}
	for i := 0; i < nv; i++ {
		v := float64(x[m.column(i)])
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

// VisibleMean returns the (n, DataDim) matrix of E[x | h_n] in data units (dst reused
// when it has room): σ(b + Wh) for Bernoulli units, Mean + Std·(b + σ⊙Wh) for
// Gaussian ones (Fill in the columns left out).
func (m *RBM) VisibleMean(dst, h *tensor.Mat) *tensor.Mat {
	if h.Cols != m.NumHidden() {
		panic(fmt.Sprintf("rbm: VisibleMean: h has %d columns, model has %d hidden units", h.Cols, m.NumHidden()))
	}
	z := dst
	if m.Keep != nil {
		z = nil
	}
	z = tensor.Reuse(z, h.Rows, m.NumVisible())
	tensor.Gemm(false, true, 1, h, m.W, 0, z)
	for n := 0; n < z.Rows; n++ {
		r := z.Row(n)
		for i := range r {
			if m.Visible == Gaussian {
				r[i] = m.B[i] + float32(math.Exp(float64(m.LogSigma[i])))*r[i]
			} else {
				r[i] = sigmoid(r[i] + m.B[i])
			}
		}
	}
	x := m.toData(z)
	if m.Keep != nil && dst != nil {
		dst = tensor.Reuse(dst, x.Rows, x.Cols)
		dst.Copy(x)
		return dst
	}
	return x
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
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
	if m.Keep != nil {
		c.Keep = append([]int(nil), m.Keep...)
		c.Fill = append([]float32(nil), m.Fill...)
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
