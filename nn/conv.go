package nn

import (
	"fmt"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// ConvGeom is the geometry of a 2-D convolution from InH×InW×InC images to
// OutH×OutW×OutC images (NHWC), with a square K×K kernel, the same stride and zero
// padding in both directions:
//
//	OutH = ⌊(InH + 2·Pad − K)/Stride⌋ + 1,  and likewise OutW.
type ConvGeom struct {
	InH, InW, InC int
	OutC          int
	K, Stride     int
	Pad           int
}

// OutH returns the output height.
func (g ConvGeom) OutH() int { return (g.InH+2*g.Pad-g.K)/g.Stride + 1 }

// OutW returns the output width.
func (g ConvGeom) OutW() int { return (g.InW+2*g.Pad-g.K)/g.Stride + 1 }

func (g ConvGeom) check(op string) {
	if g.InH < 1 || g.InW < 1 || g.InC < 1 || g.OutC < 1 || g.K < 1 || g.Stride < 1 || g.Pad < 0 ||
		g.InH+2*g.Pad < g.K || g.InW+2*g.Pad < g.K {
		panic(fmt.Sprintf("nn: %s: bad geometry %+v", op, g))
	}
}

// im2col writes, for each example b and output position (oy, ox), the K×K×InC input
// patch under the kernel into row b·OutH·OutW + oy·OutW + ox of cols, column
// (ky·K + kx)·InC + c, with zeros where the kernel overhangs the padded border:
//
//	cols[(b,oy,ox), (ky,kx,c)] = x[b, oy·S − P + ky, ox·S − P + kx, c].
//
// Examples are split over workers; each writes only its own rows.
func im2col(cols, x *tensor.Mat, g ConvGeom) {
	j := newRowJob(func(j *rowJob, lo, hi int) {
		cols, x, g := j.a, j.b, j.geom
		oh, ow := g.OutH(), g.OutW()
		kc := g.K * g.K * g.InC
		for b := lo; b < hi; b++ {
			img := x.Row(b)
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					row := cols.Row((b*oh+oy)*ow + ox)[:kc]
					for ky := 0; ky < g.K; ky++ {
						iy := oy*g.Stride - g.Pad + ky
						dst := row[ky*g.K*g.InC : (ky+1)*g.K*g.InC]
						if iy < 0 || iy >= g.InH {
							clear(dst)
							continue
						}
						// A patch row inside the image is one contiguous run of K·InC
						// values (a 5-wide copy instead of five 1-wide ones for InC = 1).
						if ix0 := ox*g.Stride - g.Pad; ix0 >= 0 && ix0+g.K <= g.InW {
							copy(dst, img[(iy*g.InW+ix0)*g.InC:])
							continue
						}
						for kx := 0; kx < g.K; kx++ {
							ix := ox*g.Stride - g.Pad + kx
							d := dst[kx*g.InC : (kx+1)*g.InC]
							if ix < 0 || ix >= g.InW {
								clear(d)
								continue
							}
							copy(d, img[(iy*g.InW+ix)*g.InC:])
						}
					}
				}
			}
		}
	})
	j.a, j.b, j.geom = cols, x, g
	j.parallel(x.Rows, 1)
}

// col2im is the adjoint of im2col: it sets x to zero and adds every patch value of
// cols back onto the input pixel it came from,
//
//	x[b, iy, ix, c] = Σ_{(oy,ox,ky,kx) : oy·S−P+ky = iy, ox·S−P+kx = ix} cols[(b,oy,ox), (ky,kx,c)].
//
// Each example is summed by one worker in a fixed order (deterministic).
func col2im(x, cols *tensor.Mat, g ConvGeom) {
	j := newRowJob(func(j *rowJob, lo, hi int) {
		x, cols, g := j.a, j.b, j.geom
		oh, ow := g.OutH(), g.OutW()
		for b := lo; b < hi; b++ {
			img := x.Row(b)
			clear(img)
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					row := cols.Row((b*oh+oy)*ow + ox)
					for ky := 0; ky < g.K; ky++ {
						iy := oy*g.Stride - g.Pad + ky
						if iy < 0 || iy >= g.InH {
							continue
						}
						// Inside the image the patch row is one contiguous run (each
						// value still lands on its own pixel, in the same order).
						if ix0 := ox*g.Stride - g.Pad; ix0 >= 0 && ix0+g.K <= g.InW {
							n := g.K * g.InC
							src := row[ky*n : (ky+1)*n]
							dst := img[(iy*g.InW+ix0)*g.InC:][:n]
							for c, v := range src {
								dst[c] += v
							}
							continue
						}
						for kx := 0; kx < g.K; kx++ {
							ix := ox*g.Stride - g.Pad + kx
							if ix < 0 || ix >= g.InW {
								continue
							}
							src := row[(ky*g.K+kx)*g.InC : (ky*g.K+kx+1)*g.InC]
							dst := img[(iy*g.InW+ix)*g.InC : (iy*g.InW+ix+1)*g.InC]
							for c, v := range src {
								dst[c] += v
							}
						}
					}
				}
			}
		}
	})
	j.a, j.b, j.geom = x, cols, g
	j.parallel(x.Rows, 1)
}

// view points v at m's storage reshaped to rows×cols; m must be contiguous.
func view(v, m *tensor.Mat, rows, cols int) *tensor.Mat {
	if !m.Contiguous() || rows*cols != m.Rows*m.Cols {
		panic(fmt.Sprintf("nn: cannot view a %d×%d (stride %d) matrix as %d×%d", m.Rows, m.Cols, m.Stride, rows, cols))
	}
	if v == nil {
		v = new(tensor.Mat)
	}
	v.Rows, v.Cols, v.Stride = rows, cols, cols
	v.Data = m.Data[:rows*cols]
	return v
}

// contiguous returns m if its rows are stored back to back, else a copy in *buf.
func contiguous(buf **tensor.Mat, m *tensor.Mat) *tensor.Mat {
	if m.Contiguous() {
		return m
	}
	*buf = tensor.Reuse(*buf, m.Rows, m.Cols)
	(*buf).Copy(m)
	return *buf
}

// addChannelBias adds b[c] to every value of channel c in the flat NHWC matrix m,
// seen as (positions, C).
func addChannelBias(m *tensor.Mat, b []float32) {
	j := newRowJob(func(j *rowJob, lo, hi int) {
		b := j.f32
		for i := lo; i < hi; i++ {
			r := j.a.Row(i)
			for k := 0; k < len(r); k += len(b) {
				for c, v := range b {
					r[k+c] += v
				}
			}
		}
	})
	j.a, j.f32 = m, b
	forRows(m.Rows, m.Cols, j)
}

// Conv2D is a 2-D convolution (cross-correlation, as in every deep-learning
// library) over NHWC images, computed as one GEMM on the im2col patches:
//
//	P = im2col(x)            (batch·OutH·OutW, K·K·InC)
//	y = P·W + b              (batch·OutH·OutW, OutC) = (batch, OutH·OutW·OutC) NHWC
//
// with gradients
//
//	∂L/∂W = Pᵀ·dy,   ∂L/∂b = Σ_{positions} dy,   ∂L/∂x = col2im(dy·Wᵀ).
type Conv2D struct {
	Geom ConvGeom
	W, B *Param // W is (K·K·InC, OutC), row (ky·K+kx)·InC + c
	// NoInputGrad skips ∂L/∂x in Backward (which then returns nil).
	NoInputGrad bool
	// NoParamGrad skips ∂L/∂W and ∂L/∂b in Backward, leaving W.G and B.G as they
	// are (see SetParamGrad).
	NoParamGrad bool

	wm, gm       *tensor.Mat
	cols, y, dx  *tensor.Mat
	dcols        tensor.Mat  // borrowed scratch in Backward
	y2, dy2, dyc *tensor.Mat // reshaped views and a contiguous copy of dy
	batch        int
	wg           *winograd // the transforms of F(2×2, 3×3), when useWinograd
	direct       bool      // im2col even where Winograd applies (tests, benchmarks)
}

// NewConv2D returns a convolution with geometry g, initialised by init from s.
// It panics on an impossible geometry.
func NewConv2D(g ConvGeom, init Init, s *rng.Stream) *Conv2D {
	g.check("NewConv2D")
	kc := g.K * g.K * g.InC
	l := &Conv2D{Geom: g, W: NewParam("W", kc, g.OutC), B: NewParam("b", g.OutC)}
	initWeights(l.W.W, l.B.W, kc, g.K*g.K*g.OutC, init, s)
	l.wm, l.gm = l.W.Mat(kc, g.OutC), l.W.GradMat(kc, g.OutC)
	l.y2, l.dy2 = new(tensor.Mat), new(tensor.Mat)
	return l
}

// OutDim returns the number of values per output row, OutH·OutW·OutC.
func (l *Conv2D) OutDim() int { return l.Geom.OutH() * l.Geom.OutW() * l.Geom.OutC }

// winograd reports whether this layer runs F(2×2, 3×3) (see winograd.go).
func (l *Conv2D) winograd() bool { return !l.direct && useWinograd(l.Geom) }

// Forward computes y = im2col(x)·W + b (for 3×3 kernels at stride 1 with 16 or
// more channels in and out, the same by Winograd's F(2×2, 3×3)). It panics if
// x.Cols != InH·InW·InC.
func (l *Conv2D) Forward(x *tensor.Mat) *tensor.Mat {
	g := l.Geom
	if x.Cols != g.InH*g.InW*g.InC {
		panic(fmt.Sprintf("nn: Conv2D: input has %d values per row, want %d×%d×%d", x.Cols, g.InH, g.InW, g.InC))
	}
	l.batch = x.Rows
	if l.winograd() {
		if l.wg == nil {
			l.wg = new(winograd)
		}
		l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
		l.wg.forward(l.y, x, l.wm, l.B.W, g)
		return l.y
	}
	pos := x.Rows * g.OutH() * g.OutW()
	l.cols = tensor.Reuse(l.cols, pos, g.K*g.K*g.InC)
	im2col(l.cols, x, g)
	l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
	y2 := view(l.y2, l.y, pos, g.OutC) // (batch·OutH·OutW, OutC)
	tensor.Gemm(false, false, 1, l.cols, l.wm, 0, y2)
	addChannelBias(l.y, l.B.W)
	return l.y
}

// Backward sets ∂L/∂W = Pᵀ·dy, ∂L/∂b = Σ dy and returns ∂L/∂x = col2im(dy·Wᵀ).
func (l *Conv2D) Backward(dy *tensor.Mat) *tensor.Mat {
	g := l.Geom
	if dy.Rows != l.batch || dy.Cols != l.OutDim() {
		panic(fmt.Sprintf("nn: Conv2D: dy is %d×%d, want %d×%d", dy.Rows, dy.Cols, l.batch, l.OutDim()))
	}
	pos := l.batch * g.OutH() * g.OutW()
	dy2 := view(l.dy2, contiguous(&l.dyc, dy), pos, g.OutC)
	if l.winograd() {
		var gm, dx *tensor.Mat
		if !l.NoParamGrad {
			gm = l.gm
			colSum(l.B.G, dy2)
		}
		if !l.NoInputGrad {
			l.dx = tensor.Reuse(l.dx, l.batch, g.InH*g.InW*g.InC)
			dx = l.dx
		}
		l.wg.backward(dx, gm, dy, g)
		return dx
	}
	if !l.NoParamGrad {
		tensor.Gemm(true, false, 1, l.cols, dy2, 0, l.gm)
		colSum(l.B.G, dy2)
	}
	if l.NoInputGrad {
		return nil
	}
	dcols := borrowMat(&l.dcols, pos, g.K*g.K*g.InC)
	defer giveBack(dcols.Data)
	tensor.Gemm(false, true, 1, dy2, l.wm, 0, dcols)
	l.dx = tensor.Reuse(l.dx, l.batch, g.InH*g.InW*g.InC)
	col2im(l.dx, dcols, g)
	return l.dx
}

// Params returns W and b.
func (l *Conv2D) Params() []*Param { return []*Param{l.W, l.B} }

// ConvTranspose2D is the transposed ("fractionally strided") convolution from
// InH×InW×InC to OutH×OutW×OutC images: the adjoint of the Conv2D with geometry
// Adj = {InH: OutH, InW: OutW, InC: OutC, OutC: InC, K, Stride, Pad}, plus a bias:
//
//	C = x·W                  (batch·InH·InW, K·K·OutC),  x seen as (batch·InH·InW, InC)
//	y = col2im(C) + b        (batch, OutH·OutW·OutC)
//
// with gradients
//
//	D = im2col(dy),   ∂L/∂W = xᵀ·D,   ∂L/∂b = Σ_{positions} dy,   ∂L/∂x = D·Wᵀ.
//
// Choosing OutH lets one stride reach several output sizes; Keras' "same" padding
// with stride 2 and K = 3 doubles the size, which is Pad = 1 with OutH = 2·InH.
type ConvTranspose2D struct {
	InH, InW, InC int
	Adj           ConvGeom // the convolution this layer is the adjoint of
	W, B          *Param   // W is (InC, K·K·OutC), column (ky·K+kx)·OutC + c
	NoInputGrad   bool     // skip ∂L/∂x in Backward
	NoParamGrad   bool     // skip ∂L/∂W and ∂L/∂b in Backward (see SetParamGrad)

	wm, gm      *tensor.Mat
	x2, y, dx   *tensor.Mat
	cols, dcols tensor.Mat // borrowed scratch in Forward and Backward
	xc, dx2     *tensor.Mat
	bacc        []float64
	batch       int
}

// NewConvTranspose2D returns a transposed convolution from inH×inW×inC to
// outH×outW×outC images with a k×k kernel, stride and padding. It panics unless a
// Conv2D with that kernel, stride and padding maps outH×outW back to inH×inW.
func NewConvTranspose2D(inH, inW, inC, outH, outW, outC, k, stride, pad int, init Init, s *rng.Stream) *ConvTranspose2D {
	adj := ConvGeom{InH: outH, InW: outW, InC: outC, OutC: inC, K: k, Stride: stride, Pad: pad}
	adj.check("NewConvTranspose2D")
	if adj.OutH() != inH || adj.OutW() != inW || inC < 1 {
		panic(fmt.Sprintf("nn: NewConvTranspose2D: %d×%d×%d → %d×%d×%d with k=%d stride=%d pad=%d: the matching convolution maps %d×%d to %d×%d",
			inH, inW, inC, outH, outW, outC, k, stride, pad, outH, outW, adj.OutH(), adj.OutW()))
	}
	kc := k * k * outC
	l := &ConvTranspose2D{InH: inH, InW: inW, InC: inC, Adj: adj,
		W: NewParam("W", inC, kc), B: NewParam("b", outC)}
	// As in PyTorch and Keras, the fan-in of a transposed convolution is K·K·OutC.
	initWeights(l.W.W, l.B.W, kc, k*k*inC, init, s)
	l.wm, l.gm = l.W.Mat(inC, kc), l.W.GradMat(inC, kc)
	l.x2, l.dx2 = new(tensor.Mat), new(tensor.Mat)
	return l
}

// OutDim returns the number of values per output row, OutH·OutW·OutC.
func (l *ConvTranspose2D) OutDim() int { return l.Adj.InH * l.Adj.InW * l.Adj.InC }

// Forward computes y = col2im(x·W) + b. It panics if x.Cols != InH·InW·InC.
func (l *ConvTranspose2D) Forward(x *tensor.Mat) *tensor.Mat {
	if x.Cols != l.InH*l.InW*l.InC {
		panic(fmt.Sprintf("nn: ConvTranspose2D: input has %d values per row, want %d×%d×%d", x.Cols, l.InH, l.InW, l.InC))
	}
	l.batch = x.Rows
	pos := x.Rows * l.InH * l.InW
	x2 := view(l.x2, contiguous(&l.xc, x), pos, l.InC) // (batch·InH·InW, InC)
	cols := borrowMat(&l.cols, pos, l.wm.Cols)
	defer giveBack(cols.Data)
	tensor.Gemm(false, false, 1, x2, l.wm, 0, cols)
	l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
	col2im(l.y, cols, l.Adj)
	addChannelBias(l.y, l.B.W)
	return l.y
}

// Backward sets ∂L/∂W = xᵀ·im2col(dy), ∂L/∂b = Σ dy and returns ∂L/∂x = im2col(dy)·Wᵀ.
func (l *ConvTranspose2D) Backward(dy *tensor.Mat) *tensor.Mat {
	if dy.Rows != l.batch || dy.Cols != l.OutDim() {
		panic(fmt.Sprintf("nn: ConvTranspose2D: dy is %d×%d, want %d×%d", dy.Rows, dy.Cols, l.batch, l.OutDim()))
	}
	pos := l.batch * l.InH * l.InW
	dcols := borrowMat(&l.dcols, pos, l.wm.Cols)
	defer giveBack(dcols.Data)
	im2col(dcols, dy, l.Adj)
	if !l.NoParamGrad {
		tensor.Gemm(true, false, 1, l.x2, dcols, 0, l.gm)
		l.bacc = channelSum(l.B.G, l.bacc, dy)
	}
	if l.NoInputGrad {
		return nil
	}
	l.dx = tensor.Reuse(l.dx, l.batch, l.InH*l.InW*l.InC)
	tensor.Gemm(false, true, 1, dcols, l.wm, 0, view(l.dx2, l.dx, pos, l.InC))
	return l.dx
}

// Params returns W and b.
func (l *ConvTranspose2D) Params() []*Param { return []*Param{l.W, l.B} }

// channelSum sets db[c] = Σ over examples and positions of dy[·, ·, c] (NHWC),
// in float64 (in acc, reused) in a fixed order. It returns acc.
func channelSum(db []float32, acc []float64, dy *tensor.Mat) []float64 {
	c := len(db)
	if cap(acc) < c {
		acc = make([]float64, c)
	}
	acc = acc[:c]
	clear(acc)
	for i := 0; i < dy.Rows; i++ {
		r := dy.Row(i)
		for j := 0; j < len(r); j += c {
			for k, v := range r[j : j+c] {
				acc[k] += float64(v)
			}
		}
	}
	for k, v := range acc {
		db[k] = float32(v)
	}
	return acc
}
