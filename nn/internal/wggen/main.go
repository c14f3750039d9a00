// Command wggen generates nn/winograd4_amd64.s, the AVX2 kernels of the
// F(4×4, 3×3) transforms of nn/winograd4.go, and AVX-512F versions of the
// whole-tile ones (16 channels at a time). Each kernel runs the Go loop's
// operations on 8 (16) channels at a time, in the same order and with the same
// roundings (no fused multiply-adds), so the bits are the same. It lives in its
// own module so that the library does not depend on avo. Regenerate with
//
//	cd nn/internal/wggen && go run . -out ../../winograd4_amd64.s -stubs ../../winograd4_stub_amd64.go -pkg nn
//
// The kernels take the addresses of two arrays of slices (nn.wgVecs, six
// slice headers of 24 bytes) and a count n, a multiple of 8 and at least 8.
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// width is the lanes of the kernels being generated: 8 (AVX2, YMM registers) or
// 16 (AVX-512F, ZMM registers; the whole-tile kernels only, named x16).
var width = 8

// vec returns a new vector register of the current width.
func vec() VecVirtual {
	if width == 16 {
		return ZMM()
	}
	return YMM()
}

// vconst is a vector of width float32 copies of v.
func vconst(name string, v float32) Mem {
	prefix := "wg4c_"
	if width == 16 {
		prefix = "wg4c16_"
	}
	m := GLOBL(prefix+name, RODATA|NOPTR)
	for i := 0; i < width; i++ {
		DATA(4*i, U32(math.Float32bits(v)))
	}
	return m
}

// kernel emits one transform: it loads the data pointers of nin slices of in
// and nout of o (and of bias when withBias), loops over n in steps of 8 lanes,
// loads the inputs (and, with add, the outputs), and calls body, which returns
// the vectors to store.
func kernel(name, doc string, nin, nout int, withBias bool, body func(x []VecVirtual, old []VecVirtual, bias VecVirtual) []VecVirtual, add bool) {
	sig := "func(o, in *[6][]float32, n int)"
	if withBias {
		sig = "func(o, in *[6][]float32, bias *float32, n int)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name + " " + doc)
	po := Load(Param("o"), GP64())
	pi := Load(Param("in"), GP64())
	in := make([]GPVirtual, nin)
	for i := range in {
		in[i] = GP64()
		MOVQ(Mem{Base: pi, Disp: 24 * i}, in[i])
	}
	out := make([]GPVirtual, nout)
	for i := range out {
		out[i] = GP64()
		MOVQ(Mem{Base: po, Disp: 24 * i}, out[i])
	}
	var pb Register
	if withBias {
		pb = Load(Param("bias"), GP64())
	}
	idx := GP64()
	XORQ(idx, idx)
	Label(name + "_loop")
	x := make([]VecVirtual, nin)
	for i := range x {
		x[i] = YMM()
		VMOVUPS(Mem{Base: in[i], Index: idx, Scale: 4}, x[i])
	}
	var old []VecVirtual
	if add {
		old = make([]VecVirtual, nout)
		for i := range old {
			old[i] = YMM()
			VMOVUPS(Mem{Base: out[i], Index: idx, Scale: 4}, old[i])
		}
	}
	var bias VecVirtual
	if withBias {
		bias = YMM()
		VMOVUPS(Mem{Base: pb, Index: idx, Scale: 4}, bias)
	}
	r := body(x, old, bias)
	for i := range out {
		VMOVUPS(r[i], Mem{Base: out[i], Index: idx, Scale: 4})
	}
	ADDQ(Imm(8), idx)
	CMPQ(idx, NewParamAddr("n", 16+8*b2i(withBias)))
	JLT(LabelRef(name + "_loop"))
	VZEROUPPER()
	RET()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Vector operations, each a new register: add(x, y) = x + y, sub(x, y) = x − y,
// mul(c, x) = c·x.
func add(x, y Op) VecVirtual     { r := vec(); VADDPS(y, x, r); return r }
func sub(x, y Op) VecVirtual     { r := vec(); VSUBPS(y, x, r); return r }
func mul(c Mem, x Op) VecVirtual { r := vec(); VMULPS(c, x, r); return r }

// The transforms' bodies on loaded vectors, in the order of the Go loops of
// nn/winograd4.go.
var c2, c4, c5, c8, cm5 Mem

func btBody(x []VecVirtual) []VecVirtual {
	a, b, c, d, e, f := x[0], x[1], x[2], x[3], x[4], x[5]
	o0 := add(sub(mul(c4, a), mul(c5, c)), e)
	o1 := sub(add(d, e), mul(c4, add(b, c)))
	o2 := add(sub(e, d), mul(c4, sub(b, c)))
	ec, db := sub(e, c), mul(c2, sub(d, b))
	o3, o4 := add(ec, db), sub(ec, db)
	o5 := add(sub(mul(c4, b), mul(c5, d)), f)
	return []VecVirtual{o0, o1, o2, o3, o4, o5}
}

func bBody(x []VecVirtual) []VecVirtual {
	a, b, c, d, e, f := x[0], x[1], x[2], x[3], x[4], x[5]
	s, t, u, v := add(b, c), sub(c, b), add(d, e), sub(d, e)
	return []VecVirtual{
		mul(c4, a),
		add(sub(mul(c4, t), mul(c2, v)), mul(c4, f)),
		sub(sub(mul(cm5, a), mul(c4, s)), u),
		sub(sub(mul(c2, v), t), mul(c5, f)),
		add(add(a, s), u),
		f,
	}
}

func atBody(x []VecVirtual) []VecVirtual {
	a, b, c, d, e, f := x[0], x[1], x[2], x[3], x[4], x[5]
	s, t, u, v := add(b, c), sub(b, c), add(d, e), sub(d, e)
	return []VecVirtual{add(add(a, s), u), add(t, mul(c2, v)), add(s, mul(c4, u)), add(add(t, mul(c8, v)), f)}
}

func aBody(x []VecVirtual) []VecVirtual {
	p, q, r, s := x[0], x[1], x[2], x[3]
	e, f := add(p, r), add(q, s)
	g, h := add(p, mul(c4, r)), add(mul(c2, q), mul(c8, s))
	return []VecVirtual{p, add(e, f), sub(e, f), add(g, h), sub(g, h), s}
}

func main() {
	ConstraintExpr("!purego")
	c2, c4, c5, c8, cm5 = vconst("two", 2), vconst("four", 4), vconst("five", 5), vconst("eight", 8), vconst("mfive", -5)
	line := func(f func([]VecVirtual) []VecVirtual) func(x, old []VecVirtual, bias VecVirtual) []VecVirtual {
		return func(x, old []VecVirtual, bias VecVirtual) []VecVirtual {
			r := f(x)
			for i := range r {
				if old != nil {
					r[i] = add(old[i], r[i])
				}
				if bias != nil {
					r[i] = add(r[i], bias)
				}
			}
			return r
		}
	}
	kernel("wg4BTx8", "sets o = Bᵀ in for the first n channels (wg4BT).", 6, 6, false, line(btBody), false)
	kernel("wg4Bx8", "sets o = B in for the first n channels (wg4B).", 6, 6, false, line(bBody), false)
	kernel("wg4BAddx8", "adds B in to o for the first n channels (wg4B with add).", 6, 6, false, line(bBody), true)
	kernel("wg4ATx8", "sets o[:4] = Aᵀ in + bias for the first n channels (wg4AT with a bias).", 6, 4, true, line(atBody), false)
	kernel("wg4ATNx8", "sets o[:4] = Aᵀ in for the first n channels (wg4AT without a bias).", 6, 4, false, line(atBody), false)
	kernel("wg4Ax8", "sets o = A in[:4] for the first n channels (wg4A).", 4, 6, false, line(aBody), false)
	tiles("x8")
	width = 16
	c2, c4, c5, c8, cm5 = vconst("two", 2), vconst("four", 4), vconst("five", 5), vconst("eight", 8), vconst("mfive", -5)
	tiles("x16")
	Generate()
}

// Whole-tile kernels: one call runs a tile's 2-D transform, the columns into
// the scratch scr (36 vectors of 8 floats for the current 8 channels) and then
// the rows, for n channels (a multiple of 8). Pixels are an array of pointers
// to their first channel (nn passes zeros for input pixels in the padding, and
// nil for output pixels to leave out); the n²=36 planes of a tile are at
// base + k·stride bytes.

// tileKernel declares a whole-tile kernel and loads its arguments.
type tileArgs struct {
	pix, base, stride, scr, bias Register
	idx, pb, str6                GPVirtual
}

func tileKernel(name, doc string, bias bool) *tileArgs {
	sig := "func(pix *[36]*float32, base *float32, stride int, scr *float32, n int)"
	if bias {
		sig = "func(pix *[36]*float32, base *float32, stride int, bias *float32, scr *float32, n int)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name + " " + doc)
	a := &tileArgs{}
	a.pix = Load(Param("pix"), GP64())
	a.base = Load(Param("base"), GP64())
	a.stride = Load(Param("stride"), GP64())
	a.scr = Load(Param("scr"), GP64())
	if bias {
		a.bias = Load(Param("bias"), GP64())
	}
	a.str6 = GP64()
	IMUL3Q(Imm(6), a.stride, a.str6)
	a.idx = GP64()
	XORQ(a.idx, a.idx)
	Label(name + "_loop")
	a.pb = GP64() // the planes' row for these width channels
	LEAQ(Mem{Base: a.base, Index: a.idx, Scale: 4}, a.pb)
	return a
}

func (a *tileArgs) end(name string, bias bool) {
	ADDQ(Imm(uint64(width)), a.idx)
	off := 32
	if bias {
		off = 40
	}
	CMPQ(a.idx, NewParamAddr("n", off))
	JLT(LabelRef(name + "_loop"))
	VZEROUPPER()
	RET()
}

// pixel loads the width channels of pixel i.
func (a *tileArgs) pixel(i int) VecVirtual {
	p := GP64()
	MOVQ(Mem{Base: a.pix, Disp: 8 * i}, p)
	y := vec()
	VMOVUPS(Mem{Base: p, Index: a.idx, Scale: 4}, y)
	return y
}

// storePixel stores y into pixel i (adding to it with add) unless its pointer
// is nil.
func (a *tileArgs) storePixel(name string, i int, y VecVirtual, add bool) {
	p := GP64()
	MOVQ(Mem{Base: a.pix, Disp: 8 * i}, p)
	skip := fmt.Sprintf("%s_skip%d", name, i)
	TESTQ(p, p)
	JZ(LabelRef(skip))
	m := Mem{Base: p, Index: a.idx, Scale: 4}
	if add {
		r := vec()
		VADDPS(m, y, r) // y + m: the Go loop's o += r, commuted
		y = r
	}
	VMOVUPS(y, m)
	Label(skip)
}

func (a *tileArgs) scratch(k int) Mem { return Mem{Base: a.scr, Disp: 4 * width * k} }

// columnPlanes loads the planes r·6+s, r = 0..5, of column s.
func (a *tileArgs) columnPlanes(s int) []VecVirtual {
	p := GP64()
	IMUL3Q(Imm(uint64(s)), a.stride, p)
	ADDQ(a.pb, p)
	x := make([]VecVirtual, 6)
	for r := range x {
		x[r] = vec()
		VMOVUPS(Mem{Base: p}, x[r])
		if r < 5 {
			ADDQ(a.str6, p)
		}
	}
	return x
}

// rowPlanes stores the planes i·6+j, j = 0..5, of row i.
func (a *tileArgs) rowPlanes(i int, y []VecVirtual) {
	p := GP64()
	IMUL3Q(Imm(uint64(6*i)), a.stride, p)
	ADDQ(a.pb, p)
	for j := range y {
		VMOVUPS(y[j], Mem{Base: p})
		if j < 5 {
			ADDQ(a.stride, p)
		}
	}
}

// scratchRow loads the k scratch vectors first, first+1, ..., first+k−1.
func (a *tileArgs) scratchRow(first, k int) []VecVirtual {
	x := make([]VecVirtual, k)
	for i := range x {
		x[i] = vec()
		VMOVUPS(a.scratch(first+i), x[i])
	}
	return x
}

// toScratch stores y[i] into scratch vector first + i·step.
func (a *tileArgs) toScratch(y []VecVirtual, first, step int) {
	for i, v := range y {
		VMOVUPS(v, a.scratch(first+i*step))
	}
}

// pixelColumn loads the k pixels first, first+step, ..., of a tile's column.
func (a *tileArgs) pixelColumn(first, step, k int) []VecVirtual {
	x := make([]VecVirtual, k)
	for i := range x {
		x[i] = a.pixel(first + i*step)
	}
	return x
}

// pixelsToPlanes emits a kernel whose column pass reads k pixels per column of
// k columns and whose row pass writes the 36 planes, six rows of six: the
// input transform (k = 6, Bᵀ) and the output gradient's (k = 4, A).
func pixelsToPlanes(name, doc string, k int, body func([]VecVirtual) []VecVirtual) {
	a := tileKernel(name, doc, false)
	for s := range k {
		a.toScratch(body(a.pixelColumn(s, k, k)), s, k)
	}
	for i := range 6 {
		a.rowPlanes(i, body(a.scratchRow(i*k, k)))
	}
	a.end(name, false)
}

// planesToPixels emits a kernel whose column pass reads the 36 planes, six
// columns of six, and whose row pass stores the outputs of its rows (rows of
// them) into the pixels, skipping nil ones: the output transform (Aᵀ, four
// rows of four, plus the bias) and the input gradient's (B, six rows of six,
// added to the pixels with accumulate).
func planesToPixels(name, doc string, rows int, body func([]VecVirtual) []VecVirtual, bias, accumulate bool) {
	a := tileKernel(name, doc, bias)
	for s := range 6 {
		a.toScratch(body(a.columnPlanes(s)), s, 6)
	}
	var b VecVirtual
	if bias {
		b = vec()
		VMOVUPS(Mem{Base: a.bias, Index: a.idx, Scale: 4}, b)
	}
	for r := range rows {
		ys := body(a.scratchRow(r*6, 6))
		for j, y := range ys {
			if bias {
				y = add(y, b)
			}
			a.storePixel(name, r*len(ys)+j, y, accumulate)
		}
	}
	a.end(name, bias)
}

// tiles emits the four whole-tile kernels at the current width, their names
// ending in suffix.
func tiles(suffix string) {
	note := ""
	if width == 16 {
		note = " AVX-512F, 16 channels at a time: n a multiple of 16, scr 36·16 floats."
	}
	pixelsToPlanes("wg4InTile"+suffix, "sets the 36 planes of a tile to Bᵀ d B for the 6×6 input pixels d (wgInputJob)."+note, 6, btBody)
	planesToPixels("wg4OutTile"+suffix, "sets the 4×4 output pixels of a tile to Aᵀ M A + bias for its 36 planes M (wgOutputJob); nil pixels are left out."+note, 4, atBody, true, false)
	pixelsToPlanes("wg4GradOutTile"+suffix, "sets the 36 planes of a tile to A dy Aᵀ for its 4×4 output gradients dy (wgGradOutputJob)."+note, 4, aBody)
	planesToPixels("wg4GradInTile"+suffix, "adds B dV Bᵀ for the 36 planes dV of a tile to its 6×6 input pixels (wgGradInputJob); nil pixels are left out."+note, 6, bBody, false, true)
}
