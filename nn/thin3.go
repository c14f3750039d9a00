package nn

import "github.com/latent-ml/latent/tensor"

// Row kernels for a 3×3, stride-1, padding-1 convolution to one output channel
// (a U-Net's last layer, 32 channels to 1) and for the transposed convolution
// from one such layer's output shape back (a DCGAN generator's last layer):
// the thin path's GEMMs (conv_thin.go) have one to nine columns there, a
// fraction of the micro-kernel's 16 lanes, and col2im or the tap sums after
// them. Here each output is a dot product over channel vectors instead. In
// the convolution's form, with taps (r, k) reading the input pixel (y + r − 1,
// x + k − 1), channels contiguous (NHWC):
//
//	forward:         y[p] = b + Σ_{r,k} ⟨x[p + (r−1, k−1)], w_{r,k}⟩
//	input gradient:  dx[q] = Σ_{r,k} dy[q + (r−1, k−1)] · v_{r,k}
//	weight gradient: g_{r,k} = Σ_p dy[p] · x[p + (r−1, k−1)]
//
// A row of taps (k = 0, 1, 2) reads 3·C contiguous values of one input row, so
// the forward pass is three dot products of contiguous runs per output (two
// at the left and right edges), the input gradient nine broadcasts of a
// zero-padded dy against the taps' weight vectors per pixel, and the weight
// gradient three runs per output pixel scaled by dy. Convolution and
// transposed convolution differ only in which kernel taps are flipped (see the
// callers). Every output is computed by one call, its terms in a fixed order,
// and the weight gradient is summed per block of examples into its own slot,
// the slots added in order, so the bits do not depend on the number of workers.

// thin3 reports whether the row kernels run convolution geometry g: 3×3,
// stride 1, padding 1, one output channel, a multiple of 8 input channels and
// at least 3 columns, on a CPU with AVX2 and FMA.
func thin3(g ConvGeom) bool {
	return thinAsm && g.K == 3 && g.Stride == 1 && g.Pad == 1 && g.OutC == 1 && g.InC%8 == 0 && g.InC > 0 && g.InW >= 3
}

// thin3Block is the examples per block of the weight gradient.
func thin3Block(g ConvGeom) int { return max(1, 16384/(g.InH*g.InW)) }

// thin3Bufs is a layer's scratch for the row kernels: a row of zeros (the
// padding rows), its weights rearranged, the weight gradient's slots.
type thin3Bufs struct {
	zero, w, v, g9 []float32
	slots          *tensor.Mat
	dy             tensor.Mat // a view of the output gradient (one value per position)
}

// grow sizes the buffers for geometry g.
func (t *thin3Bufs) grow(g ConvGeom) {
	if n := g.InW * g.InC; len(t.zero) < n {
		t.zero = make([]float32, n)
	}
	if n := 9 * g.InC; len(t.w) != n {
		t.w, t.v, t.g9 = make([]float32, n), make([]float32, n), make([]float32, n)
	}
}

// thin3Forward sets y (batch, H·W) to b + the convolution of x (batch, H·W·C)
// with t.w (9·C, taps (r, k) in order, C channels each), examples in parallel.
func thin3Forward(y, x *tensor.Mat, t *thin3Bufs, b float32, g ConvGeom) {
	j := newRowJob(thin3ForwardJob)
	j.a, j.b, j.f32, j.z32, j.x32, j.geom = y, x, t.w, t.zero, b, g
	j.parallel(x.Rows, workerShare(x.Rows)) // one run of images per worker (see thin3InputGrad)
}

func thin3ForwardJob(j *rowJob, lo, hi int) {
	y, x, w, zero, b, g := j.a, j.b, j.f32, j.z32, j.x32, j.geom
	h, wd, c := g.InH, g.InW, g.InC
	w0, w1, w2 := &w[0], &w[3*c], &w[6*c]
	w0r, w1r, w2r := &w[c], &w[4*c], &w[7*c] // from tap k = 1
	for n := lo; n < hi; n++ {
		img, out := x.Row(n), y.Row(n)
		for oy := range h {
			var xr [3][]float32
			for r := range 3 {
				iy := oy + r - 1
				xr[r] = zero
				if iy >= 0 && iy < h {
					xr[r] = img[iy*wd*c : (iy+1)*wd*c]
				}
			}
			row := out[oy*wd : (oy+1)*wd]
			last := (wd - 2) * c
			thinDotRowx8(&row[0], &xr[0][0], &xr[1][0], &xr[2][0], w0r, w1r, w2r, b, 2*c, c, 1)
			if n := wd - 2; n >= 8 {
				// The inner pixels eight at a time, the last eight
				// again where n is not a multiple of 8 (the same
				// values: each pixel's sum does not depend on its
				// block).
				r0 := max(0, 1-oy)
				nr := min(h, oy+2) - max(0, oy-1)
				xs, ws := img[(oy-1+r0)*wd*c:], w[r0*3*c:]
				dot := thinDot8x8
				if thinAsm512 && c%16 == 0 {
					dot = thinDot8x16
				}
				dot(&row[1], &xs[0], &ws[0], b, 3*c, c, n&^7, wd*c, 3*c, nr)
				if k := n &^ 7; k < n {
					dot(&row[n-7], &xs[(n-8)*c], &ws[0], b, 3*c, c, 8, wd*c, 3*c, nr)
				}
			} else {
				thinDotRowx8(&row[1], &xr[0][0], &xr[1][0], &xr[2][0], w0, w1, w2, b, 3*c, c, wd-2)
			}
			thinDotRowx8(&row[wd-1], &xr[0][last], &xr[1][last], &xr[2][last], w0, w1, w2, b, 2*c, c, 1)
		}
	}
}

// thinPackTaps sets dst (9·C values) to the weight vectors v (9·C, taps in
// order) in thinScatterRowx8's layout: for each group of 32 channels the nine
// taps' 32 values, then for each remaining group of 8 the nine taps' 8.
func thinPackTaps(dst, v []float32, c int) {
	o := 0
	for c0 := 0; c0 < c; {
		k := 32
		if c-c0 < 32 {
			k = 8
		}
		for t := range 9 {
			copy(dst[o:o+k], v[t*c+c0:t*c+c0+k])
			o += k
		}
		c0 += k
	}
}

// thin3InputGrad sets dx (batch, H·W·C) to Σ dy[q + (r−1, k−1)]·v_{r,k} for dy
// (batch, H·W) and v packed by thinPackTaps, examples in parallel.
func thin3InputGrad(dx, dy *tensor.Mat, v []float32, g ConvGeom) {
	j := newRowJob(thin3InputGradJob)
	j.a, j.b, j.f32, j.geom = dx, dy, v, g
	// One run of images per worker, each borrowing its padded dy once: t3's
	// backward pass at two threads went 0.33 → 0.27 ms at batch 64 and 0.63 →
	// 0.51 at 128 (with the transposed convolutions' groups below; 5 rounds,
	// session 24). Each image's rows are its own: the same bits.
	j.parallel(dy.Rows, workerShare(dy.Rows))
}

func thin3InputGradJob(j *rowJob, lo, hi int) {
	dx, dy, v, g := j.a, j.b, j.f32, j.geom
	h, wd, c := g.InH, g.InW, g.InC
	pw := wd + 2
	pad := borrow((h + 2) * pw) // dy with a border of zeros
	clear(pad)
	for n := lo; n < hi; n++ {
		src, out := dy.Row(n), dx.Row(n)
		for y := range h {
			copy(pad[(y+1)*pw+1:], src[y*wd:(y+1)*wd])
		}
		for y := range h {
			d0, d1, d2 := pad[y*pw:], pad[(y+1)*pw:], pad[(y+2)*pw:]
			if thinAsm512 && c%32 == 0 && wd >= 4 {
				// Four pixels at a time, the last four again where wd
				// is not a multiple of 4 (the same values).
				thinScatter4x32(&out[y*wd*c], &d0[0], &d1[0], &d2[0], &v[0], c, wd&^3)
				if k := wd - 4; wd%4 != 0 {
					thinScatter4x32(&out[(y*wd+k)*c], &d0[k], &d1[k], &d2[k], &v[0], c, 4)
				}
				continue
			}
			thinScatterRowx8(&out[y*wd*c], &d0[0], &d1[0], &d2[0], &v[0], c, wd)
		}
	}
	giveBack(pad)
}

// thin3WeightGrad sets g9 (9·C) to Σ_p dy[p]·x[p + (r−1, k−1)] over the batch,
// each block of thin3Block examples summed into its row of slots (resized to
// blocks × 9·C), the rows added in order.
func thin3WeightGrad(g9 []float32, slots *tensor.Mat, x, dy *tensor.Mat, zero []float32, g ConvGeom) *tensor.Mat {
	per := thin3Block(g)
	nb := (x.Rows + per - 1) / per
	slots = tensor.Reuse(slots, nb, 9*g.InC)
	slots.Zero()
	j := newRowJob(thin3WeightGradJob)
	j.a, j.b, j.c, j.z32, j.geom = slots, x, dy, zero, g
	j.parallel(x.Rows, per)
	clear(g9)
	for k := range nb {
		for i, s := range slots.Row(k) {
			g9[i] += s
		}
	}
	return slots
}

func thin3WeightGradJob(j *rowJob, lo, hi int) {
	slots, x, dy, zero, g := j.a, j.b, j.c, j.z32, j.geom
	h, wd, c := g.InH, g.InW, g.InC
	per := thin3Block(g)
	rows3 := thinAsm512 && c%16 == 0
	for n := lo; n < hi; n++ {
		acc := slots.Row(n / per)
		img, d := x.Row(n), dy.Row(n)
		for oy := range h {
			drow := d[oy*wd : (oy+1)*wd]
			var xr [3][]float32
			for r := range 3 {
				xr[r] = zero // a row of the padding adds zeros
				if iy := oy + r - 1; iy >= 0 && iy < h {
					xr[r] = img[iy*wd*c : (iy+1)*wd*c]
				}
			}
			if rows3 {
				// The inner pixels of all three rows at once.
				thinGrad3x16(&acc[0], &xr[0][0], &xr[1][0], &xr[2][0], &drow[1], c, wd-2)
			}
			for r := range 3 {
				if iy := oy + r - 1; iy < 0 || iy >= h {
					continue
				}
				gr := acc[3*r*c : 3*(r+1)*c]
				thinGradRowx8(&gr[c], &xr[r][0], &drow[0], 2*c, c, 1)
				if !rows3 {
					thinGradRowx8(&gr[0], &xr[r][0], &drow[1], 3*c, c, wd-2)
				}
				thinGradRowx8(&gr[0], &xr[r][(wd-2)*c], &drow[wd-1], 2*c, c, 1)
			}
		}
	}
}

// backwardThin3 is Conv2D's backward pass by the row kernels (dy2 the output
// gradient, one value per position).
func (l *Conv2D) backwardThin3(dy2 *tensor.Mat) {
	g := l.Geom
	l.t3.dy = tensor.Mat{Rows: l.batch, Cols: g.InH * g.InW, Stride: g.InH * g.InW, Data: dy2.Data}
	dy := &l.t3.dy
	l.t3.grow(g)
	if !l.NoParamGrad {
		colSum(l.B.G, dy2)
		l.t3.slots = thin3WeightGrad(l.W.G, l.t3.slots, l.x, dy, l.t3.zero, g)
	}
	if !l.NoInputGrad {
		// dx[q] = Σ_t dy[q − (ky−1, kx−1)]·w_t: tap t' = 8 − t of the
		// convolution's form.
		c := g.InC
		for t := range 9 {
			copy(l.t3.g9[(8-t)*c:(9-t)*c], l.W.W[t*c:(t+1)*c])
		}
		thinPackTaps(l.t3.v, l.t3.g9, c)
		thin3InputGrad(l.dx, dy, l.t3.v, g)
	}
}

// thin3 returns the geometry in the convolution's form (the transposed
// convolution's input channels as its InC) and whether the row kernels run
// this layer: its adjoint convolution maps one channel, 3×3, stride 1,
// padding 1 (see thin3).
func (l *ConvTranspose2D) thin3() (ConvGeom, bool) {
	a := l.Adj
	g := ConvGeom{InH: a.InH, InW: a.InW, InC: a.OutC, OutC: a.InC, K: a.K, Stride: a.Stride, Pad: a.Pad}
	return g, a.InH == a.OutH() && a.InW == a.OutW() && thin3(g)
}

// backwardThin3 is ConvTranspose2D's backward pass by the row kernels, for
// geometry g of its thin3; the bias gradient is already set.
func (l *ConvTranspose2D) backwardThin3(dy *tensor.Mat, g ConvGeom) *tensor.Mat {
	c := g.InC
	dyc := contiguous(&l.t3dy, dy)
	l.t3.grow(g)
	if !l.NoParamGrad {
		// ∂L/∂W[c, t] = Σ_q x[q, c]·dy[q + (ky−1, kx−1)] = Σ_p dy[p]·x[p −
		// (ky−1, kx−1), c]: the convolution's form at tap 8 − t.
		l.t3.slots = thin3WeightGrad(l.t3.g9, l.t3.slots, l.t3x, dyc, l.t3.zero, g)
		for t := range 9 {
			for ci := range c {
				l.W.G[ci*9+t] = l.t3.g9[(8-t)*c+ci]
			}
		}
	}
	if l.NoInputGrad {
		return nil
	}
	// ∂L/∂x[q] = Σ_t dy[q + (ky−1, kx−1)]·W[·, t]: the taps as they are.
	for t := range 9 {
		for ci := range c {
			l.t3.g9[t*c+ci] = l.W.W[ci*9+t]
		}
	}
	thinPackTaps(l.t3.v, l.t3.g9, c)
	l.dx = tensor.Reuse(l.dx, l.batch, l.InH*l.InW*l.InC)
	thin3InputGrad(l.dx, dyc, l.t3.v, g)
	return l.dx
}
