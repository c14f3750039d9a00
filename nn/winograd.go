package nn

import "github.com/latent-ml/latent/tensor"

// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016, "Fast algorithms
// for convolutional neural networks") for the 3×3 stride-1 convolutions of a
// U-Net. The output is cut into 2×2 tiles; the 4×4 input tile d under each and
// the 3×3 kernel g of each (input, output) channel pair are transformed,
//
//	V = Bᵀ d B,   U = G g Gᵀ,   y = Aᵀ (U ⊙ V) A,
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],
//	G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],   Aᵀ = [1 1 1 0; 0 1 −1 −1],
//
// so that for each of the 16 transform positions ξ the sum over input channels
// is one GEMM, M_ξ = V_ξ·U_ξ of (tiles, InC)·(InC, OutC): 16 multiplications per
// 2×2 outputs where the direct form takes 36, 2.25× fewer FLOPs. The backward
// passes are the exact adjoints of the same three maps:
//
//	dM = A dy Aᵀ (per tile),   dU_ξ = V_ξᵀ·dM_ξ,   dW = Gᵀ dU G,
//	dV_ξ = dM_ξ·U_ξᵀ,          dx = Σ_tiles B dV Bᵀ (overlapping tiles added).
//
// Every transform is linear in channel vectors (NHWC keeps a pixel's channels
// together), so each is a handful of vector adds over channels, done in chunks
// of wgChunk channels in a stack buffer. Tiles of an example are handled by one
// worker in a fixed order, so the bits do not depend on the number of workers.

// wgChunk is how many channels a tile transform handles at once.
const wgChunk = 64

// useWinograd reports whether Conv2D computes geometry g by F(2×2, 3×3): a 3×3
// kernel at stride 1 with enough channels on both sides for the 16 GEMMs to run
// well (with few channels im2col's one GEMM of depth 9·InC is faster).
func useWinograd(g ConvGeom) bool {
	return g.K == 3 && g.Stride == 1 && g.InC >= 16 && g.OutC >= 16
}

// wgTiles returns the tiles per image along y and x.
func wgTiles(g ConvGeom) (th, tw int) { return (g.OutH() + 1) / 2, (g.OutW() + 1) / 2 }

// winograd holds a Conv2D's transformed operands and views of their 16 planes.
// U, dU and V (kept from the forward pass for the weight gradient) belong to the
// layer; M, dM and dV live only inside one call and are borrowed scratch.
type winograd struct {
	u, v, du      *tensor.Mat // (16·rows, cols): plane ξ is rows [ξ·rows, (ξ+1)·rows)
	m, dm, dv     tensor.Mat  // the same layout, in borrowed scratch
	pu, pv, pm    [16]tensor.Mat
	pdm, pdv, pdu [16]tensor.Mat
	zero          []float32 // read-only zeros for input pixels in the padding
}

// planes points p[ξ] at plane ξ of m, which holds 16 planes of rows×cols.
func planes(p *[16]tensor.Mat, m *tensor.Mat, rows, cols int) {
	for k := range p {
		o := k * rows * cols
		p[k] = tensor.Mat{Rows: rows, Cols: cols, Stride: cols, Data: m.Data[o : o+rows*cols : o+rows*cols]}
	}
}

func (w *winograd) scratch(n int) {
	if len(w.zero) < n {
		w.zero = make([]float32, n)
	}
}

// forward sets y (batch, OutH·OutW·OutC) to the convolution of x with the
// weights wm (9·InC, OutC) plus the bias b, keeping V for the weight gradient.
func (w *winograd) forward(y, x, wm *tensor.Mat, b []float32, g ConvGeom) {
	th, tw := wgTiles(g)
	t := x.Rows * th * tw
	w.u = tensor.Reuse(w.u, 16*g.InC, g.OutC)
	wgWeights(w.u, wm, g.InC)
	w.v = tensor.Reuse(w.v, 16*t, g.InC)
	m := borrowMat(&w.m, 16*t, g.OutC)
	defer giveBack(m.Data)
	planes(&w.pu, w.u, g.InC, g.OutC)
	planes(&w.pv, w.v, t, g.InC)
	planes(&w.pm, m, t, g.OutC)
	w.scratch(max(g.InC, g.OutC))
	j := newRowJob(wgInputJob)
	j.a, j.b, j.f32, j.geom = w.v, x, w.zero, g
	j.parallel(x.Rows, 1)
	for k := range 16 {
		tensor.Gemm(false, false, 1, &w.pv[k], &w.pu[k], 0, &w.pm[k])
	}
	j = newRowJob(wgOutputJob)
	j.a, j.b, j.f32, j.geom = y, m, b, g
	j.parallel(x.Rows, 1)
}

// backward sets gm (9·InC, OutC) to ∂L/∂W when gm is not nil and dx to ∂L/∂x
// when dx is not nil, for dy (batch, OutH·OutW·OutC) and the last forward.
func (w *winograd) backward(dx, gm, dy *tensor.Mat, g ConvGeom) {
	th, tw := wgTiles(g)
	batch := dy.Rows
	t := batch * th * tw
	dm := borrowMat(&w.dm, 16*t, g.OutC)
	defer giveBack(dm.Data)
	planes(&w.pdm, dm, t, g.OutC)
	j := newRowJob(wgGradOutputJob)
	j.a, j.b, j.f32, j.geom = dm, dy, w.zero, g
	j.parallel(batch, 1)
	if gm != nil {
		w.du = tensor.Reuse(w.du, 16*g.InC, g.OutC)
		planes(&w.pdu, w.du, g.InC, g.OutC)
		for k := range 16 {
			tensor.Gemm(true, false, 1, &w.pv[k], &w.pdm[k], 0, &w.pdu[k])
		}
		wgWeightsAdjoint(gm, w.du, g.InC)
	}
	if dx == nil {
		return
	}
	dv := borrowMat(&w.dv, 16*t, g.InC)
	defer giveBack(dv.Data)
	planes(&w.pdv, dv, t, g.InC)
	for k := range 16 {
		tensor.Gemm(false, true, 1, &w.pdm[k], &w.pu[k], 0, &w.pdv[k])
	}
	j = newRowJob(wgGradInputJob)
	j.a, j.b, j.geom = dx, dv, g
	j.parallel(batch, 1)
}

// wgWeights sets the 16 planes of u (16·C, OC) to G g Gᵀ for the kernels of wm
// (9·C, OC), row (ky·3+kx)·C + c.
func wgWeights(u, wm *tensor.Mat, c int) {
	var t [12][]float32 // t[i·3+kx] = (G g)[i][kx]
	var buf [12 * wgChunk]float32
	oc := wm.Cols
	for o0 := 0; o0 < oc; o0 += wgChunk {
		n := min(wgChunk, oc-o0)
		for i := range t {
			t[i] = buf[i*wgChunk : i*wgChunk+n]
		}
		for ci := 0; ci < c; ci++ {
			r := func(ky, kx int) []float32 { return wm.Row((ky*3+kx)*c + ci)[o0 : o0+n] }
			for kx := 0; kx < 3; kx++ {
				wgG(t[kx], t[3+kx], t[6+kx], t[9+kx], r(0, kx), r(1, kx), r(2, kx))
			}
			p := func(i, j int) []float32 { return u.Row((i*4+j)*c + ci)[o0 : o0+n] }
			for i := 0; i < 4; i++ {
				wgG(p(i, 0), p(i, 1), p(i, 2), p(i, 3), t[i*3], t[i*3+1], t[i*3+2])
			}
		}
	}
}

// wgWeightsAdjoint sets gm (9·C, OC) to Gᵀ dU G for the 16 planes of du.
func wgWeightsAdjoint(gm, du *tensor.Mat, c int) {
	var t [12][]float32 // t[ky·4+j] = (Gᵀ dU)[ky][j]
	var buf [12 * wgChunk]float32
	oc := gm.Cols
	for o0 := 0; o0 < oc; o0 += wgChunk {
		n := min(wgChunk, oc-o0)
		for i := range t {
			t[i] = buf[i*wgChunk : i*wgChunk+n]
		}
		for ci := 0; ci < c; ci++ {
			p := func(i, j int) []float32 { return du.Row((i*4+j)*c + ci)[o0 : o0+n] }
			for j := 0; j < 4; j++ {
				wgGT(t[j], t[4+j], t[8+j], p(0, j), p(1, j), p(2, j), p(3, j))
			}
			r := func(ky, kx int) []float32 { return gm.Row((ky*3+kx)*c + ci)[o0 : o0+n] }
			for ky := 0; ky < 3; ky++ {
				wgGT(r(ky, 0), r(ky, 1), r(ky, 2), t[ky*4], t[ky*4+1], t[ky*4+2], t[ky*4+3])
			}
		}
	}
}

// wgInputJob writes V = Bᵀ d B for the tiles of examples [lo, hi): j.a is V
// (16·T, C), j.b the input x, j.f32 a zero vector of at least C values.
func wgInputJob(j *rowJob, lo, hi int) {
	v, x, zero, g := j.a, j.b, j.f32, j.geom
	th, tw := wgTiles(g)
	t := v.Rows / 16
	c := g.InC
	img := x.Row(0)
	var d [16][]float32 // the 4×4 input pixels of a tile (zero outside)
	var tb [16][]float32
	var buf [16 * wgChunk]float32
	for b := lo; b < hi; b++ {
		img = x.Row(b)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx
				wgInPixels(&d, img, ty, tx, g)
				for i, v := range d {
					if v == nil {
						d[i] = zero[:c]
					}
				}
				for c0 := 0; c0 < c; c0 += wgChunk {
					n := min(wgChunk, c-c0)
					for i := range tb {
						tb[i] = buf[i*wgChunk : i*wgChunk+n]
					}
					for s := 0; s < 4; s++ { // Bᵀ d, a column at a time
						wgBT(tb[s], tb[4+s], tb[8+s], tb[12+s], d[s][c0:c0+n], d[4+s][c0:c0+n], d[8+s][c0:c0+n], d[12+s][c0:c0+n])
					}
					for i := 0; i < 4; i++ { // (Bᵀ d) B, a row at a time
						p := func(k int) []float32 { return v.Row(k*t + tile)[c0 : c0+n] }
						wgBT(p(i*4), p(i*4+1), p(i*4+2), p(i*4+3), tb[i*4], tb[i*4+1], tb[i*4+2], tb[i*4+3])
					}
				}
			}
		}
	}
}

// wgOutputJob writes y = Aᵀ M A + b for the tiles of examples [lo, hi): j.a is
// y, j.b is M (16·T, OC), j.f32 the bias.
func wgOutputJob(j *rowJob, lo, hi int) {
	y, m, bias, g := j.a, j.b, j.f32, j.geom
	th, tw := wgTiles(g)
	t := m.Rows / 16
	oc := g.OutC
	var tb [8][]float32
	var buf [8 * wgChunk]float32
	var sink [wgChunk]float32 // outputs past the image's edge
	for b := lo; b < hi; b++ {
		img := y.Row(b)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx
				var out [4][]float32
				wgOutPixels(&out, img, ty, tx, g)
				for c0 := 0; c0 < oc; c0 += wgChunk {
					n := min(wgChunk, oc-c0)
					for i := range tb {
						tb[i] = buf[i*wgChunk : i*wgChunk+n]
					}
					pl := func(k int) []float32 { return m.Row(k*t + tile)[c0 : c0+n] }
					for s := 0; s < 4; s++ { // Aᵀ M, a column at a time
						wgAT(tb[s], tb[4+s], pl(s), pl(4+s), pl(8+s), pl(12+s))
					}
					bb := bias[c0 : c0+n]
					o := func(k int) []float32 {
						if out[k] == nil {
							return sink[:n]
						}
						return out[k][c0 : c0+n]
					}
					for p := 0; p < 2; p++ { // (Aᵀ M) A + b, a row at a time
						wgATBias(o(p*2), o(p*2+1), tb[p*4], tb[p*4+1], tb[p*4+2], tb[p*4+3], bb)
					}
				}
			}
		}
	}
}

// wgGradOutputJob writes dM = A dy Aᵀ for the tiles of examples [lo, hi): j.a
// is dM (16·T, OC), j.b is dy, j.f32 a zero vector of at least OC values.
func wgGradOutputJob(j *rowJob, lo, hi int) {
	dm, dy, zero, g := j.a, j.b, j.f32, j.geom
	th, tw := wgTiles(g)
	t := dm.Rows / 16
	oc := g.OutC
	var tb [8][]float32
	var buf [8 * wgChunk]float32
	for b := lo; b < hi; b++ {
		img := dy.Row(b)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx
				var in [4][]float32
				wgOutPixels(&in, img, ty, tx, g)
				for i, v := range in {
					if v == nil {
						in[i] = zero[:oc]
					}
				}
				for c0 := 0; c0 < oc; c0 += wgChunk {
					n := min(wgChunk, oc-c0)
					for i := range tb {
						tb[i] = buf[i*wgChunk : i*wgChunk+n]
					}
					for q := 0; q < 2; q++ { // A dy, a column at a time: tb[i·2+q]
						wgA(tb[q], tb[2+q], tb[4+q], tb[6+q], in[q][c0:c0+n], in[2+q][c0:c0+n])
					}
					for i := 0; i < 4; i++ { // (A dy) Aᵀ, a row at a time
						p := func(k int) []float32 { return dm.Row(k*t + tile)[c0 : c0+n] }
						wgA(p(i*4), p(i*4+1), p(i*4+2), p(i*4+3), tb[i*2], tb[i*2+1])
					}
				}
			}
		}
	}
}

// wgGradInputJob sets dx for examples [lo, hi) to Σ_tiles B dV Bᵀ, each tile's
// 4×4 values added onto the input pixels under it: j.a is dx, j.b is dV
// (16·T, C).
func wgGradInputJob(j *rowJob, lo, hi int) {
	dx, dv, g := j.a, j.b, j.geom
	th, tw := wgTiles(g)
	t := dv.Rows / 16
	c := g.InC
	var d [16][]float32
	var tb [16][]float32
	var buf [16 * wgChunk]float32
	var sink [wgChunk]float32 // gradients of the padding, dropped
	for b := lo; b < hi; b++ {
		img := dx.Row(b)
		clear(img)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx
				wgInPixels(&d, img, ty, tx, g)
				for c0 := 0; c0 < c; c0 += wgChunk {
					n := min(wgChunk, c-c0)
					for i := range tb {
						tb[i] = buf[i*wgChunk : i*wgChunk+n]
					}
					p := func(k int) []float32 { return dv.Row(k*t + tile)[c0 : c0+n] }
					for s := 0; s < 4; s++ { // B dV, a column at a time: tb[r·4+s]
						wgB(tb[s], tb[4+s], tb[8+s], tb[12+s], p(s), p(4+s), p(8+s), p(12+s))
					}
					o := func(k int) []float32 {
						if d[k] == nil {
							return sink[:n]
						}
						return d[k][c0 : c0+n]
					}
					for r := 0; r < 4; r++ { // (B dV) Bᵀ, a row at a time, added onto dx
						wgBAdd(o(r*4), o(r*4+1), o(r*4+2), o(r*4+3), tb[r*4], tb[r*4+1], tb[r*4+2], tb[r*4+3])
					}
				}
			}
		}
	}
}

// wgInPixels points d[r·4+s] at the InC values of input pixel
// (2ty − Pad + r, 2tx − Pad + s) of img, the 4×4 input tile under output tile
// (ty, tx), or sets it to nil where the pixel lies in the padding.
func wgInPixels(d *[16][]float32, img []float32, ty, tx int, g ConvGeom) {
	c := g.InC
	for r := 0; r < 4; r++ {
		iy := 2*ty - g.Pad + r
		for s := 0; s < 4; s++ {
			ix := 2*tx - g.Pad + s
			d[r*4+s] = nil
			if iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW {
				o := (iy*g.InW + ix) * c
				d[r*4+s] = img[o : o+c]
			}
		}
	}
}

// wgOutPixels points out[p·2+q] at the OutC values of output pixel
// (2ty + p, 2tx + q) of img, or sets it to nil where the 2×2 tile runs past the
// image's edge.
func wgOutPixels(out *[4][]float32, img []float32, ty, tx int, g ConvGeom) {
	oc, oh, ow := g.OutC, g.OutH(), g.OutW()
	for p := 0; p < 2; p++ {
		for q := 0; q < 2; q++ {
			oy, ox := 2*ty+p, 2*tx+q
			out[p*2+q] = nil
			if oy < oh && ox < ow {
				o := (oy*ow + ox) * oc
				out[p*2+q] = img[o : o+oc]
			}
		}
	}
}

// The 1-D transforms, each on vectors of channels (all of one length).

// wgBT: (o0, o1, o2, o3) = Bᵀ (a, b, c, d).
func wgBT(o0, o1, o2, o3, a, b, c, d []float32) {
	n := len(o0)
	o1, o2, o3, a, b, c, d = o1[:n], o2[:n], o3[:n], a[:n], b[:n], c[:n], d[:n]
	k := 0
	if wgAsm && n >= 8 {
		k = n &^ 7
		wgBTx8(&o0[0], &o1[0], &o2[0], &o3[0], &a[0], &b[0], &c[0], &d[0], k)
	}
	for i := k; i < n; i++ {
		bi, ci := b[i], c[i]
		o0[i] = a[i] - ci
		o1[i] = bi + ci
		o2[i] = ci - bi
		o3[i] = bi - d[i]
	}
}

// wgB: (o0, o1, o2, o3) = B (a, b, c, d), the adjoint of wgBT.
func wgB(o0, o1, o2, o3, a, b, c, d []float32) {
	n := len(o0)
	o1, o2, o3, a, b, c, d = o1[:n], o2[:n], o3[:n], a[:n], b[:n], c[:n], d[:n]
	k := 0
	if wgAsm && n >= 8 {
		k = n &^ 7
		wgBx8(&o0[0], &o1[0], &o2[0], &o3[0], &a[0], &b[0], &c[0], &d[0], k)
	}
	for i := k; i < n; i++ {
		ai, bi, ci := a[i], b[i], c[i]
		o0[i] = ai
		o1[i] = bi - ci + d[i]
		o2[i] = bi + ci - ai
		o3[i] = -d[i]
	}
}

// wgBAdd: (o0, o1, o2, o3) += B (a, b, c, d).
func wgBAdd(o0, o1, o2, o3, a, b, c, d []float32) {
	n := len(o0)
	o1, o2, o3, a, b, c, d = o1[:n], o2[:n], o3[:n], a[:n], b[:n], c[:n], d[:n]
	k := 0
	if wgAsm && n >= 8 {
		k = n &^ 7
		wgBAddx8(&o0[0], &o1[0], &o2[0], &o3[0], &a[0], &b[0], &c[0], &d[0], k)
	}
	for i := k; i < n; i++ {
		ai, bi, ci := a[i], b[i], c[i]
		o0[i] += ai
		o1[i] += bi - ci + d[i]
		o2[i] += bi + ci - ai
		o3[i] -= d[i]
	}
}

// wgG: (o0, o1, o2, o3) = G (a, b, c).
func wgG(o0, o1, o2, o3, a, b, c []float32) {
	n := len(o0)
	o1, o2, o3, a, b, c = o1[:n], o2[:n], o3[:n], a[:n], b[:n], c[:n]
	for i := range o0 {
		ai, bi, ci := a[i], b[i], c[i]
		s := 0.5 * (ai + ci)
		o0[i] = ai
		o1[i] = s + 0.5*bi
		o2[i] = s - 0.5*bi
		o3[i] = ci
	}
}

// wgGT: (o0, o1, o2) = Gᵀ (a, b, c, d), the adjoint of wgG.
func wgGT(o0, o1, o2, a, b, c, d []float32) {
	n := len(o0)
	o1, o2, a, b, c, d = o1[:n], o2[:n], a[:n], b[:n], c[:n], d[:n]
	for i := range o0 {
		s := 0.5 * (b[i] + c[i])
		o0[i] = a[i] + s
		o1[i] = 0.5 * (b[i] - c[i])
		o2[i] = d[i] + s
	}
}

// wgAT: (o0, o1) = Aᵀ (a, b, c, d).
func wgAT(o0, o1, a, b, c, d []float32) {
	n := len(o0)
	o1, a, b, c, d = o1[:n], a[:n], b[:n], c[:n], d[:n]
	k := 0
	if wgAsm && n >= 8 {
		k = n &^ 7
		wgATx8(&o0[0], &o1[0], &a[0], &b[0], &c[0], &d[0], nil, k)
	}
	for i := k; i < n; i++ {
		bi, ci := b[i], c[i]
		o0[i] = a[i] + bi + ci
		o1[i] = bi - ci - d[i]
	}
}

// wgATBias: (o0, o1) = Aᵀ (a, b, c, d) + (bias, bias).
func wgATBias(o0, o1, a, b, c, d, bias []float32) {
	n := len(o0)
	o1, a, b, c, d, bias = o1[:n], a[:n], b[:n], c[:n], d[:n], bias[:n]
	k := 0
	if wgAsm && n >= 8 {
		k = n &^ 7
		wgATx8(&o0[0], &o1[0], &a[0], &b[0], &c[0], &d[0], &bias[0], k)
	}
	for i := k; i < n; i++ {
		bi, ci := b[i], c[i]
		o0[i] = a[i] + bi + ci + bias[i]
		o1[i] = bi - ci - d[i] + bias[i]
	}
}

// wgA: (o0, o1, o2, o3) = A (a, b), the adjoint of wgAT.
func wgA(o0, o1, o2, o3, a, b []float32) {
	n := len(o0)
	o1, o2, o3, a, b = o1[:n], o2[:n], o3[:n], a[:n], b[:n]
	k := 0
	if wgAsm && n >= 8 {
		k = n &^ 7
		wgAx8(&o0[0], &o1[0], &o2[0], &o3[0], &a[0], &b[0], k)
	}
	for i := k; i < n; i++ {
		ai, bi := a[i], b[i]
		o0[i] = ai
		o1[i] = ai + bi
		o2[i] = ai - bi
		o3[i] = -bi
	}
}
