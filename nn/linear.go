package nn

import (
	"fmt"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Linear is the affine layer
//
//	y = x·W + b        x (batch, In), W (In, Out), b (Out), y (batch, Out)
//
// with gradients
//
//	∂L/∂W = xᵀ·dy,   ∂L/∂b = Σ_rows dy,   ∂L/∂x = dy·Wᵀ.
type Linear struct {
	In, Out int
	W, B    *Param
	// NoInputGrad skips ∂L/∂x in Backward (which then returns nil): set it on the
	// first layer of a network whose input is data, saving one GEMM per step.
	NoInputGrad bool
	// NoParamGrad skips ∂L/∂W and ∂L/∂b in Backward, leaving W.G and B.G as they
	// are: for a network differentiated only in its input (see SetParamGrad).
	NoParamGrad bool

	wm, gm   *tensor.Mat // W.W and W.G as In×Out matrices
	x, y, dx *tensor.Mat
}

// NewLinear returns an in→out affine layer initialised by init from s.
func NewLinear(in, out int, init Init, s *rng.Stream) *Linear {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("nn: NewLinear: sizes %d→%d", in, out))
	}
	l := &Linear{In: in, Out: out, W: NewParam("W", in, out), B: NewParam("b", out)}
	initWeights(l.W.W, l.B.W, in, out, init, s)
	l.wm, l.gm = l.W.Mat(in, out), l.W.GradMat(in, out)
	return l
}

// Forward computes y = x·W + b. It panics if x.Cols != In.
func (l *Linear) Forward(x *tensor.Mat) *tensor.Mat {
	if x.Cols != l.In {
		panic(fmt.Sprintf("nn: Linear %d→%d: input has %d columns", l.In, l.Out, x.Cols))
	}
	l.x = x
	l.y = tensor.Reuse(l.y, x.Rows, l.Out)
	j := newRowJob(func(j *rowJob, lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(j.a.Row(i), j.f32)
		}
	})
	j.a, j.f32 = l.y, l.B.W
	forRows(x.Rows, l.Out, j)
	tensor.Gemm(false, false, 1, x, l.wm, 1, l.y)
	return l.y
}

// Backward sets ∂L/∂W = xᵀ·dy and ∂L/∂b = Σ_rows dy and returns ∂L/∂x = dy·Wᵀ
// (nil when NoInputGrad is set).
func (l *Linear) Backward(dy *tensor.Mat) *tensor.Mat {
	if dy.Rows != l.x.Rows || dy.Cols != l.Out {
		panic(fmt.Sprintf("nn: Linear %d→%d: dy is %d×%d after a batch of %d", l.In, l.Out, dy.Rows, dy.Cols, l.x.Rows))
	}
	if !l.NoParamGrad {
		tensor.Gemm(true, false, 1, l.x, dy, 0, l.gm)
		colSum(l.B.G, dy)
	}
	if l.NoInputGrad {
		return nil
	}
	l.dx = tensor.Reuse(l.dx, dy.Rows, l.In)
	tensor.Gemm(false, true, 1, dy, l.wm, 0, l.dx)
	return l.dx
}

// Params returns W and b.
func (l *Linear) Params() []*Param { return []*Param{l.W, l.B} }
