package nn

import (
	"sync"

	"github.com/latent-ml/latent/tensor"
)

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
//
// F(4×4, 3×3) (winograd4.go) is the same with 4×4 output tiles under 6×6
// input tiles and 36 planes: 36 multiplications per 16 outputs. The driver
// below serves both (wgSet); wgPick chooses per layer.

// wgChunk is how many channels a tile transform handles at once.
const wgChunk = 64

// wgMaxN is the largest input tile side, n = m + 2 for F(4×4, 3×3).
const wgMaxN = 6

// wgVecs is a list of channel vectors, one per tile position along a line.
type wgVecs = [wgMaxN][]float32

// wgSet is one algorithm F(m×m, 3×3): an output tile of m×m pixels and an
// input tile of n×n = (m + 2)×(m + 2). Each 2-D transform is a 1-D one along
// the columns of the tile and then along its rows; the methods below call the
// 1-D transforms of channel vectors (directly, so that nothing escapes).
type wgSet struct{ m, n int }

var (
	wg2 = &wgSet{m: 2, n: 4} // F(2×2, 3×3), the transforms below
	wg4 = &wgSet{m: 4, n: 6} // F(4×4, 3×3), winograd4.go
)

// bt sets o[:n] = Bᵀ in[:n].
func (s *wgSet) bt(o, in *wgVecs) {
	if s.m == 4 {
		wg4BT(o, in)
		return
	}
	wgBT(o[0], o[1], o[2], o[3], in[0], in[1], in[2], in[3])
}

// b sets o[:n] = B in[:n], or adds it with add.
func (s *wgSet) b(o, in *wgVecs, add bool) {
	switch {
	case s.m == 4:
		wg4B(o, in, add)
	case add:
		wgBAdd(o[0], o[1], o[2], o[3], in[0], in[1], in[2], in[3])
	default:
		wgB(o[0], o[1], o[2], o[3], in[0], in[1], in[2], in[3])
	}
}

// at sets o[:m] = Aᵀ in[:n], plus bias when it is not nil.
func (s *wgSet) at(o, in *wgVecs, bias []float32) {
	switch {
	case s.m == 4:
		wg4AT(o, in, bias)
	case bias != nil:
		wgATBias(o[0], o[1], in[0], in[1], in[2], in[3], bias)
	default:
		wgAT(o[0], o[1], in[0], in[1], in[2], in[3])
	}
}

// a sets o[:n] = A in[:m].
func (s *wgSet) a(o, in *wgVecs) {
	if s.m == 4 {
		wg4A(o, in)
		return
	}
	wgA(o[0], o[1], o[2], o[3], in[0], in[1])
}

// g sets o[:n] = G in, for three rows or columns of a kernel.
func (s *wgSet) g(o *wgVecs, in *[3][]float32) {
	if s.m == 4 {
		wg4G(o, in)
		return
	}
	wgG(o[0], o[1], o[2], o[3], in[0], in[1], in[2])
}

// gt sets o = Gᵀ in[:n].
func (s *wgSet) gt(o *[3][]float32, in *wgVecs) {
	if s.m == 4 {
		wg4GT(o, in)
		return
	}
	wgGT(o[0], o[1], o[2], in[0], in[1], in[2], in[3])
}

// useWinograd reports whether Conv2D computes geometry g by Winograd: a 3×3
// kernel at stride 1 with enough channels on both sides for the GEMMs of the
// transform planes to run well (with few channels im2col's one GEMM of depth
// 9·InC is faster).
func useWinograd(g ConvGeom) bool {
	return g.K == 3 && g.Stride == 1 && g.InC >= 16 && g.OutC >= 16
}

// wgTileSize is the output tile side Conv2D uses: 0 picks wgPick's choice;
// tests and benchmarks set 2 or 4.
var wgTileSize = 0

// wgPick returns the algorithm for geometry g: the one with fewer transform
// planes (tiles × n², the GEMMs' work) over the output, F(2×2, 3×3) on a tie
// (its transforms are cheaper and round less). F(4×4, 3×3) takes 28×28, 14×14
// and 7×7 outputs (1764 against 3136, 576 against 784, 144 against 256
// planes), F(2×2, 3×3) outputs of 2×2, 5×5 or 6×6.
func wgPick(g ConvGeom) *wgSet {
	switch wgTileSize {
	case 2:
		return wg2
	case 4:
		return wg4
	}
	if wg4.planes(g) < wg2.planes(g) {
		return wg4
	}
	return wg2
}

// planes returns the transform planes of one image, tiles × n².
func (s *wgSet) planes(g ConvGeom) int {
	th, tw := s.tiles(g)
	return th * tw * s.n * s.n
}

// tiles returns the tiles per image along y and x.
func (s *wgSet) tiles(g ConvGeom) (th, tw int) {
	return (g.OutH() + s.m - 1) / s.m, (g.OutW() + s.m - 1) / s.m
}

// winograd holds a Conv2D's transformed operands and views of their n² planes.
// U, dU and V (kept from the forward pass for the weight gradient, see wgKeep)
// belong to the layer; M, dM and dV live only inside one call and are borrowed
// scratch.
type winograd struct {
	set           *wgSet
	kept          bool        // v holds the last forward pass's V
	u, v, du      *tensor.Mat // (n²·rows, cols): plane ξ is rows [ξ·rows, (ξ+1)·rows)
	m, dm, dv     tensor.Mat  // the same layout, in borrowed scratch
	pu, pv, pm    [wgMaxN * wgMaxN]tensor.Mat
	pdm, pdv, pdu [wgMaxN * wgMaxN]tensor.Mat
	pku           [wgMaxN * wgMaxN]tensor.PackedB // U's planes packed (fused passes; transposed for the input gradient)
	zero          []float32                       // read-only zeros for input pixels in the padding
	gen, gen0     uint64                          // forward calls so far; the one for which u and pku were made
	m0            []float32                       // worker 0's block of M (mBlock)
	local         []*wgLocal                      // per worker but the first (prepare)
}

// wgLocal is a worker's own copy of a layer's transformed weights for the fused
// forward pass (worker 0 uses the layer's u and pku), made once per call by the
// worker itself (gen says for which call), and its own block of M.
type wgLocal struct {
	gen uint64
	u   *tensor.Mat
	pu  [wgMaxN * wgMaxN]tensor.Mat
	pku [wgMaxN * wgMaxN]tensor.PackedB
	m   []float32 // the worker's block of M
	_   [64]byte  // keeps the next worker's header off this one's cache lines
}

// planes points p[ξ] at plane ξ of m, which holds k planes of rows×cols.
func planes(p []tensor.Mat, m *tensor.Mat, k, rows, cols int) {
	for i := range k {
		o := i * rows * cols
		p[i] = tensor.Mat{Rows: rows, Cols: cols, Stride: cols, Data: m.Data[o : o+rows*cols : o+rows*cols]}
	}
}

func (w *winograd) scratch(n int) {
	if len(w.zero) < n {
		w.zero = make([]float32, n)
	}
}

// forward sets y (batch, OutH·OutW·OutC) to the convolution of x with the
// weights wm (9·InC, OutC) plus the bias b, keeping V for the weight gradient
// (the fused pass only up to wgKeep values, and not at all for inference).
func (w *winograd) forward(y, x, wm *tensor.Mat, b []float32, g ConvGeom, inference bool) {
	if wgFuseTiles > 0 {
		w.forwardFused(y, x, wm, b, g, inference)
		return
	}
	w.kept = true
	st := w.set
	th, tw := st.tiles(g)
	t := x.Rows * th * tw
	np := st.n * st.n
	w.u = tensor.Reuse(w.u, np*g.InC, g.OutC)
	wgPerChannel(wgWeightsJob, st, w.u, wm, g.InC)
	w.v = tensor.Reuse(w.v, np*t, g.InC)
	m := borrowMat(&w.m, np*t, g.OutC)
	defer giveBack(m.Data)
	planes(w.pu[:], w.u, np, g.InC, g.OutC)
	planes(w.pv[:], w.v, np, t, g.InC)
	planes(w.pm[:], m, np, t, g.OutC)
	w.scratch(max(g.InC, g.OutC))
	j := newRowJob(wgInputJob)
	j.a, j.b, j.f32, j.geom, j.wg = w.v, x, w.zero, g, st
	j.parallel(x.Rows, 1)
	for k := range np {
		tensor.Gemm(false, false, 1, &w.pv[k], &w.pu[k], 0, &w.pm[k])
	}
	j = newRowJob(wgOutputJob)
	j.a, j.b, j.f32, j.geom, j.wg = y, m, b, g, st
	j.parallel(x.Rows, 1)
}

// wgFuseTiles is about how many tiles the fused forward pass takes through all
// three steps at once (whole images, at least one): their V rows, then the n²
// GEMMs of those rows into a block of M in borrowed scratch, then the output
// transform. Unfused, V and M for the whole batch (tens of megabytes at batch
// 128) are written to memory and read back by the GEMMs' packing and the output
// transform; a block's stays in cache. 0 runs the unfused pass (tests,
// benchmarks). The results are the same bits: each row of M_ξ is the same
// micro-kernel's sum over the channels whatever rows surround it.
//
// BenchmarkWinogradFuse, batch 128, Zen 1, two rounds (session 14): blocks of
// 64 tiles take c3 (14×14, 64 channels) from 27.1 to 24.4 ms at one thread and
// 16.9 to 14.5 ms at two, the U-Net's 28×28 32-channel layer from 29.0 to 27.2
// and 17.7 to 15.4 ms, c4 (7×7) from 7.5 to 7.0 and 5.1 to 4.3 ms; blocks of
// 128-512 tiles gain as much or less.
var wgFuseTiles = 64

// wgKeep is the most values of V (n² planes of tiles × InC) the fused forward
// pass keeps for the weight gradient: 4 Mi values, 16 MiB, half of this
// machine's L3. Larger V is not kept: the forward pass writes each block's V to
// scratch in cache, and the backward pass computes it again from x, block by
// block with dM (backwardFused). Kept, V for the whole batch (2.25-4× the size
// of x) goes out to memory and comes back for the weight gradient. A variable
// so that tests can force either path.
//
// Zen 5, interleaved, medians of 3 rounds (session 23), V not kept against kept:
//   - the U-Net's 28×28 32-channel layer at batch 128 (V: 7.2 Mi values,
//     BenchmarkWinogradFuse): forward 8.6 → 6.6 ms, backward 15.5 → 12.5 ms at
//     one thread;
//   - c3 (14×14, 64 channels) at batch 128 (V 4.7 Mi): forward 6.1 → 5.5 ms and
//     3.9 → 3.1 at two threads, backward 11.3 → 10.7 and 7.2 → 5.8, the weight
//     gradient alone 6.2 → 6.5 and level at two;
//   - c3 at batch 64 (V 2.4 Mi): forward 2.69 → 2.54 ms, but backward 4.75 →
//     5.25 and the weight gradient alone 2.67 → 2.93 (1.38 → 1.68 at two
//     threads): kept, as c4's (0.6-1.2 Mi), whose weight gradient lost 20-25%.
var wgKeep = 4 << 20

// forwardFused is forward with the examples in blocks of about wgFuseTiles
// tiles, the blocks in parallel.
func (w *winograd) forwardFused(y, x, wm *tensor.Mat, b []float32, g ConvGeom, inference bool) {
	st := w.set
	th, tw := st.tiles(g)
	tpi := th * tw
	np := st.n * st.n
	w.u = tensor.Reuse(w.u, np*g.InC, g.OutC)
	per := min(max(1, wgFuseTiles/tpi), x.Rows)
	t := x.Rows * tpi
	if w.kept = np*t*g.InC <= wgKeep && !inference; w.kept {
		w.v = tensor.Reuse(w.v, np*t, g.InC)
		planes(w.pv[:], w.v, np, t, g.InC)
	}
	w.scratch(max(g.InC, g.OutC))
	for len(w.local) < tensor.Workers()-1 {
		w.local = append(w.local, new(wgLocal))
	}
	w.gen++
	j := newRowJob(nil)
	j.a, j.b, j.c, j.f32, j.geom, j.wg, j.wgo = y, x, wm, b, g, st, w
	nb := (x.Rows + per - 1) / per
	j.parallelWorker(x.Rows, workerShare(nb)*per, wgFusedForwardJob)
	if !inference {
		w.prepare(0, wm, g) // the backward pass's U, should the helpers have taken every block
	}
}

// prepare transforms the weights wm into U and packs U's planes for worker k
// of a fused forward pass (k = 0: the layer's own u and pku, which the
// backward pass uses too; else the worker's wgLocal), once per call.
//
// Each worker of the fused forward pass makes its own copy of U (the same
// bits), takes one run of consecutive blocks, the same run from call to call,
// and multiplies into its own block of M (mBlock), so that no core writes
// what the other has read or written since the last call. Shared, the
// weights transformed in parallel, packed in parallel, and M borrowed from the
// scratch pool, they cost more on two workers than on one: on the development
// VM (session 24), c4 (7×7, 64 channels) at batch 64 took 67 µs to transform
// the weights and 53 µs to pack them at two threads (51 and 15 µs at one), and
// its forward pass scaled by 1.2 at best. Interleaved, 5 rounds, forward pass,
// shared against own copies: c4 at batch 64 0.99 → 0.79 ms at one thread and
// 0.81 → 0.53 at two, at batch 128 2.00 → 1.63 and 1.54 → 0.94; c3 (14×14) at
// batch 64 4.17 → 3.41 and 2.81 → 1.73. The cost is a copy of U and a block of
// M per extra worker (590 KB each for 64 channels).
func (w *winograd) prepare(k int, wm *tensor.Mat, g ConvGeom) *[wgMaxN * wgMaxN]tensor.PackedB {
	np := w.set.n * w.set.n
	u, pu, pku := w.u, &w.pu, &w.pku
	if k > 0 {
		l := w.local[k-1]
		if l.gen == w.gen {
			return &l.pku
		}
		l.gen = w.gen
		l.u = tensor.Reuse(l.u, np*g.InC, g.OutC)
		u, pu, pku = l.u, &l.pu, &l.pku
	} else {
		if w.gen0 == w.gen {
			return pku
		}
		w.gen0 = w.gen
	}
	wj := rowJob{a: u, b: wm, wg: w.set}
	wgWeightsJob(&wj, 0, g.InC)
	planes(pu[:], u, np, g.InC, g.OutC)
	for i := range np {
		tensor.PackB(&pku[i], false, &pu[i])
	}
	return pku
}

// mBlock returns worker k's own block of M, n values.
func (w *winograd) mBlock(k, n int) []float32 {
	p := &w.m0
	if k > 0 {
		p = &w.local[k-1].m
	}
	if len(*p) < n {
		*p = make([]float32, n)
	}
	return (*p)[:n]
}

// wgFusedForwardJob runs the fused forward pass over examples [lo, hi), block
// by block (j.a = y, j.b = x, j.c = the weights, j.f32 = the bias, j.wgo the
// layer's operands; V into the layer's w.v when it keeps V, else into
// scratch), with the worker's own U and M (prepare, mBlock).
func wgFusedForwardJob(j *rowJob, worker, lo, hi int) {
	w, g, st := j.wgo, j.geom, j.wg
	pku := w.prepare(worker, j.c, g)
	th, tw := st.tiles(g)
	tpi := th * tw
	np := st.n * st.n
	per := min(max(1, wgFuseTiles/tpi), j.b.Rows)
	buf := w.mBlock(worker, np*per*tpi*g.OutC)
	var vbuf []float32
	if !w.kept {
		vbuf = borrow(np * per * tpi * g.InC)
		defer giveBack(vbuf)
	}
	in := rowJob{b: j.b, f32: w.zero, geom: g, wg: st}
	out := rowJob{a: j.a, f32: j.f32, geom: g, wg: st}
	bl := wgBlockPool.Get().(*wgBlock)
	defer wgBlockPool.Put(bl)
	v := &bl.v
	var m, vk, mk tensor.Mat
	for b0 := lo; b0 < hi; b0 += per {
		b1 := min(b0+per, hi)
		nt := (b1 - b0) * tpi
		if w.kept {
			in.a, in.base = w.v, 0
		} else {
			*v = tensor.Mat{Rows: np * nt, Cols: g.InC, Stride: g.InC, Data: vbuf[:np*nt*g.InC]}
			in.a, in.base = v, b0*tpi
		}
		wgInputJob(&in, b0, b1)
		m = tensor.Mat{Rows: np * nt, Cols: g.OutC, Stride: g.OutC, Data: buf[:np*nt*g.OutC]}
		for k := range np {
			if w.kept {
				rowsOf(&vk, &w.pv[k], b0*tpi, b1*tpi)
			} else {
				rowsOf(&vk, v, k*nt, (k+1)*nt)
			}
			rowsOf(&mk, &m, k*nt, (k+1)*nt)
			tensor.GemmPacked(false, 1, &vk, &pku[k], 0, &mk)
		}
		out.b, out.base = &m, b0*tpi
		wgOutputJob(&out, b0, b1)
	}
}

// backward sets gm (9·InC, OutC) to ∂L/∂W when gm is not nil and dx to ∂L/∂x
// when dx is not nil, for dy (batch, OutH·OutW·OutC) and the last forward, whose
// input was x.
func (w *winograd) backward(dx, gm, dy, x *tensor.Mat, g ConvGeom) {
	if wgFuseTiles > 0 && !w.kept {
		w.backwardFused(dx, gm, dy, x, g)
		return
	}
	st := w.set
	th, tw := st.tiles(g)
	batch := dy.Rows
	t := batch * th * tw
	np := st.n * st.n
	dm := borrowMat(&w.dm, np*t, g.OutC)
	defer giveBack(dm.Data)
	planes(w.pdm[:], dm, np, t, g.OutC)
	j := newRowJob(wgGradOutputJob)
	j.a, j.b, j.f32, j.geom, j.wg = dm, dy, w.zero, g, st
	// One run of consecutive images per worker, as the fused forward pass
	// takes them (prepare): interleaved, 5 rounds, pieces of one image against
	// runs, c4's backward pass at batch 64 went 1.61 → 1.49 ms at one thread
	// and 1.41 → 1.31 at two, c3's 7.75 → 6.42 and 3.99 → 3.63 (session 24).
	j.parallel(batch, workerShare(batch))
	if gm != nil {
		w.du = tensor.Reuse(w.du, np*g.InC, g.OutC)
		planes(w.pdu[:], w.du, np, g.InC, g.OutC)
		if wgPlaneGrads {
			j = newRowJob(wgWeightGradJob)
			j.wgo = w
			j.parallel(np, 1)
		} else {
			for k := range np {
				tensor.Gemm(true, false, 1, &w.pv[k], &w.pdm[k], 0, &w.pdu[k])
			}
		}
		wgPerChannel(wgWeightsAdjointJob, st, gm, w.du, g.InC)
	}
	if dx == nil {
		return
	}
	if wgFuseTiles > 0 {
		pj := newRowJob(wgPackJob)
		pj.wgo, pj.base = w, 1
		pj.parallel(np, workerShare(np))
		tpi := th * tw
		j = newRowJob(wgFusedGradInputJob)
		j.a, j.geom, j.wg, j.wgo = dx, g, st, w
		per := min(max(1, wgFuseTiles/tpi), batch)
		j.parallel(batch, workerShare((batch+per-1)/per)*per)
		return
	}
	dv := borrowMat(&w.dv, np*t, g.InC)
	defer giveBack(dv.Data)
	planes(w.pdv[:], dv, np, t, g.InC)
	for k := range np {
		tensor.Gemm(false, true, 1, &w.pdm[k], &w.pu[k], 0, &w.pdv[k])
	}
	j = newRowJob(wgGradInputJob)
	j.a, j.b, j.geom, j.wg = dx, dv, g, st
	j.parallel(batch, 1)
}

// wgPlaneGrads gives each worker whole planes of the weight gradient, dU_ξ =
// V_ξᵀ·dM_ξ, one GEMM at a time (false: every plane's GEMM split between the
// workers by rows of dU_ξ, each worker then streaming all of the plane's dM_ξ).
// The bits are the same either way: each row of dU_ξ is the same sum.
var wgPlaneGrads = true

// wgWeightGradJob computes dU_ξ for planes [lo, hi) (j.wgo the layer's operands).
func wgWeightGradJob(j *rowJob, lo, hi int) {
	w := j.wgo
	for k := lo; k < hi; k++ {
		tensor.Gemm(true, false, 1, &w.pv[k], &w.pdm[k], 0, &w.pdu[k])
	}
}

// wgFusedGradInputJob computes dx for examples [lo, hi) block by block, as
// wgFusedForwardJob does the forward pass: a block's rows of dV_ξ = dM_ξ·U_ξᵀ
// (U's planes packed transposed in j.wgo.pku) into borrowed scratch, then
// their input-gradient transform (j.a = dx; the bits of the unfused pass).
func wgFusedGradInputJob(j *rowJob, lo, hi int) {
	w, g, st := j.wgo, j.geom, j.wg
	th, tw := st.tiles(g)
	tpi := th * tw
	np := st.n * st.n
	per := min(max(1, wgFuseTiles/tpi), j.a.Rows)
	buf := borrow(np * per * tpi * g.InC) // one size per layer and batch
	defer giveBack(buf)
	in := rowJob{a: j.a, geom: g, wg: st}
	var dv, dmk, dvk tensor.Mat
	for b0 := lo; b0 < hi; b0 += per {
		b1 := min(b0+per, hi)
		nt := (b1 - b0) * tpi
		dv = tensor.Mat{Rows: np * nt, Cols: g.InC, Stride: g.InC, Data: buf[:np*nt*g.InC]}
		for k := range np {
			rowsOf(&dmk, &w.pdm[k], b0*tpi, b1*tpi)
			rowsOf(&dvk, &dv, k*nt, (k+1)*nt)
			tensor.GemmPacked(false, 1, &dmk, &w.pku[k], 0, &dvk)
		}
		in.b, in.base = &dv, b0*tpi
		wgGradInputJob(&in, b0, b1)
	}
}

// backwardFused is backward for a forward pass that did not keep V (wgKeep),
// with the examples in blocks of about wgFuseTiles tiles, as in forwardFused:
// each block's dM = A dy Aᵀ, V = Bᵀ d B (computed again from x) and dV_ξ =
// dM_ξ·U_ξᵀ live in borrowed scratch, never the whole batch's.
//
// ∂L/∂U_ξ = Σ_blocks V_ξᵀ·dM_ξ is summed in min(convWGroups, blocks) groups of
// consecutive blocks fixed by the shape alone, each into its own slot (the
// groups in parallel), and the slots are added in order, so the bits do not
// depend on the number of workers (as Conv2D's blocked weight gradient). dx is
// each block's own (the bits of the unfused pass).
func (w *winograd) backwardFused(dx, gm, dy, x *tensor.Mat, g ConvGeom) {
	st := w.set
	np := st.n * st.n
	nb, _ := wgBlocks(st, g, dy.Rows)
	if dx != nil {
		pj := newRowJob(wgPackJob)
		pj.wgo, pj.base = w, 1
		pj.parallel(np, workerShare(np))
	}
	groups := nb
	var slots []float32
	size := np * g.InC * g.OutC
	if gm != nil {
		groups = min(convWGroups, nb)
		slots = borrow(groups * size)
	}
	j := newRowJob(wgFusedBackwardJob)
	j.a, j.b, j.c, j.f32, j.base = dx, dy, x, slots, groups
	j.geom, j.wg, j.wgo = g, st, w
	j.parallel(groups, 1)
	if gm == nil {
		return
	}
	w.du = tensor.Reuse(w.du, np*g.InC, g.OutC)
	sumSlots(w.du.Data[:size], slots, groups)
	giveBack(slots)
	wgPerChannel(wgWeightsAdjointJob, st, gm, w.du, g.InC)
}

// wgBlock holds one worker's views of its block's V and dM in the fused passes,
// pooled: the transform jobs leak what their job points at (through the
// whole-tile kernels' pointer tables), so views on the stack would move to
// the heap on every call.
type wgBlock struct{ dm, v tensor.Mat }

var wgBlockPool = sync.Pool{New: func() any { return new(wgBlock) }}

// wgBlocks returns the number of blocks of examples the fused passes take a
// batch of the given size in, and the examples per block (the last may hold
// fewer): about wgFuseTiles tiles, whole images, at least one.
func wgBlocks(st *wgSet, g ConvGeom, batch int) (nb, per int) {
	th, tw := st.tiles(g)
	per = min(max(1, wgFuseTiles/(th*tw)), batch)
	return (batch + per - 1) / per, per
}

// wgFusedBackwardJob runs groups [lo, hi) of the fused backward pass (j.a = dx
// or nil, j.b = dy, j.c = x, j.f32 the slots of ∂L/∂U or nil, j.base the number
// of groups, j.wgo the layer's operands with U's planes packed transposed).
func wgFusedBackwardJob(j *rowJob, lo, hi int) {
	w, g, st := j.wgo, j.geom, j.wg
	dx, dy, x, slots, groups := j.a, j.b, j.c, j.f32, j.base
	th, tw := st.tiles(g)
	tpi := th * tw
	np := st.n * st.n
	batch := dy.Rows
	nb, per := wgBlocks(st, g, batch)
	// One size per layer and batch (see convForwardJob): dM's block, and V's
	// block, which dV's then overwrites.
	dmBuf := borrow(np * per * tpi * g.OutC)
	defer giveBack(dmBuf)
	vBuf := borrow(np * per * tpi * g.InC)
	defer giveBack(vBuf)
	size := np * g.InC * g.OutC
	gradOut := rowJob{b: dy, f32: w.zero, geom: g, wg: st}
	in := rowJob{b: x, f32: w.zero, geom: g, wg: st}
	gradIn := rowJob{a: dx, geom: g, wg: st}
	bl := wgBlockPool.Get().(*wgBlock)
	defer wgBlockPool.Put(bl)
	dm, v := &bl.dm, &bl.v
	var mk, vk, sk tensor.Mat
	for q := lo; q < hi; q++ {
		first, last := nb*q/groups, nb*(q+1)/groups
		for blk := first; blk < last; blk++ {
			b0, b1 := blk*per, min((blk+1)*per, batch)
			nt := (b1 - b0) * tpi
			*dm = tensor.Mat{Rows: np * nt, Cols: g.OutC, Stride: g.OutC, Data: dmBuf[:np*nt*g.OutC]}
			gradOut.a, gradOut.base = dm, b0*tpi
			wgGradOutputJob(&gradOut, b0, b1)
			*v = tensor.Mat{Rows: np * nt, Cols: g.InC, Stride: g.InC, Data: vBuf[:np*nt*g.InC]}
			if slots != nil {
				in.a, in.base = v, b0*tpi
				wgInputJob(&in, b0, b1)
				beta := float32(1)
				if blk == first {
					beta = 0
				}
				for k := range np {
					o := q*size + k*g.InC*g.OutC
					sk = tensor.Mat{Rows: g.InC, Cols: g.OutC, Stride: g.OutC, Data: slots[o : o+g.InC*g.OutC]}
					tensor.Gemm(true, false, 1, rowsOf(&vk, v, k*nt, (k+1)*nt), rowsOf(&mk, dm, k*nt, (k+1)*nt), beta, &sk)
				}
			}
			if dx == nil {
				continue
			}
			for k := range np {
				tensor.GemmPacked(false, 1, rowsOf(&mk, dm, k*nt, (k+1)*nt), &w.pku[k], 0, rowsOf(&vk, v, k*nt, (k+1)*nt))
			}
			gradIn.b, gradIn.base = v, b0*tpi
			wgGradInputJob(&gradIn, b0, b1)
		}
	}
}

// chunkOf sets v[i] to the chunk [c0, c0+n) of buf's vector i, for i < k.
func chunkOf(v *wgVecs, buf []float32, k, c0, n int) {
	for i := range k {
		v[i] = buf[i*wgChunk : i*wgChunk+n]
	}
}

// wgPerChannel runs job (a weight transform) over the c input channels of a 3×3
// layer in parallel pieces, with j.a = a, j.b = b and j.wg = st. Each channel's
// rows of the output are its own, so the split does not change them.
func wgPerChannel(job func(j *rowJob, lo, hi int), st *wgSet, a, b *tensor.Mat, c int) {
	j := newRowJob(job)
	j.a, j.b, j.wg = a, b, st
	j.parallel(c, workerShare(c))
}

// wgWeightsJob sets, for input channels [lo, hi), the n² planes of U (j.a, n²·C
// × OC) to G g Gᵀ for the kernels of W (j.b, 9·C × OC, row (ky·3+kx)·C + c); j.wg
// is the transform. Run by wgPerChannel.
func wgWeightsJob(j *rowJob, lo, hi int) {
	st, u, wm := j.wg, j.a, j.b
	c := wm.Rows / 9
	n := st.n
	var buf [3 * wgMaxN * wgChunk]float32 // (G g)[i][kx] at (kx·n + i)·wgChunk
	var in [3][]float32
	var o wgVecs
	oc := wm.Cols
	for ci := lo; ci < hi; ci++ {
		for o0 := 0; o0 < oc; o0 += wgChunk {
			k := min(wgChunk, oc-o0)
			for kx := range 3 {
				for ky := range 3 {
					in[ky] = wm.Row((ky*3+kx)*c + ci)[o0 : o0+k]
				}
				for i := range n {
					o[i] = buf[(kx*n+i)*wgChunk:][:k]
				}
				st.g(&o, &in)
			}
			for i := range n {
				for kx := range 3 {
					in[kx] = buf[(kx*n+i)*wgChunk:][:k]
				}
				for jj := range n {
					o[jj] = u.Row((i*n+jj)*c + ci)[o0 : o0+k]
				}
				st.g(&o, &in)
			}
		}
	}
}

// wgPackJob packs planes [lo, hi) of U for the fused passes' GEMMs (j.wgo the
// layer's operands; j.base 1: transposed, for the input gradient).
func wgPackJob(j *rowJob, lo, hi int) {
	w := j.wgo
	for k := lo; k < hi; k++ {
		tensor.PackB(&w.pku[k], j.base == 1, &w.pu[k])
	}
}

// wgWeightsAdjointJob sets, for input channels [lo, hi), the rows of ∂L/∂W (j.a,
// 9·C × OC) to Gᵀ dU G for the n² planes of dU (j.b); j.wg is the transform. Run
// by wgPerChannel.
func wgWeightsAdjointJob(j *rowJob, lo, hi int) {
	st, gm, du := j.wg, j.a, j.b
	c := gm.Rows / 9
	n := st.n
	var buf [3 * wgMaxN * wgChunk]float32 // (Gᵀ dU)[ky][j] at (ky·n + j)·wgChunk
	var o [3][]float32
	var in wgVecs
	oc := gm.Cols
	for ci := lo; ci < hi; ci++ {
		for o0 := 0; o0 < oc; o0 += wgChunk {
			k := min(wgChunk, oc-o0)
			for jj := range n {
				for i := range n {
					in[i] = du.Row((i*n+jj)*c + ci)[o0 : o0+k]
				}
				for ky := range 3 {
					o[ky] = buf[(ky*n+jj)*wgChunk:][:k]
				}
				st.gt(&o, &in)
			}
			for ky := range 3 {
				for jj := range n {
					in[jj] = buf[(ky*n+jj)*wgChunk:][:k]
				}
				for kx := range 3 {
					o[kx] = gm.Row((ky*3+kx)*c + ci)[o0 : o0+k]
				}
				st.gt(&o, &in)
			}
		}
	}
}

// wgInputJob writes V = Bᵀ d B for the tiles of examples [lo, hi): j.a is V
// (n²·T, C) for the T tiles from tile j.base on, j.b the input x, j.f32 a zero
// vector of at least C values.
func wgInputJob(j *rowJob, lo, hi int) {
	v, x, zero, g, st, base := j.a, j.b, j.f32, j.geom, j.wg, j.base
	n := st.n
	th, tw := st.tiles(g)
	t := v.Rows / (n * n)
	c := g.InC
	var d [wgMaxN * wgMaxN][]float32 // the n×n input pixels of a tile (zero outside)
	var buf [wgMaxN * wgMaxN * wgChunk]float32
	var in, o wgVecs
	var ptr [wgMaxN * wgMaxN]*float32
	var scr [wgMaxN * wgMaxN * 16]float32 // 36 vectors of the whole-tile kernels (16 lanes at most)
	for b := lo; b < hi; b++ {
		img := x.Row(b)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx - base
				wgInPixels(st, &d, img, ty, tx, g)
				for i := range n * n {
					if d[i] == nil {
						d[i] = zero[:c]
					}
				}
				if st.fused(c) {
					pointers(&ptr, &d, n*n)
					wg4InTile(&ptr, &v.Data[tile*c], 4*t*c, &scr[0], c)
					continue
				}
				for c0 := 0; c0 < c; c0 += wgChunk {
					k := min(wgChunk, c-c0)
					for s := range n { // Bᵀ d, a column at a time: buf[r·n+s]
						for r := range n {
							in[r] = d[r*n+s][c0 : c0+k]
							o[r] = buf[(r*n+s)*wgChunk:][:k]
						}
						st.bt(&o, &in)
					}
					for i := range n { // (Bᵀ d) B, a row at a time
						for s := range n {
							in[s] = buf[(i*n+s)*wgChunk:][:k]
							o[s] = v.Row((i*n+s)*t + tile)[c0 : c0+k]
						}
						st.bt(&o, &in)
					}
				}
			}
		}
	}
}

// wgOutputJob writes y = Aᵀ M A + b for the tiles of examples [lo, hi): j.a is
// y, j.b is M (n²·T, OC) for the T tiles from tile j.base on, j.f32 the bias.
func wgOutputJob(j *rowJob, lo, hi int) {
	y, mm, bias, g, st, base := j.a, j.b, j.f32, j.geom, j.wg, j.base
	n, m := st.n, st.m
	th, tw := st.tiles(g)
	t := mm.Rows / (n * n)
	oc := g.OutC
	var buf [wgMaxN * wgMaxN * wgChunk]float32
	var sink [wgChunk]float32 // outputs past the image's edge
	var out [wgMaxN * wgMaxN][]float32
	var in, o wgVecs
	var ptr [wgMaxN * wgMaxN]*float32
	var scr [wgMaxN * wgMaxN * 16]float32 // 36 vectors of the whole-tile kernels (16 lanes at most)
	for b := lo; b < hi; b++ {
		img := y.Row(b)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx - base
				wgOutPixels(st, &out, img, ty, tx, g)
				if st.fused(oc) {
					pointers(&ptr, &out, m*m)
					wg4OutTile(&ptr, &mm.Data[tile*oc], 4*t*oc, &bias[0], &scr[0], oc)
					continue
				}
				for c0 := 0; c0 < oc; c0 += wgChunk {
					k := min(wgChunk, oc-c0)
					for s := range n { // Aᵀ M, a column at a time: buf[p·n+s]
						for r := range n {
							in[r] = mm.Row((r*n+s)*t + tile)[c0 : c0+k]
						}
						for p := range m {
							o[p] = buf[(p*n+s)*wgChunk:][:k]
						}
						st.at(&o, &in, nil)
					}
					for p := range m { // (Aᵀ M) A + b, a row at a time
						for s := range n {
							in[s] = buf[(p*n+s)*wgChunk:][:k]
						}
						for q := range m {
							if out[p*m+q] == nil {
								o[q] = sink[:k]
							} else {
								o[q] = out[p*m+q][c0 : c0+k]
							}
						}
						st.at(&o, &in, bias[c0:c0+k])
					}
				}
			}
		}
	}
}

// wgGradOutputJob writes dM = A dy Aᵀ for the tiles of examples [lo, hi): j.a
// is dM (n²·T, OC) for the T tiles from tile j.base on, j.b is dy, j.f32 a zero
// vector of at least OC values.
func wgGradOutputJob(j *rowJob, lo, hi int) {
	dm, dy, zero, g, st, base := j.a, j.b, j.f32, j.geom, j.wg, j.base
	n, m := st.n, st.m
	th, tw := st.tiles(g)
	t := dm.Rows / (n * n)
	oc := g.OutC
	var buf [wgMaxN * wgMaxN * wgChunk]float32
	var pix [wgMaxN * wgMaxN][]float32
	var in, o wgVecs
	var ptr [wgMaxN * wgMaxN]*float32
	var scr [wgMaxN * wgMaxN * 16]float32 // 36 vectors of the whole-tile kernels (16 lanes at most)
	for b := lo; b < hi; b++ {
		img := dy.Row(b)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx - base
				wgOutPixels(st, &pix, img, ty, tx, g)
				for i := range m * m {
					if pix[i] == nil {
						pix[i] = zero[:oc]
					}
				}
				if st.fused(oc) {
					pointers(&ptr, &pix, m*m)
					wg4GradOutTile(&ptr, &dm.Data[tile*oc], 4*t*oc, &scr[0], oc)
					continue
				}
				for c0 := 0; c0 < oc; c0 += wgChunk {
					k := min(wgChunk, oc-c0)
					for q := range m { // A dy, a column at a time: buf[i·m+q]
						for p := range m {
							in[p] = pix[p*m+q][c0 : c0+k]
						}
						for i := range n {
							o[i] = buf[(i*m+q)*wgChunk:][:k]
						}
						st.a(&o, &in)
					}
					for i := range n { // (A dy) Aᵀ, a row at a time
						for q := range m {
							in[q] = buf[(i*m+q)*wgChunk:][:k]
						}
						for s := range n {
							o[s] = dm.Row((i*n+s)*t + tile)[c0 : c0+k]
						}
						st.a(&o, &in)
					}
				}
			}
		}
	}
}

// wgGradInputJob sets dx for examples [lo, hi) to Σ_tiles B dV Bᵀ, each tile's
// n×n values added onto the input pixels under it: j.a is dx, j.b is dV
// (n²·T, C) for the T tiles from tile j.base on.
func wgGradInputJob(j *rowJob, lo, hi int) {
	dx, dv, g, st, base := j.a, j.b, j.geom, j.wg, j.base
	n := st.n
	th, tw := st.tiles(g)
	t := dv.Rows / (n * n)
	c := g.InC
	var d [wgMaxN * wgMaxN][]float32
	var buf [wgMaxN * wgMaxN * wgChunk]float32
	var sink [wgMaxN][wgChunk]float32 // gradients of the padding, dropped
	var in, o wgVecs
	var ptr [wgMaxN * wgMaxN]*float32
	var scr [wgMaxN * wgMaxN * 16]float32 // 36 vectors of the whole-tile kernels (16 lanes at most)
	for b := lo; b < hi; b++ {
		img := dx.Row(b)
		clear(img)
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (b*th+ty)*tw + tx - base
				wgInPixels(st, &d, img, ty, tx, g)
				if st.fused(c) {
					pointers(&ptr, &d, n*n)
					wg4GradInTile(&ptr, &dv.Data[tile*c], 4*t*c, &scr[0], c)
					continue
				}
				for c0 := 0; c0 < c; c0 += wgChunk {
					k := min(wgChunk, c-c0)
					for s := range n { // B dV, a column at a time: buf[r·n+s]
						for r := range n {
							in[r] = dv.Row((r*n+s)*t + tile)[c0 : c0+k]
							o[r] = buf[(r*n+s)*wgChunk:][:k]
						}
						st.b(&o, &in, false)
					}
					for r := range n { // (B dV) Bᵀ, a row at a time, added onto dx
						for s := range n {
							in[s] = buf[(r*n+s)*wgChunk:][:k]
							if d[r*n+s] == nil {
								o[s] = sink[s][:k]
							} else {
								o[s] = d[r*n+s][c0 : c0+k]
							}
						}
						st.b(&o, &in, true)
					}
				}
			}
		}
	}
}

// fused reports whether a tile's transforms of c channels run as one call of
// the whole-tile AVX2 kernels of F(4×4, 3×3) (winograd4_amd64.s), which do the
// column and row passes' operations in the same order as the 1-D transforms
// (the same bits) without the per-line calls.
func (s *wgSet) fused(c int) bool { return s.m == 4 && wg4Asm && wgFused && c%8 == 0 }

// wgFused lets tests run the 1-D transforms instead of the whole-tile kernels.
var wgFused = true

// pointers sets p[i] to the address of v[i]'s first value, or nil where v[i]
// is nil, for i < k.
func pointers(p *[wgMaxN * wgMaxN]*float32, v *[wgMaxN * wgMaxN][]float32, k int) {
	for i := range k {
		p[i] = nil
		if v[i] != nil {
			p[i] = &v[i][0]
		}
	}
}

// wgInPixels points d[r·n+s] at the InC values of input pixel
// (m·ty − Pad + r, m·tx − Pad + s) of img, the n×n input tile under output
// tile (ty, tx), or sets it to nil where the pixel lies in the padding.
func wgInPixels(st *wgSet, d *[wgMaxN * wgMaxN][]float32, img []float32, ty, tx int, g ConvGeom) {
	c, n, m := g.InC, st.n, st.m
	for r := range n {
		iy := m*ty - g.Pad + r
		for s := range n {
			ix := m*tx - g.Pad + s
			d[r*n+s] = nil
			if iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW {
				o := (iy*g.InW + ix) * c
				d[r*n+s] = img[o : o+c]
			}
		}
	}
}

// wgOutPixels points out[p·m+q] at the OutC values of output pixel
// (m·ty + p, m·tx + q) of img, or sets it to nil where the m×m tile runs past
// the image's edge.
func wgOutPixels(st *wgSet, out *[wgMaxN * wgMaxN][]float32, img []float32, ty, tx int, g ConvGeom) {
	oc, oh, ow, m := g.OutC, g.OutH(), g.OutW(), st.m
	for p := range m {
		for q := range m {
			oy, ox := m*ty+p, m*tx+q
			out[p*m+q] = nil
			if oy < oh && ox < ow {
				o := (oy*ow + ox) * oc
				out[p*m+q] = img[o : o+oc]
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
