package nn

import "github.com/latent-ml/latent/tensor"

// A convolution with a thin output (K²·OutC ≤ 16 values per pixel, such as a
// U-Net's last layer, 32 channels to 1 by 3×3) makes im2col's GEMM a product
// with one to a few columns and rows of K²·InC: the micro-kernel's 16 lanes
// work on OutC of them, and the input gradient scatters K²·InC values per
// position back through col2im. The thin path multiplies on the other side of
// the kernel instead, with the input's own pixels as the rows:
//
//	Z = X·Wt,   Wt[c, (t, o)] = W[(t, c), o]       (pixels × K²·OutC)
//	y[(b,oy,ox), o] = b_o + Σ_t Z[(b, oy·S−P+ky, ox·S−P+kx), (t, o)]
//
// over the kernel taps t = ky·K + kx that fall inside the image, in that order.
// Backward builds D[(b,iy,ix), (t, o)] = dy[(b,oy,ox), o] for the output pixel
// whose tap t lands on (iy, ix) (zero where none does), and then
//
//	∂L/∂x = D·Wtᵀ,   ∂L/∂Wt = Xᵀ·D,   ∂L/∂b = Σ dy.
//
// Examples go in blocks of about convChunk values of Z or D, the blocks in
// parallel: each output row and each row of ∂L/∂x depends on its own example
// only, and each block's ∂L/∂Wt goes to its own slot, the slots added in block
// order, so the sums do not depend on the number of workers.
func (g ConvGeom) thinOut() bool { return g.OutC*g.K*g.K <= 16 && g.InC >= 16 }

// thinBlock returns the examples per block of the thin path.
func (g ConvGeom) thinBlock() int {
	return max(1, convChunk/(g.InH*g.InW*g.K*g.K*g.OutC))
}

// thinOffsets returns K² and, for each tap t, the offset in Z (or D) from the
// value (t = 0, o = 0) of the pixel under an output's top-left tap to the value
// (t, o = 0) of the pixel under tap t.
func (g ConvGeom) thinOffsets() (kk int, offs [16]int) {
	n := g.K * g.K * g.OutC
	for t := range g.K * g.K {
		ky, kx := t/g.K, t%g.K
		offs[t] = (ky*g.InW+kx)*n + t*g.OutC
	}
	return g.K * g.K, offs
}

// inside reports whether every tap of output pixel (oy, ox) falls on the image.
func (g ConvGeom) inside(oy, ox int) bool {
	iy, ix := oy*g.Stride-g.Pad, ox*g.Stride-g.Pad
	return iy >= 0 && ix >= 0 && iy+g.K <= g.InH && ix+g.K <= g.InW
}

// borderTaps calls fn(pixel, t) for each tap t = ky·K + kx of output pixel
// (oy, ox) that falls on the image, in order of t, pixel = iy·InW + ix (the
// bounds-tested path for outputs near the border; see inside).
func (g ConvGeom) borderTaps(oy, ox int, fn func(pix, t int)) {
	for ky := range g.K {
		iy := oy*g.Stride - g.Pad + ky
		if iy < 0 || iy >= g.InH {
			continue
		}
		for kx := range g.K {
			if ix := ox*g.Stride - g.Pad + kx; ix >= 0 && ix < g.InW {
				fn(iy*g.InW+ix, ky*g.K+kx)
			}
		}
	}
}

// thinWeights sets wt (InC × K²·OutC) to W re-laid out as above.
func thinWeights(wt *tensor.Mat, w *tensor.Mat, g ConvGeom) {
	kk := g.K * g.K
	for t := range kk {
		for c := range g.InC {
			copy(wt.Row(c)[t*g.OutC:(t+1)*g.OutC], w.Row(t*g.InC+c))
		}
	}
}

// forwardThin sets l.y to the convolution of x (contiguous) by the thin path,
// blocks of examples in parallel (each output row depends on its own example
// only, so the pieces do not change the bits).
func (l *Conv2D) forwardThin(x *tensor.Mat) {
	g := l.Geom
	l.thinW = tensor.Reuse(l.thinW, g.InC, g.K*g.K*g.OutC)
	thinWeights(l.thinW, l.wm, g)
	j := newRowJob(thinForwardJob)
	j.conv, j.b = l, x
	j.parallel(x.Rows, g.thinBlock())
}

func thinForwardJob(j *rowJob, lo, hi int) {
	l, x := j.conv, j.b
	g := l.Geom
	px, n := g.InH*g.InW, g.K*g.K*g.OutC
	oh, ow := g.OutH(), g.OutW()
	per := g.thinBlock()
	buf := borrow(per * px * n)
	kk, offs := g.thinOffsets()
	var xb, z tensor.Mat
	for b0 := lo; b0 < hi; b0 += per {
		b1 := min(b0+per, hi)
		xb = tensor.Mat{Rows: (b1 - b0) * px, Cols: g.InC, Stride: g.InC, Data: x.Data[b0*px*g.InC:]}
		z = tensor.Mat{Rows: (b1 - b0) * px, Cols: n, Stride: n, Data: buf[:(b1-b0)*px*n]}
		tensor.Gemm(false, false, 1, &xb, l.thinW, 0, &z)
		for b := b0; b < b1; b++ {
			zb := z.Data[(b-b0)*px*n:]
			y := l.y.Row(b)
			for oy := range oh {
				for ox := range ow {
					out := y[(oy*ow+ox)*g.OutC:][:g.OutC]
					if g.inside(oy, ox) { // every tap on the image: no tests
						base := ((oy*g.Stride-g.Pad)*g.InW + ox*g.Stride - g.Pad) * n
						for o := range out {
							s := l.B.W[o]
							for _, off := range offs[:kk] {
								s += zb[base+off+o]
							}
							out[o] = s
						}
						continue
					}
					copy(out, l.B.W)
					g.borderTaps(oy, ox, func(pix, t int) {
						for o, v := range zb[pix*n+t*g.OutC:][:g.OutC] {
							out[o] += v
						}
					})
				}
			}
		}
	}
	giveBack(buf)
}

// backwardThin computes the gradients of the thin path (dx when not
// NoInputGrad, W.G and B.G when not NoParamGrad) from dy2, (positions, OutC).
// Blocks of examples run in parallel; each block's ∂L/∂Wt goes to its own slot
// and the slots are added in block order afterwards, so the sums do not depend
// on the number of workers.
func (l *Conv2D) backwardThin(dy2 *tensor.Mat) {
	g := l.Geom
	kk, n := g.K*g.K, g.K*g.K*g.OutC
	per := g.thinBlock()
	nb := (l.batch + per - 1) / per
	if !l.NoParamGrad {
		colSum(l.B.G, dy2)
		l.thinG = tensor.Reuse(l.thinG, nb*g.InC, n)
	}
	if !l.NoInputGrad {
		l.thinW = tensor.Reuse(l.thinW, g.InC, n)
		thinWeights(l.thinW, l.wm, g)
	}
	j := newRowJob(thinBackwardJob)
	j.conv, j.b = l, dy2
	j.parallel(l.batch, per)
	if l.NoParamGrad {
		return
	}
	for t := range kk {
		for c := range g.InC {
			dst := l.gm.Row(t*g.InC + c)
			for o := range dst {
				var s float32
				for k := range nb {
					s += l.thinG.At(k*g.InC+c, t*g.OutC+o)
				}
				dst[o] = s
			}
		}
	}
}

func thinBackwardJob(j *rowJob, lo, hi int) {
	l, dy2 := j.conv, j.b
	g := l.Geom
	px, n := g.InH*g.InW, g.K*g.K*g.OutC
	oh, ow := g.OutH(), g.OutW()
	per := g.thinBlock()
	buf := borrow(per * px * n)
	kk, offs := g.thinOffsets()
	var d, xb, dxb, part tensor.Mat
	for b0 := lo; b0 < hi; b0 += per {
		b1 := min(b0+per, hi)
		d = tensor.Mat{Rows: (b1 - b0) * px, Cols: n, Stride: n, Data: buf[:(b1-b0)*px*n]}
		clear(d.Data)
		for b := b0; b < b1; b++ {
			db := d.Data[(b-b0)*px*n:]
			dyb := dy2.Data[b*oh*ow*g.OutC:]
			for oy := range oh {
				for ox := range ow {
					src := dyb[(oy*ow+ox)*g.OutC:][:g.OutC]
					if g.inside(oy, ox) {
						base := ((oy*g.Stride-g.Pad)*g.InW + ox*g.Stride - g.Pad) * n
						for _, off := range offs[:kk] {
							for o, v := range src {
								db[base+off+o] = v
							}
						}
						continue
					}
					g.borderTaps(oy, ox, func(pix, t int) {
						copy(db[pix*n+t*g.OutC:][:g.OutC], src)
					})
				}
			}
		}
		if !l.NoInputGrad {
			dxb = tensor.Mat{Rows: (b1 - b0) * px, Cols: g.InC, Stride: g.InC, Data: l.dx.Data[b0*px*g.InC:]}
			tensor.Gemm(false, true, 1, &d, l.thinW, 0, &dxb)
		}
		if !l.NoParamGrad {
			xb = tensor.Mat{Rows: (b1 - b0) * px, Cols: g.InC, Stride: g.InC, Data: l.x.Data[b0*px*g.InC:]}
			rowsOf(&part, l.thinG, b0/per*g.InC, (b0/per+1)*g.InC)
			tensor.Gemm(true, false, 1, &xb, &d, 0, &part)
		}
	}
	giveBack(buf)
}
