package nn

import (
	"fmt"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Dropout zeroes each value with probability P during training and scales the
// survivors by 1/(1−P) ("inverted" dropout, Srivastava et al. 2014, as PyTorch's
// nn.Dropout), so that evaluation is the identity:
//
//	training:    y = x ⊙ m,   m_i = [u_i ≥ P]/(1 − P),  u_i ~ U[0, 1)     ∂L/∂x = dy ⊙ m
//	evaluation:  y = x                                                    ∂L/∂x = dy
//
// The mask is drawn from Src, one uniform per value in row-major order on the
// calling goroutine, so it depends only on Src's state, never on the number of
// workers. Src is the caller's: save its state in checkpoints for a bit-identical
// resume. P = 1 gives zeros (as PyTorch does).
type Dropout struct {
	P   float64
	Src *rng.Stream

	training, fwdIdentity bool
	mask, y, dx           *tensor.Mat
}

// NewDropout returns a Dropout with probability p drawing from s, in training
// mode. It panics unless 0 ≤ p ≤ 1.
func NewDropout(p float64, s *rng.Stream) *Dropout {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("nn: NewDropout: probability %g outside [0, 1]", p))
	}
	return &Dropout{P: p, Src: s, training: true}
}

// SetTraining selects the random mask (on) or the identity (off).
func (d *Dropout) SetTraining(on bool) { d.training = on }

// Training reports whether d is in training mode.
func (d *Dropout) Training() bool { return d.training }

// Params returns nil.
func (d *Dropout) Params() []*Param { return nil }

// Forward returns x ⊙ m in training mode (a fresh mask each call) and x itself in
// evaluation mode or when P = 0. It panics in training mode if Src is nil.
func (d *Dropout) Forward(x *tensor.Mat) *tensor.Mat {
	d.fwdIdentity = !d.training || d.P == 0
	if d.fwdIdentity {
		return x
	}
	if d.Src == nil {
		panic("nn: Dropout: nil random stream in training mode")
	}
	d.mask = tensor.Reuse(d.mask, x.Rows, x.Cols)
	d.Src.FillUniform(d.mask.Data[:x.Rows*x.Cols])
	p := float32(d.P)
	scale := float32(1 / (1 - d.P))
	if d.P >= 1 {
		scale = 0
	}
	d.y = tensor.Reuse(d.y, x.Rows, x.Cols)
	j := newRowJob(func(j *rowJob, lo, hi int) {
		p, scale := j.x32, float32(j.y64)
		for i := lo; i < hi; i++ {
			m, x, y := j.a.Row(i), j.b.Row(i), j.c.Row(i)
			for k, u := range m {
				if u >= p {
					m[k] = scale
				} else {
					m[k] = 0
				}
				y[k] = x[k] * m[k]
			}
		}
	})
	j.a, j.b, j.c, j.x32, j.y64 = d.mask, x, d.y, p, float64(scale)
	forRows(x.Rows, x.Cols, j)
	return d.y
}

// Backward returns dy ⊙ m (dy itself after an identity Forward).
func (d *Dropout) Backward(dy *tensor.Mat) *tensor.Mat {
	if d.fwdIdentity {
		return dy
	}
	if dy.Rows != d.mask.Rows || dy.Cols != d.mask.Cols {
		panic(fmt.Sprintf("nn: Dropout: dy is %d×%d, input was %d×%d", dy.Rows, dy.Cols, d.mask.Rows, d.mask.Cols))
	}
	d.dx = tensor.Reuse(d.dx, dy.Rows, dy.Cols)
	j := newRowJob(func(j *rowJob, lo, hi int) {
		for i := lo; i < hi; i++ {
			m, dy, dx := j.a.Row(i), j.b.Row(i), j.c.Row(i)
			for k, v := range dy {
				dx[k] = v * m[k]
			}
		}
	})
	j.a, j.b, j.c = d.mask, dy, d.dx
	forRows(dy.Rows, dy.Cols, j)
	return d.dx
}
