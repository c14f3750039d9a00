package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// SelfAttention is the single-head self-attention block of the DDPM U-Net (Ho
// et al. 2020, their code's AttnBlock) over the P = H·W positions of an NHWC
// image with C channels, with a residual connection:
//
//	g = GN(x),   [Q K V] = g·W_qkv + b_qkv                (P × C each, per image)
//	A = softmax(Q Kᵀ / √C)                                (P × P, rows sum to 1)
//	y = x + (A V)·W_o + b_o
//
// W_o starts at zero (as in Ho et al.'s code), so a new block is the identity.
// With dO = ∂L/∂(A V) (from the output projection's backward pass),
//
//	dA = dO Vᵀ,   dV = Aᵀ dO,   dS = A ⊙ (dA − rowsum(dA ⊙ A)),
//	dQ = dS K / √C,   dK = dSᵀ Q / √C,
//
// and ∂L/∂x = dy + GN's backward pass of dg = d[Q K V]·W_qkvᵀ. The products are
// per image; the images are done one after another, so the result does not
// depend on the number of workers.
type SelfAttention struct {
	H, W, C int
	Norm    *GroupNorm
	QKV     *Linear // C → 3C at every position
	Proj    *Linear // C → C at every position

	n          int
	a          []float32 // the attention matrices, n × P × P
	o, dqkv, y *tensor.Mat
	dx         *tensor.Mat
	da         *tensor.Mat // P × P scratch
}

// NewSelfAttention returns the block for h×w×c images, its GroupNorm with
// groups groups, W_qkv by Glorot from s and W_o zero.
func NewSelfAttention(h, w, c, groups int, s *rng.Stream) *SelfAttention {
	if h < 1 || w < 1 || c < 1 {
		panic(fmt.Sprintf("nn: NewSelfAttention: %d×%d×%d images", h, w, c))
	}
	l := &SelfAttention{H: h, W: w, C: c, Norm: NewGroupNorm(groups, h, w, c),
		QKV: NewLinear(c, 3*c, Glorot, s), Proj: NewLinear(c, c, Glorot, s)}
	clear(l.Proj.W.W)
	return l
}

// Params returns the GroupNorm's γ and β, W_qkv, b_qkv, W_o and b_o.
func (l *SelfAttention) Params() []*Param {
	ps := append(l.Norm.Params(), l.QKV.Params()...)
	return append(ps, l.Proj.Params()...)
}

// positions returns the contiguous matrix m (n rows of P·k values) viewed as
// n·P rows of k values.
func positions(m *tensor.Mat, p, k int) *tensor.Mat {
	if m.Stride != m.Cols {
		m = m.Clone()
	}
	return &tensor.Mat{Rows: m.Rows * p, Cols: k, Stride: k, Data: m.Data[:m.Rows*m.Cols]}
}

// imageRows returns rows [i·P, (i+1)·P) and columns [c0, c0+k) of m.
func imageRows(m *tensor.Mat, i, p, c0, k int) *tensor.Mat {
	o := i*p*m.Stride + c0
	return &tensor.Mat{Rows: p, Cols: k, Stride: m.Stride, Data: m.Data[o : o+(p-1)*m.Stride+k]}
}

// Forward returns y for the images x (n × H·W·C). It panics if x has another
// number of columns.
func (l *SelfAttention) Forward(x *tensor.Mat) *tensor.Mat {
	p, c := l.H*l.W, l.C
	if x.Cols != p*c {
		panic(fmt.Sprintf("nn: SelfAttention on %d×%d×%d images: rows have %d values", l.H, l.W, c, x.Cols))
	}
	n := x.Rows
	l.n = n
	qkv := l.QKV.Forward(positions(l.Norm.Forward(x), p, c)) // n·P × 3C
	if cap(l.a) < n*p*p {
		l.a = make([]float32, n*p*p)
	}
	l.a = l.a[:n*p*p]
	l.o = tensor.Reuse(l.o, n*p, c)
	scale := float32(1 / math.Sqrt(float64(c)))
	for i := 0; i < n; i++ {
		a := &tensor.Mat{Rows: p, Cols: p, Stride: p, Data: l.a[i*p*p : (i+1)*p*p]}
		q, k, v := imageRows(qkv, i, p, 0, c), imageRows(qkv, i, p, c, c), imageRows(qkv, i, p, 2*c, c)
		tensor.Gemm(false, true, scale, q, k, 0, a)
		for r := 0; r < p; r++ {
			softmaxRow(a.Row(r))
		}
		tensor.Gemm(false, false, 1, a, v, 0, imageRows(l.o, i, p, 0, c))
	}
	out := l.Proj.Forward(l.o)
	l.y = Add(l.y, x, &tensor.Mat{Rows: n, Cols: p * c, Stride: p * c, Data: out.Data[:n*p*c]})
	return l.y
}

// softmaxRow replaces r by softmax(r), the sum in float64.
func softmaxRow(r []float32) {
	mx := r[0]
	for _, v := range r[1:] {
		mx = max(mx, v)
	}
	var s float64
	for j, v := range r {
		e := math.Exp(float64(v - mx))
		r[j] = float32(e)
		s += e
	}
	inv := float32(1 / s)
	for j := range r {
		r[j] *= inv
	}
}

// Backward sets the parameters' gradients for dy = ∂L/∂y and returns ∂L/∂x.
func (l *SelfAttention) Backward(dy *tensor.Mat) *tensor.Mat {
	p, c, n := l.H*l.W, l.C, l.n
	if dy.Rows != n || dy.Cols != p*c {
		panic(fmt.Sprintf("nn: SelfAttention: dy is %d×%d after a batch of %d images of %d values", dy.Rows, dy.Cols, n, p*c))
	}
	do := l.Proj.Backward(positions(dy, p, c)) // n·P × C
	qkv := l.QKV.y
	l.dqkv = tensor.Reuse(l.dqkv, n*p, 3*c)
	l.da = tensor.Reuse(l.da, p, p)
	scale := float32(1 / math.Sqrt(float64(c)))
	for i := 0; i < n; i++ {
		a := &tensor.Mat{Rows: p, Cols: p, Stride: p, Data: l.a[i*p*p : (i+1)*p*p]}
		q, k, v := imageRows(qkv, i, p, 0, c), imageRows(qkv, i, p, c, c), imageRows(qkv, i, p, 2*c, c)
		doi := imageRows(do, i, p, 0, c)
		tensor.Gemm(false, true, 1, doi, v, 0, l.da)                            // dA = dO Vᵀ
		tensor.Gemm(true, false, 1, a, doi, 0, imageRows(l.dqkv, i, p, 2*c, c)) // dV = Aᵀ dO
		for r := 0; r < p; r++ {
			ar, dr := a.Row(r), l.da.Row(r)
			var dot float64
			for j, av := range ar {
				dot += float64(av) * float64(dr[j])
			}
			d := float32(dot)
			for j, av := range ar {
				dr[j] = av * (dr[j] - d)
			}
		}
		tensor.Gemm(false, false, scale, l.da, k, 0, imageRows(l.dqkv, i, p, 0, c)) // dQ = dS K/√C
		tensor.Gemm(true, false, scale, l.da, q, 0, imageRows(l.dqkv, i, p, c, c))  // dK = dSᵀ Q/√C
	}
	dg := l.QKV.Backward(l.dqkv) // n·P × C
	dxg := l.Norm.Backward(&tensor.Mat{Rows: n, Cols: p * c, Stride: p * c, Data: dg.Data[:n*p*c]})
	l.dx = Add(l.dx, dy, dxg)
	return l.dx
}
