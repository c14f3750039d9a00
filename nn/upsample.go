package nn

import (
	"fmt"

	"github.com/latent-ml/latent/tensor"
)

// Upsample is nearest-neighbour upsampling of NHWC images by an integer factor
// S (PyTorch's nn.Upsample(scale_factor=S, mode="nearest")), from H×W×C to
// SH×SW×C: every pixel becomes an S×S block,
//
//	y[S·i + a, S·j + b, c] = x[i, j, c]          (0 ≤ a, b < S)
//
// and the adjoint sums each block back:
//
//	∂L/∂x[i, j, c] = Σ_{a,b < S} dy[S·i + a, S·j + b, c].
type Upsample struct {
	H, W, C, Scale int

	batch int
	y, dx *tensor.Mat
}

// NewUpsample returns the ×scale upsampling of h×w×c images (scale 2 for a U-Net).
func NewUpsample(h, w, c, scale int) *Upsample {
	if h < 1 || w < 1 || c < 1 || scale < 1 {
		panic(fmt.Sprintf("nn: NewUpsample: %d×%d×%d images, scale %d", h, w, c, scale))
	}
	return &Upsample{H: h, W: w, C: c, Scale: scale}
}

// OutDim returns the number of values per output row, S·H·S·W·C.
func (u *Upsample) OutDim() int { return u.Scale * u.H * u.Scale * u.W * u.C }

// Params returns nil.
func (u *Upsample) Params() []*Param { return nil }

// Forward copies every pixel into its S×S block. It panics if x.Cols != H·W·C.
func (u *Upsample) Forward(x *tensor.Mat) *tensor.Mat {
	if x.Cols != u.H*u.W*u.C {
		panic(fmt.Sprintf("nn: Upsample: input has %d values per row, want %d×%d×%d", x.Cols, u.H, u.W, u.C))
	}
	u.batch = x.Rows
	u.y = tensor.Reuse(u.y, x.Rows, u.OutDim())
	j := newRowJob(func(j *rowJob, lo, hi int) {
		g := j.geom // InH, InW, InC, Stride = S
		s, c := g.Stride, g.InC
		ow := s * g.InW * c // values per output image row
		for n := lo; n < hi; n++ {
			x, y := j.a.Row(n), j.b.Row(n)
			for i := 0; i < g.InH; i++ {
				dst := y[s*i*ow : (s*i+1)*ow]
				src := x[i*g.InW*c : (i+1)*g.InW*c]
				for jx := 0; jx < g.InW; jx++ {
					px := src[jx*c : (jx+1)*c]
					for b := 0; b < s; b++ {
						copy(dst[(s*jx+b)*c:], px)
					}
				}
				for a := 1; a < s; a++ {
					copy(y[(s*i+a)*ow:(s*i+a+1)*ow], dst)
				}
			}
		}
	})
	j.a, j.b = x, u.y
	j.geom = ConvGeom{InH: u.H, InW: u.W, InC: u.C, Stride: u.Scale}
	forRows(x.Rows, u.OutDim(), j)
	return u.y
}

// Backward sums each S×S block of dy onto its source pixel (rows of the block in
// order, then columns: a fixed order).
func (u *Upsample) Backward(dy *tensor.Mat) *tensor.Mat {
	if dy.Rows != u.batch || dy.Cols != u.OutDim() {
		panic(fmt.Sprintf("nn: Upsample: dy is %d×%d, want %d×%d", dy.Rows, dy.Cols, u.batch, u.OutDim()))
	}
	u.dx = tensor.Reuse(u.dx, dy.Rows, u.H*u.W*u.C)
	j := newRowJob(func(j *rowJob, lo, hi int) {
		g := j.geom
		s, c := g.Stride, g.InC
		ow := s * g.InW * c
		for n := lo; n < hi; n++ {
			dy, dx := j.a.Row(n), j.b.Row(n)
			clear(dx)
			for i := 0; i < g.InH; i++ {
				dst := dx[i*g.InW*c : (i+1)*g.InW*c]
				for a := 0; a < s; a++ {
					src := dy[(s*i+a)*ow : (s*i+a+1)*ow]
					for jx := 0; jx < g.InW; jx++ {
						d := dst[jx*c : (jx+1)*c]
						for b := 0; b < s; b++ {
							for k, v := range src[(s*jx+b)*c : (s*jx+b+1)*c] {
								d[k] += v
							}
						}
					}
				}
			}
		}
	})
	j.a, j.b = dy, u.dx
	j.geom = ConvGeom{InH: u.H, InW: u.W, InC: u.C, Stride: u.Scale}
	forRows(dy.Rows, u.OutDim(), j)
	return u.dx
}
