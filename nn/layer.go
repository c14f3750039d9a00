package nn

import (
	"fmt"

	"github.com/latent-ml/latent/tensor"
)

// Layer is one differentiable step y = f(x; θ) applied to every row of a batch.
//
// Forward returns y in a layer-owned buffer; Backward takes dy = ∂L/∂y for the batch
// of the last Forward, sets each parameter's G to ∂L/∂θ (summed over the batch) and
// returns dx = ∂L/∂x. Params lists the trainable parameters (none for activations).
type Layer interface {
	Forward(x *tensor.Mat) *tensor.Mat
	Backward(dy *tensor.Mat) *tensor.Mat
	Params() []*Param
}

// Sequential applies its layers in order: y = f_n(…f_2(f_1(x))).
// Backward runs the chain rule in reverse order.
type Sequential struct {
	Layers []Layer
}

// NewSequential returns the stack of layers.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Forward runs every layer in order.
func (s *Sequential) Forward(x *tensor.Mat) *tensor.Mat {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

// Backward runs every layer's Backward in reverse order and returns ∂L/∂x.
// If the first layer skips its input gradient (see Linear.NoInputGrad) the result
// is nil.
func (s *Sequential) Backward(dy *tensor.Mat) *tensor.Mat {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		dy = s.Layers[i].Backward(dy)
	}
	return dy
}

// Params returns the parameters of all layers, in layer order.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Reshape is the identity on data: it reinterprets each row, for example the NHWC
// output of a convolution, (H, W, C), as a flat vector of H·W·C values, or back.
// Because images are stored NHWC row by row, it copies nothing; it only checks that
// rows have In values. It serves as Flatten too.
type Reshape struct {
	In int // values per row, checked on every call
}

// Flatten returns a Reshape of rows with h·w·c values.
func Flatten(h, w, c int) *Reshape { return &Reshape{In: h * w * c} }

// Forward returns x unchanged. It panics if x.Cols != In.
func (r *Reshape) Forward(x *tensor.Mat) *tensor.Mat {
	if x.Cols != r.In {
		panic(fmt.Sprintf("nn: Reshape: rows have %d values, want %d", x.Cols, r.In))
	}
	return x
}

// Backward returns dy unchanged: the Jacobian of a reshape is the identity.
func (r *Reshape) Backward(dy *tensor.Mat) *tensor.Mat { return dy }

// Params returns nil.
func (r *Reshape) Params() []*Param { return nil }

// grainRows returns a piece size (in rows) such that one piece touches about
// 16k values: big enough to amortise scheduling, small enough to share work.
// It depends only on the shape, so results do not depend on the worker count.
func grainRows(cols int) int {
	g := 16384 / max(cols, 1)
	return max(g, 1)
}

// forRows runs fn over the rows of an r×c problem in parallel pieces.
func forRows(rows, cols int, fn func(lo, hi int)) {
	if rows*cols < 32768 {
		fn(0, rows)
		return
	}
	tensor.ParallelFor(rows, grainRows(cols), fn)
}

// colSum sets dst[j] = Σ_i m[i,j], accumulating each column in float64 in row
// order, split over columns (deterministic).
func colSum(dst []float32, m *tensor.Mat) {
	if len(dst) != m.Cols {
		panic(fmt.Sprintf("nn: colSum: len %d != %d cols", len(dst), m.Cols))
	}
	const piece = 64
	body := func(lo, hi int) {
		var acc [piece]float64
		a := acc[:hi-lo]
		for i := 0; i < m.Rows; i++ {
			r := m.Row(i)[lo:hi]
			for j, v := range r {
				a[j] += float64(v)
			}
		}
		for j, v := range a {
			dst[lo+j] = float32(v)
		}
	}
	if m.Rows*m.Cols < 32768 {
		for lo := 0; lo < m.Cols; lo += piece {
			body(lo, min(lo+piece, m.Cols))
		}
		return
	}
	tensor.ParallelFor(m.Cols, piece, body)
}
