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
		n := j.geom.OutH() * j.geom.OutW()
		im2colRange(j.a, j.b, j.geom, lo*n, hi*n, 0)
	})
	j.a, j.b, j.geom = cols, x, g
	j.parallel(x.Rows, 1)
}

// im2colRange writes the patches of output positions [p0, p1), position
// p = (b·OutH + oy)·OutW + ox, into rows p − r0 of cols.
func im2colRange(cols, x *tensor.Mat, g ConvGeom, p0, p1, r0 int) {
	if g.narrow() {
		im2colNarrow(cols, x, g, p0, p1, r0)
		return
	}
	oh, ow := g.OutH(), g.OutW()
	kc := g.K * g.K * g.InC
	b, oy, ox := p0/(oh*ow), p0%(oh*ow)/ow, p0%ow
	for p := p0; p < p1; p, b, oy, ox = nextPos(p, b, oy, ox, oh, ow) {
		img := x.Row(b)
		row := cols.Row(p - r0)[:kc]
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
				src := img[(iy*g.InW+ix0)*g.InC:][:len(dst)]
				if len(dst) <= 16 {
					// A few values (one input channel): a loop beats memmove's call.
					for i, v := range src {
						dst[i] = v
					}
				} else {
					copy(dst, src)
				}
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

// nextPos returns position p+1 with its example b and output pixel (oy, ox),
// from p's, on an oh×ow output (no division: im2colRange and col2imRange walk
// positions in order this way).
func nextPos(p, b, oy, ox, oh, ow int) (int, int, int, int) {
	if ox++; ox == ow {
		ox, oy = 0, oy+1
		if oy == oh {
			oy, b = 0, b+1
		}
	}
	return p + 1, b, oy, ox
}

// col2im is the adjoint of im2col: it sets x to zero and adds every patch value of
// cols back onto the input pixel it came from,
//
//	x[b, iy, ix, c] = Σ_{(oy,ox,ky,kx) : oy·S−P+ky = iy, ox·S−P+kx = ix} cols[(b,oy,ox), (ky,kx,c)].
//
// Each example is summed by one worker in a fixed order (deterministic).
func col2im(x, cols *tensor.Mat, g ConvGeom) {
	j := newRowJob(func(j *rowJob, lo, hi int) {
		n := j.geom.OutH() * j.geom.OutW()
		for b := lo; b < hi; b++ {
			clear(j.a.Row(b))
		}
		col2imRange(j.a, j.b, j.geom, lo*n, hi*n, 0)
	})
	j.a, j.b, j.geom = x, cols, g
	j.parallel(x.Rows, 1)
}

// col2imRange adds the patches of output positions [p0, p1), in rows p − r0 of
// cols, onto the pixels of x they came from, position by position in order.
func col2imRange(x, cols *tensor.Mat, g ConvGeom, p0, p1, r0 int) {
	if g.narrow() {
		col2imNarrow(x, cols, g, p0, p1, r0)
		return
	}
	oh, ow := g.OutH(), g.OutW()
	b, oy, ox := p0/(oh*ow), p0%(oh*ow)/ow, p0%ow
	for p := p0; p < p1; p, b, oy, ox = nextPos(p, b, oy, ox, oh, ow) {
		img := x.Row(b)
		row := cols.Row(p - r0)
		for ky := 0; ky < g.K; ky++ {
			iy := oy*g.Stride - g.Pad + ky
			if iy < 0 || iy >= g.InH {
				continue
			}
			// Inside the image the patch row is one contiguous run (each
			// value still lands on its own pixel, in the same order).
			if ix0 := ox*g.Stride - g.Pad; ix0 >= 0 && ix0+g.K <= g.InW {
				n := g.K * g.InC
				addRun(img[(iy*g.InW+ix0)*g.InC:][:n], row[ky*n:(ky+1)*n])
				continue
			}
			for kx := 0; kx < g.K; kx++ {
				ix := ox*g.Stride - g.Pad + kx
				if ix < 0 || ix >= g.InW {
					continue
				}
				addRun(img[(iy*g.InW+ix)*g.InC:(iy*g.InW+ix+1)*g.InC], row[(ky*g.K+kx)*g.InC:(ky*g.K+kx+1)*g.InC])
			}
		}
	}
}

// narrow reports whether a patch row (K·InC values, one input channel or two) is
// too short for copy and tensor.AddTo to pay and the image is padded: then
// im2colRange and col2imRange work on a zero-padded copy of each image, where
// every patch row lies inside and needs no bounds tests (the first layer of the
// deep EBM, 5×5 with padding 4 on one channel, spent three quarters of its time
// in those tests).
func (g ConvGeom) narrow() bool { return narrowPatches && g.K*g.InC < 16 && g.Pad > 0 }

// narrowPatches enables the narrow paths (a variable so that tests can compare
// them with the general ones).
var narrowPatches = true

// padded is one example's image inside a border of Pad zeros:
// (InH + 2·Pad) × (InW + 2·Pad) × InC, in borrowed scratch.
type padded struct {
	g      ConvGeom
	wp, hp int // padded width and height
	buf    []float32
	b      int // the example held, −1 for none
}

func newPadded(g ConvGeom) padded {
	p := padded{g: g, wp: g.InW + 2*g.Pad, hp: g.InH + 2*g.Pad, b: -1}
	p.buf = borrow(p.wp * p.hp * g.InC)
	clear(p.buf)
	return p
}

// load copies example b of x into the padded image (the border stays zero).
func (p *padded) load(x *tensor.Mat, b int) {
	g, c := p.g, p.g.InC
	img := x.Row(b)
	for iy := range g.InH {
		copy(p.buf[((iy+g.Pad)*p.wp+g.Pad)*c:][:g.InW*c], img[iy*g.InW*c:][:g.InW*c])
	}
	p.b = b
}

// store copies the padded image's inside back to example p.b of x.
func (p *padded) store(x *tensor.Mat) {
	g, c := p.g, p.g.InC
	img := x.Row(p.b)
	for iy := range g.InH {
		copy(img[iy*g.InW*c:][:g.InW*c], p.buf[((iy+g.Pad)*p.wp+g.Pad)*c:][:g.InW*c])
	}
}

// im2colNarrow is im2colRange on narrow geometries (the same values): each
// patch row is a run of K·InC values of the padded image.
func im2colNarrow(cols, x *tensor.Mat, g ConvGeom, p0, p1, r0 int) {
	oh, ow := g.OutH(), g.OutW()
	pi := newPadded(g)
	n := g.K * g.InC // values per patch row
	rowStep, colStep := pi.wp*g.InC, g.Stride*g.InC
	b, oy, ox := p0/(oh*ow), p0%(oh*ow)/ow, p0%ow
	for p := p0; p < p1; p, b, oy, ox = nextPos(p, b, oy, ox, oh, ow) {
		if b != pi.b {
			pi.load(x, b)
		}
		row := cols.Row(p - r0)[:g.K*n]
		src := pi.buf[oy*g.Stride*rowStep+ox*colStep:]
		for ky := range g.K {
			d, s := row[ky*n:][:n], src[ky*rowStep:][:n]
			for i, v := range s {
				d[i] = v
			}
		}
	}
	giveBack(pi.buf)
}

// col2imNarrow is col2imRange on narrow geometries, with the same sums in the
// same order: each example's pixels are loaded into the padded image, the
// patches are added onto it position by position (what falls on the border is
// dropped, as col2imRange skips it) and the inside is stored back.
func col2imNarrow(x, cols *tensor.Mat, g ConvGeom, p0, p1, r0 int) {
	oh, ow := g.OutH(), g.OutW()
	pi := newPadded(g)
	n := g.K * g.InC
	rowStep, colStep := pi.wp*g.InC, g.Stride*g.InC
	b, oy, ox := p0/(oh*ow), p0%(oh*ow)/ow, p0%ow
	for p := p0; p < p1; p, b, oy, ox = nextPos(p, b, oy, ox, oh, ow) {
		if b != pi.b {
			if pi.b >= 0 {
				pi.store(x)
			}
			pi.load(x, b) // the border holds what fell outside: never read
		}
		row := cols.Row(p - r0)[:g.K*n]
		dst := pi.buf[oy*g.Stride*rowStep+ox*colStep:]
		for ky := range g.K {
			d, s := dst[ky*rowStep:][:n], row[ky*n:][:n]
			for i, v := range s {
				d[i] += v
			}
		}
	}
	if pi.b >= 0 {
		pi.store(x)
	}
	giveBack(pi.buf)
}

// addRun sets dst += src, a run of one patch row: runs of a few values (one
// input channel) in a loop, longer ones by tensor.AddTo's vector loop (the same
// bits either way).
func addRun(dst, src []float32) {
	if len(src) < 16 {
		dst = dst[:len(src)]
		for c, v := range src {
			dst[c] += v
		}
		return
	}
	tensor.AddTo(dst, src)
}

// convKeep is the most patch values (batch positions × K·K·InC) a Conv2D keeps
// from its forward pass for the weight gradient. Up to this size (8 MiB) keeping
// them costs little memory and saves building them again; larger patch matrices
// are rebuilt block by block in Backward, where a block in L2 costs about what
// reading the kept matrix back from memory would.
var convKeep = 2 << 20 // a variable so that tests can force either path

// convChunk is the most values of patches (positions × K·K·InC) a convolution
// builds at once. Built for the whole batch, the patch matrix runs to tens of
// megabytes, written to memory by im2col and read back by the GEMM; a block of
// 48 Ki float32 (192 KiB) stays in L2 (512 KiB on Zen 1) beside the GEMM's
// panels.
var convChunk = 48 << 10 // a variable so that tests can force small blocks

// chunkRows returns the output positions per block of patches: convChunk values,
// a multiple of the 6-row micro-kernel where that is at least 6.
func (g ConvGeom) chunkRows() int { return g.chunkRowsOf(convChunk) }

// convTChunk is the block of a transposed convolution's forward pass: its GEMM
// x_block·W has only InC (32-64) steps of K per block of output, so blocks four
// times convChunk, which spill from L2, still run 2-3% faster at one and two
// threads (t1, t2) than L2-sized ones, by fewer, longer GEMM calls.
func convTChunk() int { return 4 * convChunk }

// chunkRowsOf returns the positions per block of at most values patch values.
func (g ConvGeom) chunkRowsOf(values int) int {
	r := max(1, values/(g.K*g.K*g.InC))
	if r > 6 {
		r -= r % 6
	}
	return r
}

// blocks cuts positions [p0, p1) into the fewest blocks of at most
// g.chunkRows() positions, of near-equal size; it returns their number and size
// (the last may be smaller).
func (g ConvGeom) blocks(p0, p1 int) (nb, size int) { return g.blocksOf(p0, p1, convChunk) }

// blocksOf is blocks for blocks of at most values patch values.
func (g ConvGeom) blocksOf(p0, p1, values int) (nb, size int) {
	rows := g.chunkRowsOf(values)
	nb = (p1 - p0 + rows - 1) / rows
	return nb, (p1 - p0 + nb - 1) / nb
}

// examplesPerPiece returns how many examples a worker's piece of a blocked
// convolution holds: enough for one full block of patches.
func (g ConvGeom) examplesPerPiece() int { return g.examplesPerPieceOf(convChunk) }

// examplesPerPiece is examplesPerPiece for blocks of at most values patch values.
func (g ConvGeom) examplesPerPieceOf(values int) int {
	return max(1, g.chunkRowsOf(values)/(g.OutH()*g.OutW()))
}

// rowsOf points m at rows [r0, r1) of the contiguous matrix src.
func rowsOf(m, src *tensor.Mat, r0, r1 int) *tensor.Mat {
	m.Rows, m.Cols, m.Stride = r1-r0, src.Cols, src.Cols
	m.Data = src.Data[r0*src.Cols : r1*src.Cols]
	return m
}

// convForwardJob computes rows [lo, hi) (examples) of y = im2col(x)·W + b, block
// of patches by block (j.a = y, j.b = x, j.pb = W packed, j.f32 = b; the GEMM of a row
// does not depend on the rows around it, so neither do the results). Each block's
// rows of y start as copies of b and the GEMM adds to them (beta = 1): y = fl(P·W
// + b), the bits of adding b afterwards, in one pass.
//
// With j.d set the patches are written to its rows (positions) and kept.
func convForwardJob(j *rowJob, lo, hi int) {
	g := j.geom
	y, x, bias, keep := j.a, j.b, j.f32, j.d
	n := g.OutH() * g.OutW()
	kc := g.K * g.K * g.InC
	_, rows := g.blocks(lo*n, hi*n)
	var buf []float32
	if keep == nil {
		// The largest block, whatever this piece's: one size per layer, so the
		// scratch list settles after a step (see borrow).
		buf = borrow(g.chunkRows() * kc)
		defer giveBack(buf)
	}
	var p, yc tensor.Mat
	y2 := tensor.Mat{Rows: y.Rows * n, Cols: g.OutC, Stride: g.OutC, Data: y.Data}
	for p0 := lo * n; p0 < hi*n; p0 += rows {
		p1 := min(p0+rows, hi*n)
		if keep != nil {
			rowsOf(&p, keep, p0, p1)
		} else {
			p = tensor.Mat{Rows: p1 - p0, Cols: kc, Stride: kc, Data: buf[:(p1-p0)*kc]}
		}
		im2colRange(&p, x, g, p0, p1, p0)
		rowsOf(&yc, &y2, p0, p1)
		fillRows(yc.Data, bias)
		tensor.GemmPacked(false, 1, &p, j.pb, 1, &yc)
	}
}

// sumSlots sets dst to the sum of the first groups slots of len(dst) values in
// slots, added in order (the groups' partial weight gradients; the bits do not
// depend on how the groups were shared between workers).
func sumSlots(dst, slots []float32, groups int) {
	n := len(dst)
	copy(dst, slots[:n])
	for q := 1; q < groups; q++ {
		tensor.AddTo(dst, slots[q*n:(q+1)*n])
	}
}

// fillRows sets dst, a whole number of rows of len(v), to copies of v.
func fillRows(dst, v []float32) {
	n := copy(dst, v)
	for n < len(dst) {
		n += copy(dst[n:], dst[:n])
	}
}

// convInputGradJob computes rows [lo, hi) (examples) of dx = col2im(dy·Wᵀ), block
// of patches by block (j.a = dx, j.b = dy as (positions, OutC), j.pb = Wᵀ packed). Each example's pixels are
// summed over the positions in order, whatever the blocks.
func convInputGradJob(j *rowJob, lo, hi int) {
	g := j.geom
	dx, dy := j.a, j.b
	n := g.OutH() * g.OutW()
	kc := g.K * g.K * g.InC
	_, rows := g.blocks(lo*n, hi*n)
	buf := borrow(g.chunkRows() * kc) // the largest block (see convForwardJob)
	for b := lo; b < hi; b++ {
		clear(dx.Row(b))
	}
	var dc, dyc tensor.Mat
	for p0 := lo * n; p0 < hi*n; p0 += rows {
		p1 := min(p0+rows, hi*n)
		dc = tensor.Mat{Rows: p1 - p0, Cols: kc, Stride: kc, Data: buf[:(p1-p0)*kc]}
		tensor.GemmPacked(false, 1, rowsOf(&dyc, dy, p0, p1), j.pb, 0, &dc)
		col2imRange(dx, &dc, g, p0, p1, p0)
	}
	giveBack(buf)
}

// convWGroups is how many groups of blocks of positions the blocked weight
// gradient sums separately (fewer when there are fewer blocks). With each
// block's GEMM split between the workers instead, every worker streamed all of
// the block's patches and the second thread gained little (c2's weight
// gradient at batch 128: 32.8 ms at one thread, 26.4 at two).
const convWGroups = 8

// convWChunk is the block of the blocked weight gradient: twice convChunk, so
// that c2's blocks (3·3·32 = 288 patch values) hold 336 positions, at least the
// 256 (gemmStridedMinK) from which the GEMM reads Pᵀ and dy where they lie
// instead of packing them: c2's weight gradient about 10% faster at one thread.
func convWChunk() int { return 2 * convChunk }

// convWeightGradJob sums Pᵀ·dy over the blocks of groups [lo, hi) into their
// slots (j.a = x, j.b = dy as (positions, OutC), j.f32 the slots, j.base the
// number of groups).
func convWeightGradJob(j *rowJob, lo, hi int) {
	g, x, dy2, slots, groups := j.geom, j.a, j.b, j.f32, j.base
	pos := dy2.Rows
	kc := g.K * g.K * g.InC
	nb, rows := g.blocksOf(0, pos, convWChunk())
	buf := borrow(rows * kc)
	var p, dyb, slot tensor.Mat
	for q := lo; q < hi; q++ {
		slot = tensor.Mat{Rows: kc, Cols: g.OutC, Stride: g.OutC, Data: slots[q*kc*g.OutC : (q+1)*kc*g.OutC]}
		b0, b1 := nb*q/groups, nb*(q+1)/groups
		for b := b0; b < b1; b++ {
			p0, p1 := b*rows, min((b+1)*rows, pos)
			p = tensor.Mat{Rows: p1 - p0, Cols: kc, Stride: kc, Data: buf[:(p1-p0)*kc]}
			im2colRange(&p, x, g, p0, p1, p0)
			beta := float32(1)
			if b == b0 {
				beta = 0
			}
			tensor.Gemm(true, false, 1, &p, rowsOf(&dyb, dy2, p0, p1), beta, &slot)
		}
	}
	giveBack(buf)
}

// im2colJob writes patches [lo, hi) of the block starting at position j.x64.
func im2colJob(j *rowJob, lo, hi int) {
	p0 := int(j.x64)
	im2colRange(j.a, j.b, j.geom, p0+lo, p0+hi, p0)
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
	// Inference makes Forward keep nothing for Backward but its input (not the
	// patches, not Winograd's V), for forward passes that no backward pass
	// follows, such as sampling. Backward still works: it computes them again.
	Inference bool

	wm, gm       *tensor.Mat
	x, y, dx     *tensor.Mat
	y2, dy2, dyc *tensor.Mat      // reshaped views and a contiguous copy of dy
	wp, wtp      tensor.PackedB   // W and Wᵀ packed once per call for the blocks' GEMMs
	wk           []tensor.PackedB // W's rows for each kernel row, packed (forwardImplicit)
	cols         *tensor.Mat      // the forward pass's patches, when at most convKeep values
	batch        int
	wg           *winograd   // the transforms of F(2×2, 3×3), when useWinograd
	thinW, thinG *tensor.Mat // W and ∂L/∂W re-laid out for the thin-output path (conv_thin.go)
	thinX        *tensor.Mat // a contiguous copy of x there, if x is not
	t3           thin3Bufs   // the row kernels' buffers (thin3.go)
	direct       bool        // im2col even where Winograd applies (tests, benchmarks)
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
// more channels in and out, the same by Winograd's F(2×2, 3×3); for thin
// outputs, K²·OutC ≤ 16, by the thin path of conv_thin.go). It panics if
// x.Cols != InH·InW·InC.
func (l *Conv2D) Forward(x *tensor.Mat) *tensor.Mat {
	g := l.Geom
	if x.Cols != g.InH*g.InW*g.InC {
		panic(fmt.Sprintf("nn: Conv2D: input has %d values per row, want %d×%d×%d", x.Cols, g.InH, g.InW, g.InC))
	}
	l.batch = x.Rows
	if l.winograd() {
		if st := wgPick(g); l.wg == nil || l.wg.set != st {
			l.wg = &winograd{set: st}
		}
		l.x = x // V is computed again from it for the weight gradient
		l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
		l.wg.forward(l.y, x, l.wm, l.B.W, g, l.Inference)
		return l.y
	}
	if g.thinOut() {
		l.x = contiguous(&l.thinX, x)
		l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
		if thin3(g) {
			l.t3.grow(g)
			copy(l.t3.w, l.W.W)
			thin3Forward(l.y, l.x, &l.t3, l.B.W[0], g)
			return l.y
		}
		l.forwardThin(l.x)
		return l.y
	}
	l.x = x
	l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
	pos, kc := x.Rows*g.OutH()*g.OutW(), g.K*g.K*g.InC
	keep := pos*kc <= convKeep && !l.Inference
	if !keep && g.implicit() {
		l.cols = nil
		l.forwardImplicit(x)
		return l.y
	}
	tensor.PackB(&l.wp, false, l.wm)
	j := newRowJob(convForwardJob)
	j.a, j.b, j.pb, j.f32, j.geom = l.y, x, &l.wp, l.B.W, g
	if keep {
		l.cols = tensor.Reuse(l.cols, pos, kc)
		j.d = l.cols
	} else {
		l.cols = nil
	}
	j.parallel(x.Rows, g.examplesPerPiece())
	return l.y
}

// convImplicit lets a strided convolution whose patches are not kept read
// them from a padded copy of each image instead of from im2col's patch
// matrix (forwardImplicit); false runs im2col (tests, benchmarks).
var convImplicit = true

// implicit reports whether geometry g reads its patches in place
// (forwardImplicit, weightGradImplicit, and ConvTranspose2D's backwardImplicit
// for its adjoint): strided, with runs of K·InC ≥ 64 values per kernel row and
// at least 128 positions per image (OutH·q, see implicitPlanes), so that each
// GEMM has some depth and some rows. c2 (3×3, stride 2, 32 → 64 channels, 210
// positions) at batch 128 spent 40% of its forward pass in im2col's copies. t1's
// adjoint (14×14 → 7×7, 56 positions) is slower in place than by im2col's blocks
// of 168 positions: its backward pass, interleaved in one binary, medians of 5
// (session 23), 2.24 → 2.56 ms at batch 64 and 4.81 → 5.29 at 128 at one
// thread, 1.54 → 1.78 and 3.48 → 3.60 at two.
func (g ConvGeom) implicit() bool {
	if !convImplicit || g.Stride < 2 || g.K*g.InC < 64 {
		return false
	}
	q, _, _ := g.implicitPlanes()
	return g.OutH()*q >= convImplicitMinRows
}

// convImplicitMinRows is implicit's least number of positions per image (a
// variable so that tests can take small images in place).
var convImplicitMinRows = 128

// forwardImplicit sets l.y to im2col(x)·W + b without the patch matrix. The
// zero-padded image is stored as Stride planes of rows (plane r holds padded
// rows r, r + Stride, ...), each plane row q·Stride pixels wide, q = ⌈padded
// width / Stride⌉. For kernel row ky, the patch rows of all output pixels are
// then runs of K·InC values Stride·InC apart in plane ky mod Stride, from its
// row ⌊ky/Stride⌋ on: output row oy's pixels at positions oy·q + ox, with q − OutW
// positions per row that belong to no output pixel (their products are
// dropped). So an image takes K GEMMs of (OutH·q) × K·InC × OutC with an A
// of overlapping rows read where it lies (tensor.GemmPackedRows), into scratch
// that starts as b, and the valid rows are copied to y.
func (l *Conv2D) forwardImplicit(x *tensor.Mat) {
	g := l.Geom
	if len(l.wk) != g.K {
		l.wk = make([]tensor.PackedB, g.K)
	}
	run := g.K * g.InC
	var wr tensor.Mat
	for ky := range g.K {
		tensor.PackB(&l.wk[ky], false, rowsOf(&wr, l.wm, ky*run, (ky+1)*run))
	}
	j := newRowJob(convImplicitForwardJob)
	j.a, j.b, j.f32, j.geom, j.conv = l.y, x, l.B.W, g, l
	// One run of images per worker, not an image per piece: each piece sets
	// up its scratch (the padded planes) once. Interleaved, 5 rounds (session
	// 24), c2 at batch 64 went 3.41 → 2.62 ms at one thread and 1.99 → 1.55 at
	// two, at batch 128 7.14 → 5.63 and 4.20 → 3.21. Each image's output is
	// its own, so the split does not change the bits.
	j.parallel(x.Rows, workerShare(x.Rows))
}

// implicitPlanes returns the layout of forwardImplicit's planes for g:
// positions per output row q, floats per plane row, and floats per plane
// (its rows and K·InC values of slack for the last positions' reads).
func (g ConvGeom) implicitPlanes() (q, pitch, plane int) {
	ph, pw := g.InH+2*g.Pad, g.InW+2*g.Pad
	q = (pw + g.Stride - 1) / g.Stride
	pitch = q * g.Stride * g.InC
	return q, pitch, (ph+g.Stride-1)/g.Stride*pitch + g.K*g.InC
}

// fillPlanes copies img (InH×InW×InC) into buf's Stride planes of the zero-padded
// image (implicitPlanes), leaving the padding as it is.
func (g ConvGeom) fillPlanes(buf, img []float32) {
	_, pitch, plane := g.implicitPlanes()
	row := g.InW * g.InC
	for iy := range g.InH {
		pr := iy + g.Pad
		copy(buf[pr%g.Stride*plane+pr/g.Stride*pitch+g.Pad*g.InC:][:row], img[iy*row:(iy+1)*row])
	}
}

// patchRows returns the patch rows under kernel row ky of every position (OutH·q
// of them, q per output row) in buf's planes: K·InC values each, Stride·InC
// apart, overlapping.
func (g ConvGeom) patchRows(buf []float32, ky int) tensor.Mat {
	q, pitch, plane := g.implicitPlanes()
	n, run, step := g.OutH()*q, g.K*g.InC, g.Stride*g.InC
	o := ky%g.Stride*plane + ky/g.Stride*pitch
	return tensor.Mat{Rows: n, Cols: run, Stride: step, Data: buf[o : o+(n-1)*step+run]}
}

// convImplicitForwardJob runs forwardImplicit for examples [lo, hi) (j.a = y,
// j.b = x, j.f32 = b, j.conv the layer with its packed kernel rows).
func convImplicitForwardJob(j *rowJob, lo, hi int) {
	g, y, x, bias, wk := j.geom, j.a, j.b, j.f32, j.conv.wk
	s := g.Stride
	oh, ow := g.OutH(), g.OutW()
	q, _, plane := g.implicitPlanes()
	buf := borrow(s * plane)
	defer giveBack(buf)
	clear(buf) // the padding; each image overwrites only the inside
	cs := borrow(oh * q * g.OutC)
	defer giveBack(cs)
	var a, c tensor.Mat
	for b := lo; b < hi; b++ {
		g.fillPlanes(buf, x.Row(b))
		fillRows(cs, bias)
		c = tensor.Mat{Rows: oh * q, Cols: g.OutC, Stride: g.OutC, Data: cs}
		for ky := range g.K {
			a = g.patchRows(buf, ky)
			tensor.GemmPackedRows(1, &a, &wk[ky], 1, &c)
		}
		yb := y.Row(b)
		for oy := range oh {
			copy(yb[oy*ow*g.OutC:(oy+1)*ow*g.OutC], cs[oy*q*g.OutC:])
		}
	}
}

// weightGradImplicit sets ∂L/∂W = Σ_pixels patchᵀ·dy with the patches read in
// place, in forwardImplicit's planes of the padded image: for kernel row ky,
// W's rows for that kernel row get Aᵀ·dYq, A the plane's overlapping patch rows
// and dYq dy with q positions per output row (zero at the positions that
// belong to no output pixel), image by image. The images are summed in
// min(convWGroups, batch) groups fixed by the batch alone, each into its own
// slot (the groups in parallel), and the slots added in order, so the bits do
// not depend on the number of workers.
func (l *Conv2D) weightGradImplicit(dy *tensor.Mat) {
	g := l.Geom
	groups := min(convWGroups, l.batch)
	size := g.K * g.K * g.InC * g.OutC
	slots := borrow(groups * size)
	j := newRowJob(convImplicitWeightGradJob)
	j.a, j.b, j.f32, j.geom, j.base = l.x, dy, slots, g, groups
	j.parallel(groups, workerShare(groups)) // consecutive groups per worker (each to its own slot)
	gm := l.gm.Data[:size]
	sumSlots(gm, slots, groups)
	giveBack(slots)
}

// convImplicitWeightGradJob sums the weight gradients of the images of groups
// [lo, hi) into their slots (j.a = x, j.b = dy, j.f32 the slots, j.base the
// number of groups).
func convImplicitWeightGradJob(j *rowJob, lo, hi int) {
	g, x, dy, slots, groups := j.geom, j.a, j.b, j.f32, j.base
	s := g.Stride
	oh, ow := g.OutH(), g.OutW()
	q, _, plane := g.implicitPlanes()
	run := g.K * g.InC
	size := g.K * run * g.OutC
	buf := borrow(s * plane)
	defer giveBack(buf)
	clear(buf) // the padding; each image overwrites only the inside
	dq := borrow(oh * q * g.OutC)
	defer giveBack(dq)
	clear(dq) // the positions of no output pixel stay zero
	var a, d, slot tensor.Mat
	d = tensor.Mat{Rows: oh * q, Cols: g.OutC, Stride: g.OutC, Data: dq}
	for grp := lo; grp < hi; grp++ {
		b0, b1 := x.Rows*grp/groups, x.Rows*(grp+1)/groups
		for b := b0; b < b1; b++ {
			g.fillPlanes(buf, x.Row(b))
			dyb := dy.Row(b)
			for oy := range oh {
				copy(dq[oy*q*g.OutC:][:ow*g.OutC], dyb[oy*ow*g.OutC:(oy+1)*ow*g.OutC])
			}
			beta := float32(1)
			if b == b0 {
				beta = 0
			}
			for ky := range g.K {
				a = g.patchRows(buf, ky)
				slot = tensor.Mat{Rows: run, Cols: g.OutC, Stride: g.OutC, Data: slots[grp*size+ky*run*g.OutC:][:run*g.OutC]}
				tensor.GemmOverlap(true, false, 1, &a, &d, beta, &slot)
			}
		}
	}
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
		l.wg.backward(dx, gm, dy, l.x, g)
		return dx
	}
	if g.thinOut() {
		if !l.NoInputGrad {
			l.dx = tensor.Reuse(l.dx, l.batch, g.InH*g.InW*g.InC)
		}
		if thin3(g) {
			l.backwardThin3(dy2)
			if l.NoInputGrad {
				return nil
			}
			return l.dx
		}
		l.backwardThin(dy2)
		if l.NoInputGrad {
			return nil
		}
		return l.dx
	}
	if !l.NoParamGrad && l.cols != nil {
		tensor.Gemm(true, false, 1, l.cols, dy2, 0, l.gm)
		colSum(l.B.G, dy2)
	} else if !l.NoParamGrad && g.implicit() {
		l.weightGradImplicit(dy)
		colSum(l.B.G, dy2)
	} else if !l.NoParamGrad {
		// ∂L/∂W = Σ over blocks of positions of Pᵀ·dy, in convWGroups groups of
		// consecutive blocks fixed by the shape alone: each group's sum goes
		// to its own slot (the groups in parallel, each worker building its
		// blocks' patches and multiplying them), and the slots are added in
		// order, so the bits do not depend on the number of workers.
		kc := g.K * g.K * g.InC
		nb, _ := g.blocksOf(0, pos, convWChunk())
		groups := min(convWGroups, nb)
		slots := borrow(groups * kc * g.OutC)
		j := newRowJob(convWeightGradJob)
		j.a, j.b, j.f32, j.geom, j.base = l.x, dy2, slots, g, groups
		j.parallel(groups, workerShare(groups)) // consecutive groups per worker, each to its own slot
		gm := l.gm.Data[:kc*g.OutC]
		sumSlots(gm, slots, groups)
		giveBack(slots)
		colSum(l.B.G, dy2)
	}
	if l.NoInputGrad {
		return nil
	}
	l.dx = tensor.Reuse(l.dx, l.batch, g.InH*g.InW*g.InC)
	tensor.PackB(&l.wtp, true, l.wm)
	j := newRowJob(convInputGradJob)
	j.a, j.b, j.pb, j.geom = l.dx, dy2, &l.wtp, g
	j.parallel(l.batch, g.examplesPerPiece())
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

	wm, gm    *tensor.Mat
	x2, y, dx *tensor.Mat
	wp, wtp   tensor.PackedB   // W and Wᵀ packed once per call for the blocks' GEMMs
	wtk       []tensor.PackedB // Wᵀ's rows for each kernel row, packed (backwardImplicit)
	xc, dx2   *tensor.Mat
	bacc      []float64
	batch     int
	t3        thin3Bufs   // the row kernels' buffers (thin3.go)
	t3x, t3dy *tensor.Mat // x (for their weight gradient) and dy, contiguous
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
	if g, ok := l.thin3(); ok {
		l.t3x = contiguous(&l.xc, x)
		l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
		l.t3.grow(g)
		// y[p] = b + Σ_t Σ_c x[p − (ky−1, kx−1), c]·W[c, t]: in the
		// convolution's form, tap t' = 8 − t of the flipped kernel.
		for t := range 9 {
			for c := range g.InC {
				l.t3.w[(8-t)*g.InC+c] = l.W.W[c*9+t]
			}
		}
		thin3Forward(l.y, l.t3x, &l.t3, l.B.W[0], g)
		return l.y
	}
	pos := x.Rows * l.InH * l.InW
	x2 := view(l.x2, contiguous(&l.xc, x), pos, l.InC) // (batch·InH·InW, InC)
	l.y = tensor.Reuse(l.y, x.Rows, l.OutDim())
	tensor.PackB(&l.wp, false, l.wm)
	j := newRowJob(convTForwardJob)
	j.a, j.b, j.pb, j.f32, j.geom = l.y, x2, &l.wp, l.B.W, l.Adj
	j.parallel(x.Rows, l.Adj.examplesPerPieceOf(convTChunk()))
	return l.y
}

// convTForwardJob computes rows [lo, hi) (examples) of a transposed convolution,
// y = b + col2im(x·W), block of input pixels by block (j.a = y, j.b = x as
// (pixels, InC), j.pb = W packed, j.f32 = b, j.geom = the adjoint convolution, whose
// output positions are the input pixels). Each output pixel starts at b and
// receives its contributions pixel by pixel in order, whatever the blocks.
func convTForwardJob(j *rowJob, lo, hi int) {
	adj := j.geom
	y, x2 := j.a, j.b
	n := adj.OutH() * adj.OutW()
	kc := adj.K * adj.K * adj.InC
	_, rows := adj.blocksOf(lo*n, hi*n, convTChunk())
	buf := borrow(adj.chunkRowsOf(convTChunk()) * kc) // the largest block (see convForwardJob)
	for b := lo; b < hi; b++ {
		fillRows(y.Row(b), j.f32)
	}
	var c, xc tensor.Mat
	for p0 := lo * n; p0 < hi*n; p0 += rows {
		p1 := min(p0+rows, hi*n)
		c = tensor.Mat{Rows: p1 - p0, Cols: kc, Stride: kc, Data: buf[:(p1-p0)*kc]}
		tensor.GemmPacked(false, 1, rowsOf(&xc, x2, p0, p1), j.pb, 0, &c)
		col2imRange(y, &c, adj, p0, p1, p0)
	}
	giveBack(buf)
}

// Backward sets ∂L/∂W = xᵀ·im2col(dy), ∂L/∂b = Σ dy and returns ∂L/∂x = im2col(dy)·Wᵀ.
func (l *ConvTranspose2D) Backward(dy *tensor.Mat) *tensor.Mat {
	if dy.Rows != l.batch || dy.Cols != l.OutDim() {
		panic(fmt.Sprintf("nn: ConvTranspose2D: dy is %d×%d, want %d×%d", dy.Rows, dy.Cols, l.batch, l.OutDim()))
	}
	pos := l.batch * l.InH * l.InW
	if !l.NoParamGrad {
		l.bacc = channelSum(l.B.G, l.bacc, dy)
	}
	if l.NoParamGrad && l.NoInputGrad {
		return nil
	}
	if g, ok := l.thin3(); ok {
		return l.backwardThin3(dy, g)
	}
	if l.Adj.implicit() {
		return l.backwardImplicit(dy)
	}
	if !l.NoInputGrad {
		l.dx = tensor.Reuse(l.dx, l.batch, l.InH*l.InW*l.InC)
		tensor.PackB(&l.wtp, true, l.wm)
	}
	// Block by block of input pixels: D = im2col(dy), ∂L/∂x_block = D·Wᵀ and
	// x_blockᵀ·D summed into the weight gradient, so the whole of im2col(dy) is
	// never held at once. The blocks go in convWGroups groups of consecutive
	// blocks fixed by the shape alone, one parallel job over the groups; each
	// group's weight-gradient sum goes to its own slot and the slots are added in
	// order, so the bits do not depend on the number of workers. (Dispatching
	// each block's im2col and GEMMs in parallel instead cost more than a block's
	// work on a fast core: t1's and t2's weight gradients were slower at two
	// threads than at one.)
	nb, _ := l.Adj.blocks(0, pos)
	groups := min(convWGroups, nb)
	j := newRowJob(convTBackwardJob)
	j.a, j.b, j.geom, j.base = l.x2, dy, l.Adj, groups
	if !l.NoInputGrad {
		j.c, j.pb = view(l.dx2, l.dx, pos, l.InC), &l.wtp
	}
	return l.runGroups(j, groups)
}

// runGroups runs j, a backward job over groups, with the weight-gradient slots
// it needs (j.f32, unless NoParamGrad), sums them into ∂L/∂W in order, and
// returns ∂L/∂x (nil with NoInputGrad).
func (l *ConvTranspose2D) runGroups(j *rowJob, groups int) *tensor.Mat {
	size := l.InC * l.wm.Cols
	var slots []float32
	if !l.NoParamGrad {
		slots = borrow(groups * size)
		j.f32 = slots
	}
	j.parallel(groups, workerShare(groups)) // consecutive groups per worker, each to its own slot
	if slots != nil {
		sumSlots(l.gm.Data[:size], slots, groups)
		giveBack(slots)
	}
	if l.NoInputGrad {
		return nil
	}
	return l.dx
}

// convTBackwardJob runs groups [lo, hi) of a transposed convolution's blocked
// backward pass (j.a = x as (pixels, InC), j.b = dy, j.geom = the adjoint
// convolution, j.base = the number of groups): for each block of input pixels
// D = im2col(dy); with j.f32 set, the group's slot of it receives Σ x_blockᵀ·D
// over the group's blocks; with j.c set (dx as (pixels, InC)), dx_block = D·Wᵀ
// (j.pb = Wᵀ packed).
func convTBackwardJob(j *rowJob, lo, hi int) {
	adj, x2, dy, dx2, slots, groups := j.geom, j.a, j.b, j.c, j.f32, j.base
	pos, inC := x2.Rows, x2.Cols
	kc := adj.K * adj.K * adj.InC
	nb, rows := adj.blocks(0, pos)
	buf := borrow(rows * kc)
	var d, xb, dxb, slot tensor.Mat
	for q := lo; q < hi; q++ {
		if slots != nil {
			slot = tensor.Mat{Rows: inC, Cols: kc, Stride: kc, Data: slots[q*inC*kc : (q+1)*inC*kc]}
		}
		b0, b1 := nb*q/groups, nb*(q+1)/groups
		for b := b0; b < b1; b++ {
			p0, p1 := b*rows, min((b+1)*rows, pos)
			d = tensor.Mat{Rows: p1 - p0, Cols: kc, Stride: kc, Data: buf[:(p1-p0)*kc]}
			im2colRange(&d, dy, adj, p0, p1, p0)
			if slots != nil {
				beta := float32(1)
				if b == b0 {
					beta = 0
				}
				tensor.Gemm(true, false, 1, rowsOf(&xb, x2, p0, p1), &d, beta, &slot)
			}
			if dx2 != nil {
				tensor.GemmPacked(false, 1, &d, j.pb, 0, rowsOf(&dxb, dx2, p0, p1))
			}
		}
	}
	giveBack(buf)
}

// backwardImplicit is Backward with D = im2col(dy) read in place, image by
// image, in the planes of the padded dy that Conv2D's forwardImplicit uses for
// the adjoint convolution: for kernel row ky, D's columns for that row are A_ky,
// a matrix of overlapping rows in its plane, with q positions per row of x
// (q − InW of them belonging to no pixel of x). So ∂L/∂x = Σ_ky A_ky·W_kyᵀ
// (into scratch, the valid rows copied to dx) and W_ky's gradient gets xqᵀ·A_ky,
// xq x with zero rows at those positions. The images are summed in
// min(convWGroups, batch) groups fixed by the batch alone, each into its own
// slot, the slots added in order, so the bits do not depend on the number of
// workers.
func (l *ConvTranspose2D) backwardImplicit(dy *tensor.Mat) *tensor.Mat {
	adj := l.Adj
	kc := l.wm.Cols
	run := adj.K * adj.InC
	if !l.NoInputGrad {
		l.dx = tensor.Reuse(l.dx, l.batch, l.InH*l.InW*l.InC)
		if len(l.wtk) != adj.K {
			l.wtk = make([]tensor.PackedB, adj.K)
		}
		for ky := range adj.K {
			wc := tensor.Mat{Rows: l.InC, Cols: run, Stride: kc, Data: l.wm.Data[ky*run:]}
			tensor.PackB(&l.wtk[ky], true, &wc)
		}
	}
	groups := min(convWGroups, l.batch)
	j := newRowJob(convTImplicitBackwardJob)
	j.a, j.b, j.geom, j.base, j.convT = l.x2, dy, adj, groups, l
	if !l.NoInputGrad {
		j.c = l.dx
	}
	return l.runGroups(j, groups)
}

// convTImplicitBackwardJob runs groups [lo, hi) of backwardImplicit (j.a = x as
// (pixels, InC), j.b = dy, j.c = dx or nil, j.f32 = the slots or nil, j.geom
// the adjoint convolution, j.base the number of groups, j.convT the layer).
func convTImplicitBackwardJob(j *rowJob, lo, hi int) {
	adj, x2, dy, dx, slots, groups, wtk := j.geom, j.a, j.b, j.c, j.f32, j.base, j.convT.wtk
	inC := x2.Cols
	s := adj.Stride
	oh, ow := adj.OutH(), adj.OutW()
	q, _, plane := adj.implicitPlanes()
	run := adj.K * adj.InC
	kc := adj.K * run
	batch := dy.Rows
	buf := borrow(s * plane)
	defer giveBack(buf)
	clear(buf)                  // the padding; each image overwrites only the inside
	scr := borrow(oh * q * inC) // x with q positions per row, or dx's rows before the copy
	defer giveBack(scr)
	clear(scr) // the positions of no pixel stay zero in xq
	var a, xq, slot tensor.Mat
	xq = tensor.Mat{Rows: oh * q, Cols: inC, Stride: inC, Data: scr}
	for grp := lo; grp < hi; grp++ {
		b0, b1 := batch*grp/groups, batch*(grp+1)/groups
		for b := b0; b < b1; b++ {
			adj.fillPlanes(buf, dy.Row(b))
			if slots != nil {
				xb := x2.Data[b*oh*ow*inC : (b+1)*oh*ow*inC]
				for oy := range oh {
					copy(scr[oy*q*inC:][:ow*inC], xb[oy*ow*inC:(oy+1)*ow*inC])
				}
				beta := float32(1)
				if b == b0 {
					beta = 0
				}
				for ky := range adj.K {
					a = adj.patchRows(buf, ky)
					slot = tensor.Mat{Rows: inC, Cols: run, Stride: kc, Data: slots[grp*inC*kc+ky*run : (grp+1)*inC*kc]}
					tensor.GemmOverlap(true, false, 1, &xq, &a, beta, &slot)
				}
			}
			if dx == nil {
				continue
			}
			// dx's rows into scr (xq's garbage rows are cleared again below).
			for ky := range adj.K {
				a = adj.patchRows(buf, ky)
				beta := float32(1)
				if ky == 0 {
					beta = 0
				}
				tensor.GemmPackedRows(1, &a, &wtk[ky], beta, &xq)
			}
			dxb := dx.Row(b)
			for oy := range oh {
				copy(dxb[oy*ow*inC:(oy+1)*ow*inC], scr[oy*q*inC:])
				clear(scr[(oy*q+ow)*inC : (oy+1)*q*inC])
			}
		}
	}
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
		colAccum(acc, r, len(r)/c, c, 0)
	}
	for k, v := range acc {
		db[k] = float32(v)
	}
	return acc
}
