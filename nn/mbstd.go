package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// MinibatchStd is the minibatch standard-deviation layer of Karras et al. 2018
// ("Progressive growing of GANs", section 3): for a batch of H×W×C feature maps
// (NHWC rows) it appends one channel holding, at every pixel of every example,
//
//	s = (1/(H·W·C)) Σ_j √(v_j + ε),   v_j = (1/B) Σ_b (x_bj − μ_j)²,
//
// the mean over features j of their standard deviation across the batch. A
// discriminator given s sees at once how varied a batch is, so a generator that
// covers few modes is told apart from the data. Its adjoint adds to every input
//
//	∂L/∂x_bj = dy_bj + (Σ dy over the appended channel) · (x_bj − μ_j)/(H·W·C·B·√(v_j + ε)).
//
// Sums run in float64, example by example in order (the same bits for any
// number of workers).
type MinibatchStd struct {
	H, W, C int
	Eps     float64

	x     *tensor.Mat
	y, dx *tensor.Mat
	mu    []float64 // μ_j
	isd   []float64 // 1/√(v_j + ε)
}

// NewMinibatchStd returns the layer for h×w×c feature maps with ε = 1e-8.
func NewMinibatchStd(h, w, c int) *MinibatchStd {
	if h < 1 || w < 1 || c < 1 {
		panic(fmt.Sprintf("nn: NewMinibatchStd: %d×%d×%d feature maps", h, w, c))
	}
	return &MinibatchStd{H: h, W: w, C: c, Eps: 1e-8}
}

// OutDim returns the values per output row, H·W·(C+1).
func (m *MinibatchStd) OutDim() int { return m.H * m.W * (m.C + 1) }

// Params returns nil.
func (m *MinibatchStd) Params() []*Param { return nil }

// Forward appends the channel s to every pixel. It panics if x.Cols != H·W·C.
func (m *MinibatchStd) Forward(x *tensor.Mat) *tensor.Mat {
	d := m.H * m.W * m.C
	if x.Cols != d {
		panic(fmt.Sprintf("nn: MinibatchStd: input has %d values per row, want %d×%d×%d", x.Cols, m.H, m.W, m.C))
	}
	m.x = x
	if len(m.mu) != d {
		m.mu, m.isd = make([]float64, d), make([]float64, d)
	}
	clear(m.mu)
	clear(m.isd)
	for b := 0; b < x.Rows; b++ {
		for j, v := range x.Row(b) {
			m.mu[j] += float64(v)
		}
	}
	n := float64(x.Rows)
	for j := range m.mu {
		m.mu[j] /= n
	}
	for b := 0; b < x.Rows; b++ {
		for j, v := range x.Row(b) {
			e := float64(v) - m.mu[j]
			m.isd[j] += e * e
		}
	}
	var s float64
	for j, v := range m.isd {
		sd := math.Sqrt(v/n + m.Eps)
		s += sd
		m.isd[j] = 1 / sd
	}
	s32 := float32(s / float64(d))
	m.y = tensor.Reuse(m.y, x.Rows, m.OutDim())
	for b := 0; b < x.Rows; b++ {
		src, dst := x.Row(b), m.y.Row(b)
		for p := 0; p < m.H*m.W; p++ {
			copy(dst[p*(m.C+1):], src[p*m.C:(p+1)*m.C])
			dst[p*(m.C+1)+m.C] = s32
		}
	}
	return m.y
}

// Backward returns ∂L/∂x after Forward.
func (m *MinibatchStd) Backward(dy *tensor.Mat) *tensor.Mat {
	x := m.x
	if dy.Rows != x.Rows || dy.Cols != m.OutDim() {
		panic(fmt.Sprintf("nn: MinibatchStd: dy is %d×%d, want %d×%d", dy.Rows, dy.Cols, x.Rows, m.OutDim()))
	}
	var ds float64
	for b := 0; b < dy.Rows; b++ {
		r := dy.Row(b)
		for p := 0; p < m.H*m.W; p++ {
			ds += float64(r[p*(m.C+1)+m.C])
		}
	}
	k := ds / float64(m.H*m.W*m.C*x.Rows)
	m.dx = tensor.Reuse(m.dx, x.Rows, x.Cols)
	for b := 0; b < x.Rows; b++ {
		src, xr, dst := dy.Row(b), x.Row(b), m.dx.Row(b)
		for p := 0; p < m.H*m.W; p++ {
			for c := 0; c < m.C; c++ {
				j := p*m.C + c
				dst[j] = float32(float64(src[p*(m.C+1)+c]) + k*(float64(xr[j])-m.mu[j])*m.isd[j])
			}
		}
	}
	return m.dx
}
