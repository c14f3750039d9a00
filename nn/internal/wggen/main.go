// Command wggen generates nn/winograd4_amd64.s, the AVX2 kernels of the
// F(4×4, 3×3) transforms of nn/winograd4.go. Each kernel runs the Go loop's
// operations on 8 channels at a time, in the same order and with the same
// roundings (no fused multiply-adds), so the bits are the same. It lives in its
// own module so that the library does not depend on avo. Regenerate with
//
//	cd nn/internal/wggen && go run . -out ../../winograd4_amd64.s -stubs ../../winograd4_stub_amd64.go -pkg nn
//
// The kernels take the addresses of two arrays of slices (nn.wgVecs, six
// slice headers of 24 bytes) and a count n, a multiple of 8 and at least 8.
package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// vconst is a 32-byte vector of one float32.
func vconst(name string, v float32) Mem {
	m := GLOBL("wg4c_"+name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
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
func add(x, y Op) VecVirtual     { r := YMM(); VADDPS(y, x, r); return r }
func sub(x, y Op) VecVirtual     { r := YMM(); VSUBPS(y, x, r); return r }
func mul(c Mem, x Op) VecVirtual { r := YMM(); VMULPS(c, x, r); return r }

func main() {
	ConstraintExpr("!purego")
	c2, c4, c5, c8, cm5 := vconst("two", 2), vconst("four", 4), vconst("five", 5), vconst("eight", 8), vconst("mfive", -5)

	kernel("wg4BTx8", "sets o = Bᵀ in for the first n channels (wg4BT).", 6, 6, false, func(x, _ []VecVirtual, _ VecVirtual) []VecVirtual {
		a, b, c, d, e, f := x[0], x[1], x[2], x[3], x[4], x[5]
		o0 := add(sub(mul(c4, a), mul(c5, c)), e)
		o1 := sub(add(d, e), mul(c4, add(b, c)))
		o2 := add(sub(e, d), mul(c4, sub(b, c)))
		ec, db := sub(e, c), mul(c2, sub(d, b))
		o3, o4 := add(ec, db), sub(ec, db)
		o5 := add(sub(mul(c4, b), mul(c5, d)), f)
		return []VecVirtual{o0, o1, o2, o3, o4, o5}
	}, false)

	bBody := func(x, old []VecVirtual, _ VecVirtual) []VecVirtual {
		a, b, c, d, e, f := x[0], x[1], x[2], x[3], x[4], x[5]
		s, t, u, v := add(b, c), sub(c, b), add(d, e), sub(d, e)
		r := []VecVirtual{
			mul(c4, a),
			add(sub(mul(c4, t), mul(c2, v)), mul(c4, f)),
			sub(sub(mul(cm5, a), mul(c4, s)), u),
			sub(sub(mul(c2, v), t), mul(c5, f)),
			add(add(a, s), u),
			f,
		}
		if old != nil {
			for i := range r {
				r[i] = add(old[i], r[i])
			}
		}
		return r
	}
	kernel("wg4Bx8", "sets o = B in for the first n channels (wg4B).", 6, 6, false, bBody, false)
	kernel("wg4BAddx8", "adds B in to o for the first n channels (wg4B with add).", 6, 6, false, bBody, true)

	kernel("wg4ATx8", "sets o[:4] = Aᵀ in + bias for the first n channels (wg4AT with a bias).", 6, 4, true, func(x, _ []VecVirtual, bias VecVirtual) []VecVirtual {
		a, b, c, d, e, f := x[0], x[1], x[2], x[3], x[4], x[5]
		s, t, u, v := add(b, c), sub(b, c), add(d, e), sub(d, e)
		r := []VecVirtual{add(add(a, s), u), add(t, mul(c2, v)), add(s, mul(c4, u)), add(add(t, mul(c8, v)), f)}
		for i := range r {
			r[i] = add(r[i], bias)
		}
		return r
	}, false)
	kernel("wg4ATNx8", "sets o[:4] = Aᵀ in for the first n channels (wg4AT without a bias).", 6, 4, false, func(x, _ []VecVirtual, _ VecVirtual) []VecVirtual {
		a, b, c, d, e, f := x[0], x[1], x[2], x[3], x[4], x[5]
		s, t, u, v := add(b, c), sub(b, c), add(d, e), sub(d, e)
		return []VecVirtual{add(add(a, s), u), add(t, mul(c2, v)), add(s, mul(c4, u)), add(add(t, mul(c8, v)), f)}
	}, false)

	kernel("wg4Ax8", "sets o = A in[:4] for the first n channels (wg4A).", 4, 6, false, func(x, _ []VecVirtual, _ VecVirtual) []VecVirtual {
		p, q, r, s := x[0], x[1], x[2], x[3]
		e, f := add(p, r), add(q, s)
		g, h := add(p, mul(c4, r)), add(mul(c2, q), mul(c8, s))
		return []VecVirtual{p, add(e, f), sub(e, f), add(g, h), sub(g, h), s}
	}, false)
	Generate()
}
