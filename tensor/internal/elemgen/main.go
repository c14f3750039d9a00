// Command elemgen generates tensor/elem_amd64.s, the AVX-512 and AVX2+FMA kernels
// behind tensor's element-wise functions (Exp, Sigmoid, Softplus, LogSigmoid, ReLU,
// SiLU and its gradient, and the fused sigmoid-Bernoulli step), and the row kernels of the sparse
// product SpMM (spmmRow) and of CSR.FromDense (compress, AVX-512 only). It lives
// in its own module so that the library does not depend on avo. Regenerate with
//
//	cd tensor/internal/elemgen && go run . -out ../../elem_amd64.s -stubs ../../elem_stub_amd64.go -pkg tensor
//
// Every element-wise kernel processes len(x) elements, which must be a multiple
// of the vector width (16 for AVX-512, 8 for AVX2); the Go wrappers handle the
// tails. The algorithms are the ones of tensor/elem_generic.go, instruction for instruction
// except that the assembly fuses multiply-adds: see that file for the derivations.
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one vector width.
type isa struct {
	name   string
	avx512 bool
	w      int // float32 lanes
	vec    func() VecVirtual
	and    func(src, src1, dst Op) // bitwise and (VPANDD needs EVEX for zmm)
	xor    func(src, src1, dst Op)
	or     func(src, src1, dst Op)
}

var isas = []isa{
	{"AVX512", true, 16, ZMM, func(a, b, c Op) { VPANDD(a, b, c) }, func(a, b, c Op) { VPXORD(a, b, c) }, func(a, b, c Op) { VPORD(a, b, c) }},
	{"AVX2", false, 8, YMM, func(a, b, c Op) { VPAND(a, b, c) }, func(a, b, c Op) { VPXOR(a, b, c) }, func(a, b, c Op) { VPOR(a, b, c) }},
}

// cmp returns the lanes where src1 <pred> src2 as a mask: a K register on
// AVX-512, a vector of all-ones/all-zeros lanes on AVX2. src2 may be memory.
func (a isa) cmp(pred uint64, src2 Op, src1 VecVirtual) Op {
	var m Op
	if a.avx512 {
		m = K()
	} else {
		m = a.vec()
	}
	VCMPPS(Imm(pred), src2, src1, m)
	return m
}

// blend sets dst = t where mask is set, else f. t may be memory.
func (a isa) blend(mask, t Op, f, dst VecVirtual) {
	if a.avx512 {
		VBLENDMPS(t, f, mask, dst)
	} else {
		VBLENDVPS(mask, t, f, dst)
	}
}

// VCMPPS predicates.
const (
	cmpEQ  = 0x00 // EQ_OQ
	cmpLT  = 0x01 // LT_OS
	cmpNLT = 0x05 // NLT_US: not less than, or unordered
)

// Constants: 64-byte vectors of one repeated 32-bit value, used as memory operands
// (an AVX2 kernel reads the first 32 bytes).
var (
	cOne, cSign, cAbs, cLog2e, cMagic, cLn2Hi, cLn2Lo, cBias, cMantMask, cSqrtHalf                              Mem
	cMinusHalf, cLogC2, cLogC1, cMinus2, cTanhSmall, cMinNormal, cTwo24, cMinus24, cInf, cNegInf, cNaN, cTwoM24 Mem
	cExpP                                                                                                       [6]Mem
	cLogP                                                                                                       [9]Mem
	cTanhT                                                                                                      [5]Mem
	cClampHi, cClampLo                                                                                          Mem
)

func vconst(name string, bits uint32) Mem {
	m := GLOBL("elemc_"+name, RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(bits))
	}
	return m
}

func fconst(name string, v float64) Mem { return vconst(name, math.Float32bits(float32(v))) }

func constants() {
	cOne = fconst("one", 1)
	cSign = vconst("sign", 0x80000000)
	cAbs = vconst("abs", 0x7fffffff)
	cClampHi = fconst("clamphi", 88.75)
	cClampLo = fconst("clamplo", -104)
	cLog2e = fconst("log2e", math.Log2E)
	cMagic = fconst("magic", 12582912) // 1.5·2²³: adding it rounds to an integer
	cLn2Hi = fconst("ln2hi", 0.693359375)
	cLn2Lo = fconst("ln2lo", -2.12194440e-4)
	cBias = vconst("bias127", 127)
	for i, c := range []float64{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
		4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		cExpP[i] = fconst("expp"+string(rune('0'+i)), c)
	}
	cMantMask = vconst("mant", 0x007fffff)
	cSqrtHalf = vconst("sqrthalf", 0x3f3504f3)
	cMinusHalf = fconst("mhalf", -0.5)
	cMinus2 = fconst("m2", -2)
	cTanhSmall = fconst("tanhsmall", 0.625)
	cMinNormal = vconst("minnormal", 0x00800000)
	cTwo24 = fconst("two24", 1<<24)
	cMinus24 = fconst("m24", -24)
	cTwoM24 = fconst("twom24", 1.0/(1<<24))
	cInf = vconst("inf", 0x7f800000)
	cNegInf = vconst("neginf", 0xff800000)
	cNaN = vconst("nan", 0x7fc00000)
	for i, c := range []float64{-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
		1.33314422036e-1, -3.33332819422e-1} {
		cTanhT[i] = fconst("tanht"+string(rune('0'+i)), c)
	}
	cLogC1 = fconst("logc1", 0.693359375)
	cLogC2 = fconst("logc2", -2.12194440e-4)
	for i, c := range []float64{7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
		-1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1,
		-2.4999993993e-1, 3.3333331174e-1} {
		cLogP[i] = fconst("logp"+string(rune('0'+i)), c)
	}
}

// regs holds constants kept in registers (those used as the first source of
// min/max/div, which must be a register).
type regs struct{ hi, lo, one, zero VecVirtual }

func loadRegs(a isa) regs {
	r := regs{a.vec(), a.vec(), a.vec(), a.vec()}
	VMOVUPS(cClampHi, r.hi)
	VMOVUPS(cClampLo, r.lo)
	VMOVUPS(cOne, r.one)
	a.xor(r.zero, r.zero, r.zero)
	return r
}

// expInPlace sets v = exp(v) (see exp32 in elem_generic.go), clamping v to
// [lo, hi] first. NaN propagates: min and max return their second (Intel) source,
// v, when it is NaN.
func expInPlace(a isa, r regs, v VecVirtual, hi VecVirtual) {
	expInPlaceN(a, r, []VecVirtual{v}, hi)
}

// vecs returns n new vector registers.
func vecs(a isa, n int) []VecVirtual {
	v := make([]VecVirtual, n)
	for i := range v {
		v[i] = a.vec()
	}
	return v
}

// expInPlaceN is expInPlace on several vectors at once, each instruction issued
// for every vector before the next: the chains are independent, and interleaved
// they keep the FMA pipes busy where one chain would wait on its own latencies
// (the scheduler holds too few instructions to reach the next vector's on its
// own). Each vector gets exactly expInPlace's operations.
func expInPlaceN(a isa, r regs, v []VecVirtual, hi VecVirtual) {
	each := func(f func(i int)) {
		for i := range v {
			f(i)
		}
	}
	t, nf, p, r2 := vecs(a, len(v)), vecs(a, len(v)), vecs(a, len(v)), vecs(a, len(v))
	each(func(i int) { VMINPS(v[i], hi, v[i]) })
	each(func(i int) { VMAXPS(v[i], r.lo, v[i]) })
	each(func(i int) { VMULPS(cLog2e, v[i], t[i]) })
	each(func(i int) { VADDPS(cMagic, t[i], t[i]) })  // low mantissa bits of t now hold round(v·log2e)
	each(func(i int) { VSUBPS(cMagic, t[i], nf[i]) }) // nf = round(v·log2e) as a float
	each(func(i int) { VFNMADD231PS(cLn2Hi, nf[i], v[i]) })
	each(func(i int) { VFNMADD231PS(cLn2Lo, nf[i], v[i]) }) // v = r = x − n·ln2, |r| ≲ ln2/2
	each(func(i int) { VMOVUPS(cExpP[0], p[i]) })
	for _, c := range cExpP[1:] {
		each(func(i int) { VFMADD213PS(c, v[i], p[i]) })
	}
	each(func(i int) { VMULPS(v[i], v[i], r2[i]) })      // r²
	each(func(i int) { VFMADD213PS(v[i], r2[i], p[i]) }) // p·r² + r
	each(func(i int) { VADDPS(cOne, p[i], p[i]) })
	if a.avx512 {
		// p·2ⁿ with overflow to +Inf and gradual underflow in one instruction.
		each(func(i int) { VSCALEFPS(nf[i], p[i], v[i]) })
		return
	}
	// 2ⁿ as 2^(n>>1)·2^(n−n>>1) so n in [−150, 128] neither wraps the exponent
	// field nor loses gradual underflow.
	n1 := vecs(a, len(v))
	each(func(i int) { VPSUBD(cMagic, t[i], t[i]) }) // t = n as an int32
	each(func(i int) { VPSRAD(Imm(1), t[i], n1[i]) })
	each(func(i int) { VPSUBD(n1[i], t[i], t[i]) })
	each(func(i int) { VPADDD(cBias, n1[i], n1[i]) })
	each(func(i int) { VPSLLD(Imm(23), n1[i], n1[i]) })
	each(func(i int) { VPADDD(cBias, t[i], t[i]) })
	each(func(i int) { VPSLLD(Imm(23), t[i], t[i]) })
	each(func(i int) { VMULPS(n1[i], p[i], p[i]) })
	each(func(i int) { VMULPS(t[i], p[i], v[i]) })
}

// sigmoidInPlace sets v = σ(v) (see sigmoid32 in elem_generic.go): with
// e = exp(−|x|) in [0, 1] and d = 1 + e in [1, 2],
//
//	σ(x) = 1/d for x ≥ 0,  e/d for x < 0
//
// so nothing overflows and tiny results keep their relative accuracy. On AVX-512
// 1/d is a 14-bit reciprocal estimate refined by one Newton step,
// y ← y + y·(1 − d·y), and the x < 0 lanes are multiplied by e under a mask.
func sigmoidInPlace(a isa, r regs, v VecVirtual) {
	if !a.avx512 {
		sigmoidInPlaceN(a, r, []VecVirtual{v})
		return
	}
	e := a.vec()
	a.or(cSign, v, e) // −|x|
	expInPlace(a, r, e, r.hi)
	d := a.vec()
	VADDPS(r.one, e, d)
	k := K()
	VPTESTMD(cSign, v, k) // k = sign bit of x
	VRCP14PS(d, v)
	t := a.vec()
	VMOVAPS(r.one, t)
	VFNMADD231PS(v, d, t) // t = 1 − d·y
	VFMADD231PS(t, v, v)  // y = y + y·t
	VMULPS(e, v, k, v)    // y = e·y where x < 0
}

// sigmoidInPlaceN is sigmoidInPlace's AVX2 path on several vectors at once,
// interleaved as expInPlaceN is.
func sigmoidInPlaceN(a isa, r regs, v []VecVirtual) {
	e, d, f := vecs(a, len(v)), vecs(a, len(v)), vecs(a, len(v))
	for i := range v {
		a.or(cSign, v[i], e[i]) // −|x|
	}
	expInPlaceN(a, r, e, r.hi)
	for i := range v {
		VADDPS(r.one, e[i], d[i])
	}
	for i := range v {
		VBLENDVPS(v[i], e[i], r.one, f[i]) // x < 0 ? e : 1 (by the sign bit of x)
	}
	for i := range v {
		VDIVPS(d[i], f[i], v[i])
	}
}

// logOf returns log(u) for positive normal u (see logNormal in elem_generic.go):
// u = 2ᵏ·m with m in [√½, √2) by integer arithmetic on the bits, then the Cephes
// logf polynomial in f = m − 1. kadj, if not nil, is added to k (as a float).
func logOf(a isa, u VecVirtual, kadj Op) VecVirtual {
	ix := a.vec()
	VPSUBD(cSqrtHalf, u, ix)
	k := a.vec()
	VPSRAD(Imm(23), ix, k)
	a.and(cMantMask, ix, ix)
	VPADDD(cSqrtHalf, ix, ix)
	VSUBPS(cOne, ix, ix) // f = m − 1
	VCVTDQ2PS(k, k)
	if kadj != nil {
		VADDPS(kadj, k, k)
	}
	z := a.vec()
	VMULPS(ix, ix, z)
	y := a.vec()
	VMOVUPS(cLogP[0], y)
	for _, c := range cLogP[1:] {
		VFMADD213PS(c, ix, y)
	}
	VMULPS(ix, y, y)
	VMULPS(z, y, y)
	VFMADD231PS(cLogC2, k, y)
	VFMADD231PS(cMinusHalf, z, y)
	VADDPS(ix, y, y)
	VFMADD231PS(cLogC1, k, y) // y = log(u)
	return y
}

// log1pExpNegAbs returns log1p(exp(−|x|)) in a new register (see softplusGeneric).
func log1pExpNegAbs(a isa, r regs, x VecVirtual) VecVirtual {
	e := a.vec()
	a.and(cAbs, x, e)
	a.xor(cSign, e, e)
	expInPlace(a, r, e, r.hi) // e = exp(−|x|) in [0, 1]
	u := a.vec()
	VADDPS(r.one, e, u) // u = 1 + e in [1, 2]
	y := logOf(a, u, nil)
	z := a.vec()
	// log1p(e) = log(u) + (e − (u − 1))/u recovers the bits of e lost in u.
	VSUBPS(r.one, u, z)
	VSUBPS(z, e, z)
	VDIVPS(u, z, z)
	VADDPS(z, y, y)
	return y
}

type kernel struct {
	name   string
	params []string // slice parameters; the first is the output, "x" the input
	doc    string
	body   func(a isa, r regs, p map[string]Mem)
}

// siluLanes is the interleaved body of silu (dst = x·σ(x)) and, with keepSig,
// of siluSig, which also stores σ(x) in s.
func siluLanes(keepSig bool) func(a isa, r regs, p []map[string]Mem) {
	return func(a isa, r regs, p []map[string]Mem) {
		x, v := vecs(a, len(p)), vecs(a, len(p))
		for i := range p {
			VMOVUPS(p[i]["x"], x[i])
			VMOVAPS(x[i], v[i])
		}
		sigmoidInPlaceN(a, r, v)
		for i := range p {
			if keepSig {
				VMOVUPS(v[i], p[i]["s"])
			}
			VMULPS(x[i], v[i], v[i])
			VMOVUPS(v[i], p[i]["dst"])
		}
	}
}

// kernelLanes holds, for some kernels, their body for several vectors at once
// (p[i] the operands of vector i), its instructions interleaved: gen uses it
// for both loops on AVX2.
var kernelLanes = map[string]func(a isa, r regs, p []map[string]Mem){
	"silu":    siluLanes(false),
	"siluSig": siluLanes(true),
	"siluGrad": func(a isa, r regs, p []map[string]Mem) {
		s, t := vecs(a, len(p)), vecs(a, len(p))
		for i := range p {
			VMOVUPS(p[i]["x"], s[i])
		}
		sigmoidInPlaceN(a, r, s)
		for i := range p {
			VSUBPS(s[i], r.one, t[i])
			VMULPS(p[i]["y"], t[i], t[i])
			VADDPS(s[i], t[i], t[i])
			VMULPS(p[i]["dy"], t[i], t[i])
			VMOVUPS(t[i], p[i]["dst"])
		}
	},
}

var kernels = []kernel{
	{"exp", []string{"dst", "x"}, "dst = exp(x)", func(a isa, r regs, p map[string]Mem) {
		v := a.vec()
		VMOVUPS(p["x"], v)
		expInPlace(a, r, v, r.hi)
		VMOVUPS(v, p["dst"])
	}},
	{"sigmoid", []string{"dst", "x"}, "dst = σ(x)", func(a isa, r regs, p map[string]Mem) {
		v := a.vec()
		VMOVUPS(p["x"], v)
		sigmoidInPlace(a, r, v)
		VMOVUPS(v, p["dst"])
	}},
	{"sigmoidBias", []string{"dst", "x", "b"}, "dst = σ(x + b)", func(a isa, r regs, p map[string]Mem) {
		v := a.vec()
		VMOVUPS(p["x"], v)
		VADDPS(p["b"], v, v)
		sigmoidInPlace(a, r, v)
		VMOVUPS(v, p["dst"])
	}},
	{"sigmoidBernoulli", []string{"prob", "sample", "x", "b", "u"},
		"prob = σ(x + b); sample = 1 if u < prob else 0", func(a isa, r regs, p map[string]Mem) {
			v := a.vec()
			VMOVUPS(p["x"], v)
			VADDPS(p["b"], v, v)
			sigmoidInPlace(a, r, v)
			VMOVUPS(v, p["prob"])
			s := a.vec()
			VMOVUPS(p["u"], s)
			VSUBPS(v, s, s)
			VPSRAD(Imm(31), s, s)
			a.and(cOne, s, s)
			VMOVUPS(s, p["sample"])
		}},
	{"bernoulli", []string{"sample", "p", "u"}, "sample = 1 if u < p else 0", func(a isa, r regs, p map[string]Mem) {
		s := a.vec()
		VMOVUPS(p["u"], s)
		VSUBPS(p["p"], s, s)
		VPSRAD(Imm(31), s, s)
		a.and(cOne, s, s)
		VMOVUPS(s, p["sample"])
	}},
	{"softplus", []string{"dst", "x"}, "dst = max(x, 0) + log1p(exp(−|x|))", func(a isa, r regs, p map[string]Mem) {
		x := a.vec()
		VMOVUPS(p["x"], x)
		y := log1pExpNegAbs(a, r, x)
		VMAXPS(x, r.zero, x)
		VADDPS(y, x, x)
		VMOVUPS(x, p["dst"])
	}},
	{"logSigmoid", []string{"dst", "x"}, "dst = min(x, 0) − log1p(exp(−|x|))", func(a isa, r regs, p map[string]Mem) {
		x := a.vec()
		VMOVUPS(p["x"], x)
		y := log1pExpNegAbs(a, r, x)
		VMINPS(x, r.zero, x)
		VSUBPS(y, x, x)
		VMOVUPS(x, p["dst"])
	}},
	{"tanh", []string{"dst", "x"}, "dst = tanh(x)", func(a isa, r regs, p map[string]Mem) {
		// See tanh32: a + a³·T(a²) for a = |x| < 0.625, else (1−e)/(1+e) with
		// e = exp(−2a); then the sign of x.
		x := a.vec()
		VMOVUPS(p["x"], x)
		ax := a.vec()
		a.and(cAbs, x, ax)
		z := a.vec()
		VMULPS(x, x, z)
		ys := a.vec()
		VMOVUPS(cTanhT[0], ys)
		for _, c := range cTanhT[1:] {
			VFMADD213PS(c, z, ys)
		}
		VMULPS(z, ys, ys)
		VFMADD213PS(ax, ax, ys) // ys = |x|·ys + |x|, tanh|x| for small |x|
		e := a.vec()
		VMULPS(cMinus2, ax, e)
		expInPlace(a, r, e, r.hi)
		num := a.vec()
		VSUBPS(e, r.one, num)
		VADDPS(r.one, e, e)
		VDIVPS(e, num, num)
		small := a.cmp(cmpLT, cTanhSmall, ax)
		a.blend(small, ys, num, num)
		a.and(cSign, x, e)
		a.xor(e, num, num) // the sign of x (tanh is odd; keeps tanh(−0) = −0)
		VMOVUPS(num, p["dst"])
	}},
	{"log", []string{"dst", "x"}, "dst = log(x)", func(a isa, r regs, p map[string]Mem) {
		// See log32: subnormals are scaled by 2²⁴ first; then log(+Inf) = +Inf,
		// log(NaN) = NaN, log(±0) = −Inf and log(x < 0) = NaN by blends.
		x := a.vec()
		VMOVUPS(p["x"], x)
		sub := a.cmp(cmpLT, cMinNormal, x)
		u := a.vec()
		VMULPS(cTwo24, x, u)
		a.blend(sub, u, x, u)
		kadj := a.vec()
		a.blend(sub, cMinus24, r.zero, kadj)
		y := logOf(a, u, kadj)
		notFinite := a.cmp(cmpNLT, cInf, x)
		a.blend(notFinite, x, y, y)
		zero := a.cmp(cmpEQ, r.zero, x)
		a.blend(zero, cNegInf, y, y)
		neg := a.cmp(cmpLT, r.zero, x)
		a.blend(neg, cNaN, y, y)
		VMOVUPS(y, p["dst"])
	}},
	{"silu", []string{"dst", "x"}, "dst = x·σ(x)", func(a isa, r regs, p map[string]Mem) {
		x := a.vec()
		VMOVUPS(p["x"], x)
		v := a.vec()
		VMOVAPS(x, v)
		sigmoidInPlace(a, r, v)
		VMULPS(x, v, v)
		VMOVUPS(v, p["dst"])
	}},
	{"siluGrad", []string{"dst", "x", "y", "dy"}, "dst = dy·(s + y·(1 − s)) with s = σ(x)", func(a isa, r regs, p map[string]Mem) {
		// No fused multiply-add: the same roundings as siluGradGeneric.
		s := a.vec()
		VMOVUPS(p["x"], s)
		sigmoidInPlace(a, r, s)
		t := a.vec()
		VSUBPS(s, r.one, t)
		VMULPS(p["y"], t, t)
		VADDPS(s, t, t)
		VMULPS(p["dy"], t, t)
		VMOVUPS(t, p["dst"])
	}},
	{"siluSig", []string{"dst", "s", "x"}, "s = σ(x); dst = x·s (silu's bits, and σ kept for siluGradSig)", func(a isa, r regs, p map[string]Mem) {
		x := a.vec()
		VMOVUPS(p["x"], x)
		v := a.vec()
		VMOVAPS(x, v)
		sigmoidInPlace(a, r, v)
		VMOVUPS(v, p["s"])
		VMULPS(x, v, v)
		VMOVUPS(v, p["dst"])
	}},
	{"siluGradSig", []string{"dst", "s", "y", "dy"}, "dst = dy·(s + y·(1 − s)) (siluGrad's bits given s = σ(x))", func(a isa, r regs, p map[string]Mem) {
		t := a.vec()
		VSUBPS(p["s"], r.one, t)
		VMULPS(p["y"], t, t)
		VADDPS(p["s"], t, t)
		VMULPS(p["dy"], t, t)
		VMOVUPS(t, p["dst"])
	}},
	{"relu", []string{"dst", "x"}, "dst = max(x, 0)", func(a isa, r regs, p map[string]Mem) {
		v := a.vec()
		VMOVUPS(p["x"], v)
		VMAXPS(v, r.zero, v)
		VMOVUPS(v, p["dst"])
	}},
	{"reluGrad", []string{"dst", "y", "dy"}, "dst = dy where y > 0, else 0", func(a isa, r regs, p map[string]Mem) {
		y := a.vec()
		VMOVUPS(p["y"], y)
		pos := a.cmp(cmpLT, y, r.zero) // 0 < y; false for NaN
		d := a.vec()
		a.blend(pos, p["dy"], r.zero, d)
		VMOVUPS(d, p["dst"])
	}},
}

func gen(k kernel, a isa) {
	sig := "func("
	for i, p := range k.params {
		if i > 0 {
			sig += ", "
		}
		sig += p
	}
	sig += " []float32)"
	TEXT(k.name+a.name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(k.name+a.name+" sets "+k.doc+" element-wise.",
		"The length processed, len(x) (len(u) for bernoulli, len(s) for siluGradSig, len(y) for reluGrad), must be a multiple of",
		"the vector width; the other slices must be at least as long.")
	mems := map[string]Mem{}
	var bases []Register
	for _, p := range k.params {
		b := Load(Param(p).Base(), GP64())
		mems[p] = Mem{Base: b}
		bases = append(bases, b)
	}
	in := "x"
	if _, ok := mems["x"]; !ok {
		in = "u"
	}
	if _, ok := mems[in]; !ok {
		in = k.params[1] // siluGradSig, reluGrad: the first input
	}
	n := Load(Param(in).Len(), GP64())
	r := loadRegs(a)
	// Two vectors per iteration, then one.
	Label("loop2")
	CMPQ(n, U32(2*a.w))
	JB(LabelRef("loop1"))
	second := map[string]Mem{}
	for name, m := range mems {
		second[name] = m.Offset(4 * a.w)
	}
	lanesFn, lanes := kernelLanes[k.name]
	lanes = lanes && !a.avx512
	if lanes {
		lanesFn(a, r, []map[string]Mem{mems, second})
	} else {
		k.body(a, r, mems)
		k.body(a, r, second)
	}
	for _, b := range bases {
		ADDQ(U32(8*a.w), b)
	}
	SUBQ(U32(2*a.w), n)
	JMP(LabelRef("loop2"))
	Label("loop1")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	if lanes {
		lanesFn(a, r, []map[string]Mem{mems})
	} else {
		k.body(a, r, mems)
	}
	for _, b := range bases {
		ADDQ(U32(4*a.w), b)
	}
	SUBQ(U32(a.w), n)
	JMP(LabelRef("loop1"))
	Label("done")
	VZEROUPPER()
	RET()
}

// reduce folds the lanes of v (zmm or ymm) with op into its lowest lane.
func reduce(a isa, v VecVirtual, op func(src, src1, dst Op), double bool) {
	y := v.AsY()
	if a.avx512 {
		h := YMM()
		VEXTRACTF64X4(Imm(1), v, h)
		op(h, y, y)
	}
	hx := XMM()
	VEXTRACTF128(Imm(1), y, hx)
	lo := v.AsX()
	op(hx, lo, lo)
	VMOVHLPS(lo, lo, hx) // lanes 2,3 to 0,1
	op(hx, lo, lo)
	if !double {
		VMOVSHDUP(lo, hx) // lane 1 to 0
		op(hx, lo, lo)
	}
}

// genMax generates maxISA(x []float32) float32: the largest element, len(x) a
// positive multiple of the width. NaN handling is left to the caller.
func genMax(a isa) {
	TEXT("max"+a.name, NOSPLIT, "func(x []float32) float32")
	Pragma("noescape")
	Doc("max"+a.name+" returns the largest element of x; len(x) must be a positive",
		"multiple of the vector width. A NaN may or may not be returned.")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	n := Load(Param("x").Len(), GP64())
	acc := a.vec()
	VMOVUPS(cNegInf, acc)
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	VMAXPS(x, acc, acc)
	ADDQ(U32(4*a.w), x.Base)
	SUBQ(U32(a.w), n)
	JMP(LabelRef("loop"))
	Label("done")
	reduce(a, acc, func(s, s1, d Op) { VMAXPS(s, s1, d) }, false)
	Store(acc.AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// genExpSum generates expSumISA(x []float32, shift float32) float64 = Σ exp(x[i] +
// shift), each term from expInPlace, converted to float64 and summed per lane in
// index order, then across lanes; len(x) a multiple of the width.
func genExpSum(a isa) {
	TEXT("expSum"+a.name, NOSPLIT, "func(x []float32, shift float32) float64")
	Pragma("noescape")
	Doc("expSum"+a.name+" returns Σ exp(x[i] + shift) accumulated in float64; len(x)",
		"must be a multiple of the vector width.")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	n := Load(Param("x").Len(), GP64())
	sh := Load(Param("shift"), XMM())
	shift := a.vec()
	VBROADCASTSS(sh, shift)
	r := loadRegs(a)
	acc0, acc1 := a.vec(), a.vec()
	VXORPD(acc0, acc0, acc0)
	VXORPD(acc1, acc1, acc1)
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	v := a.vec()
	VADDPS(x, shift, v)
	expInPlace(a, r, v, r.hi)
	half := a.vec()
	if a.avx512 {
		VCVTPS2PD(v.AsY(), half)
		VADDPD(half, acc0, acc0)
		h := YMM()
		VEXTRACTF64X4(Imm(1), v, h)
		VCVTPS2PD(h, half)
		VADDPD(half, acc1, acc1)
	} else {
		VCVTPS2PD(v.AsX(), half)
		VADDPD(half, acc0, acc0)
		h := XMM()
		VEXTRACTF128(Imm(1), v, h)
		VCVTPS2PD(h, half)
		VADDPD(half, acc1, acc1)
	}
	ADDQ(U32(4*a.w), x.Base)
	SUBQ(U32(a.w), n)
	JMP(LabelRef("loop"))
	Label("done")
	VADDPD(acc1, acc0, acc0)
	reduce(a, acc0, func(s, s1, d Op) { VADDPD(s, s1, d) }, true)
	Store(acc0.AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// rotl sets x = x rotated left by k bits in each 64-bit lane.
func rotl(a isa, x VecVirtual, k uint64) {
	if a.avx512 {
		VPROLQ(Imm(k), x, x)
		return
	}
	t := a.vec()
	VPSRLQ(Imm(64-k), x, t)
	VPSLLQ(Imm(k), x, x)
	VPOR(t, x, x)
}

// genUniformLanes generates uniformLanesISA(state *[32]uint64, dst []float32):
// eight xoshiro256** generators side by side (state holds word j of lane l at
// index 8j+l). Each step advances all eight lanes and writes 16 uniforms,
// dst[16k+2l] = (low 32 bits of r_l)>>8 · 2⁻²⁴ and dst[16k+2l+1] = r_l>>40 · 2⁻²⁴;
// len(dst) must be a multiple of 16. See uniformLanesGeneric.
func genUniformLanes(a isa) {
	TEXT("uniformLanes"+a.name, NOSPLIT, "func(state *[32]uint64, dst []float32)")
	Pragma("noescape")
	Doc("uniformLanes"+a.name+" writes len(dst)/16 steps of eight xoshiro256** lanes",
		"to dst as 24-bit uniforms and advances state; len(dst) must be a multiple of 16.")
	st := Mem{Base: Load(Param("state"), GP64())}
	dst := Mem{Base: Load(Param("dst").Base(), GP64())}
	n := Load(Param("dst").Len(), GP64())
	nv := 16 / a.w // registers per state word
	var w [4][]VecVirtual
	for j := range w {
		for v := 0; v < nv; v++ {
			r := a.vec()
			VMOVUPS(st.Offset(64*j+4*a.w*v), r)
			w[j] = append(w[j], r)
		}
	}
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	for v := 0; v < nv; v++ {
		s0, s1, s2, s3 := w[0][v], w[1][v], w[2][v], w[3][v]
		t, u := a.vec(), a.vec()
		VPSLLQ(Imm(2), s1, t)
		VPADDQ(s1, t, t) // 5·s1
		rotl(a, t, 7)
		VPSLLQ(Imm(3), t, u)
		VPADDQ(t, u, t) // ·9
		VPSRLD(Imm(8), t, t)
		VCVTDQ2PS(t, t)
		VMULPS(cTwoM24, t, t)
		VMOVUPS(t, dst.Offset(4*a.w*v))
		VPSLLQ(Imm(17), s1, u)
		a.xor(s0, s2, s2)
		a.xor(s1, s3, s3)
		a.xor(s2, s1, s1)
		a.xor(s3, s0, s0)
		a.xor(u, s2, s2)
		rotl(a, s3, 45)
	}
	ADDQ(U32(64), dst.Base)
	SUBQ(U32(16), n)
	JMP(LabelRef("loop"))
	Label("done")
	for j := range w {
		for v := 0; v < nv; v++ {
			VMOVUPS(w[j][v], st.Offset(64*j+4*a.w*v))
		}
	}
	VZEROUPPER()
	RET()
}

// genSpMMRow generates spmmRowISA(dst, b []float32, stride int, idx []int32, val
// []float32, alpha, beta float32, accum int): one row of a sparse-times-dense
// product,
//
//	dst[j] = alpha·Σ_k val[k]·b[idx[k]·stride + j]  (+ beta·dst[j] when accum != 0)
//
// for j in [0, len(dst)). Columns go in blocks of vectors held in registers while
// k runs over the nonzeros in order: AVX-512 takes blocks of 8 vectors (128
// columns), then one block of ⌈r/16⌉ vectors for the r < 128 columns left, its
// last vector under a lane mask, so any len(dst) works (masked-off lanes are
// neither loaded nor stored); AVX2 takes blocks of 4, 2, then 1 vectors and needs
// len(dst) a multiple of 8. Two sets of accumulators take the even and the odd
// k (a lone last nonzero goes to the even set) and are added at the end, which
// hides the latency of the fused multiply-add chains; every element is the same
// sequence of operations whatever block it falls in. The caller guarantees that
// every idx[k]·stride + len(dst) is within b.
func genSpMMRow(a isa) {
	TEXT("spmmRow"+a.name, NOSPLIT, "func(dst []float32, b []float32, stride int, idx []int32, val []float32, alpha float32, beta float32, accum int)")
	Pragma("noescape")
	Doc("spmmRow"+a.name+" sets dst[j] = alpha·Σ_k val[k]·b[idx[k]·stride+j] (+ beta·dst[j]",
		"when accum != 0); every row idx[k] of b must hold len(dst) elements from its",
		"start, and for AVX2 len(dst) must be a multiple of 8.")
	dst := Load(Param("dst").Base(), GP64())
	n := GP64()
	Load(Param("dst").Len(), n)
	bp := Load(Param("b").Base(), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(Imm(2), stride)
	idx := Load(Param("idx").Base(), GP64())
	nnz := Load(Param("idx").Len(), GP64())
	val := Load(Param("val").Base(), GP64())
	vb := 4 * a.w // bytes per vector
	// block emits one column block of nv vectors starting at dst, b: with loop, it
	// repeats while n ≥ nv vectors, then falls through; with maskLast (AVX-512),
	// it runs once for the last n ≤ nv·16 columns, its last vector under a lane
	// mask, and jumps to done.
	zero := a.vec()
	a.xor(zero, zero, zero)
	var mask Op
	if a.avx512 {
		mask = K() // one register for every masked block
	}
	block := func(name string, nv int, loop, maskLast bool) {
		lbl := func(s string) string { return s + name }
		Label(lbl("blk"))
		if maskLast {
			m := GP32()
			SUBQ(U32(16*(nv-1)), n) // lanes in the last vector, 1..16 (n is dead after)
			MOVL(U32(0xffff), m)
			BZHIL(n.As32(), m, m)
			KMOVW(m, mask)
		} else {
			CMPQ(n, U32(nv*a.w))
			JB(LabelRef(lbl("next")))
		}
		masked := func(v int) bool { return maskLast && v == nv-1 }
		fma := func(src Op, x, acc VecVirtual, v int) {
			if masked(v) {
				VFMADD231PS(src, x, mask, acc)
			} else {
				VFMADD231PS(src, x, acc)
			}
		}
		acc, acc2 := make([]VecVirtual, nv), make([]VecVirtual, nv)
		for v := range acc {
			// Copies of one zero register: avo takes xor-with-itself for a read,
			// which would keep every block's accumulators live from the start.
			acc[v], acc2[v] = a.vec(), a.vec()
			VMOVAPS(zero, acc[v])
			VMOVAPS(zero, acc2[v])
		}
		k := GP64()
		XORQ(k, k)
		step := func(off int, set []VecVirtual) {
			row := GP64()
			MOVLQSX(Mem{Base: idx, Index: k, Scale: 4, Disp: 4 * off}, row)
			IMULQ(stride, row)
			ADDQ(bp, row)
			x := a.vec()
			VBROADCASTSS(Mem{Base: val, Index: k, Scale: 4, Disp: 4 * off}, x)
			for v := range set {
				fma(Mem{Base: row, Disp: vb * v}, x, set[v], v)
			}
		}
		Label(lbl("pair"))
		k1 := GP64()
		LEAQ(Mem{Base: k, Disp: 1}, k1)
		CMPQ(k1, nnz)
		JAE(LabelRef(lbl("odd")))
		step(0, acc)
		step(1, acc2)
		ADDQ(Imm(2), k)
		JMP(LabelRef(lbl("pair")))
		Label(lbl("odd"))
		CMPQ(k, nnz)
		JAE(LabelRef(lbl("store")))
		step(0, acc)
		Label(lbl("store"))
		alpha := a.vec()
		VBROADCASTSS(paramAddr("alpha"), alpha)
		for v := range acc {
			VADDPS(acc2[v], acc[v], acc[v])
			VMULPS(alpha, acc[v], acc[v])
		}
		accum := Load(Param("accum"), GP64())
		TESTQ(accum, accum)
		JZ(LabelRef(lbl("put")))
		beta := a.vec()
		VBROADCASTSS(paramAddr("beta"), beta)
		for v := range acc {
			fma(Mem{Base: dst, Disp: vb * v}, beta, acc[v], v)
		}
		Label(lbl("put"))
		for v := range acc {
			if masked(v) {
				VMOVUPS(acc[v], mask, Mem{Base: dst, Disp: vb * v})
			} else {
				VMOVUPS(acc[v], Mem{Base: dst, Disp: vb * v})
			}
		}
		if !loop {
			JMP(LabelRef("done"))
			return
		}
		ADDQ(U32(nv*vb), dst)
		ADDQ(U32(nv*vb), bp)
		SUBQ(U32(nv*a.w), n)
		JMP(LabelRef(lbl("blk")))
		Label(lbl("next"))
	}
	if a.avx512 {
		block("8", 8, true, false)
		// Dispatch the last n < 128 columns to the block of ⌈n/16⌉ vectors.
		CMPQ(n, Imm(0))
		JLE(LabelRef("done"))
		for nv := 1; nv < 8; nv++ {
			CMPQ(n, U32(16*nv))
			JBE(LabelRef(fmt.Sprintf("blkr%d", nv)))
		}
		JMP(LabelRef("blkr8"))
		for nv := 8; nv >= 1; nv-- {
			block(fmt.Sprintf("r%d", nv), nv, false, true)
		}
	} else {
		for _, nv := range []int{4, 2, 1} {
			block(fmt.Sprint(nv), nv, true, false)
		}
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// genCompress generates compressAVX512(idx []int32, val []float32, x []float32)
// int: the nonzero elements of x (x != 0, NaN included) and their positions, in
// order, written to val and idx; it returns their number. idx and val must hold
// that many elements (len(x) is always enough); nothing beyond is written. Each
// step compares 16 elements with zero under a lane mask and packs them with
// VCOMPRESSPS/VPCOMPRESSD into registers, stored under a mask of the count.
func genCompress() {
	iotaC := GLOBL("elemc_iota", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(i)))
	}
	sixteen := vconst("sixteen", 16)
	TEXT("compressAVX512", NOSPLIT, "func(idx []int32, val []float32, x []float32) int")
	Pragma("noescape")
	Doc("compressAVX512 writes the nonzero elements of x and their positions, in order,",
		"to val and idx and returns their number; idx and val must hold that many.")
	ip := Load(Param("idx").Base(), GP64())
	vp := Load(Param("val").Base(), GP64())
	xp := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	cnt := GP64()
	XORQ(cnt, cnt)
	ix, step, zero := ZMM(), ZMM(), ZMM()
	VMOVUPS(iotaC, ix)
	VMOVUPS(sixteen, step)
	VPXORD(zero, zero, zero)
	Label("loop")
	CMPQ(n, Imm(0))
	JLE(LabelRef("done"))
	t := GP64()
	MOVQ(U32(16), t)
	CMPQ(n, Imm(16))
	CMOVQCS(n, t) // t = min(n, 16)
	m := GP32()
	MOVL(U32(0xffff), m)
	BZHIL(t.As32(), m, m)
	kt := K()
	KMOVW(m, kt)
	z := ZMM()
	VMOVUPS_Z(Mem{Base: xp}, kt, z)
	k := K()
	VCMPPS(Imm(4), zero, z, k) // NEQ_UQ: nonzero or NaN; masked-off lanes read as 0
	c, d := ZMM(), ZMM()
	VCOMPRESSPS_Z(z, k, c)
	VPCOMPRESSD_Z(ix, k, d)
	r := GP64()
	KMOVW(k, r.As32())
	POPCNTQ(r, r)
	mm := GP32()
	MOVL(U32(0xffff), mm)
	BZHIL(r.As32(), mm, mm)
	k2 := K()
	KMOVW(mm, k2)
	VMOVUPS(c, k2, Mem{Base: vp, Index: cnt, Scale: 4})
	VMOVDQU32(d, k2, Mem{Base: ip, Index: cnt, Scale: 4})
	ADDQ(r, cnt)
	VPADDD(step, ix, ix)
	ADDQ(U32(64), xp)
	SUBQ(U32(16), n)
	JMP(LabelRef("loop"))
	Label("done")
	Store(cnt, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// paramAddr returns the stack address of a scalar parameter, to broadcast from
// (loading it into an XMM register first could pick one of X16-X31, which the
// legacy-SSE MOVSS cannot encode).
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

func main() {
	ConstraintExpr("!purego")
	constants()
	for _, a := range isas {
		for _, k := range kernels {
			gen(k, a)
		}
		genMax(a)
		genExpSum(a)
		genUniformLanes(a)
		genSpMMRow(a)
		genAdam(a)
		genLeakyGrad(a)
	}
	genCompress()
	Generate()
}

// genAdam emits the element-wise Adam update of tensor.AdamUpdate, for len(g) a
// multiple of the vector width:
//
//	m ← b1·m + c1·g,  v ← b2·v + (c2·g)·g,  w ← w − (step·m) / (√v·isq + eps)
//
// Every operation is a separate, correctly rounded IEEE one (no fused multiply-add)
// in the order of adamGeneric, so the result is bit for bit the scalar one.
func genAdam(a isa) {
	TEXT("adam"+a.name, NOSPLIT, "func(m, v, w, g []float32, b1, c1, b2, c2, step, isq, eps float32)")
	Pragma("noescape")
	Doc("adam" + a.name + " applies the Adam update of adamGeneric to len(g) elements, a multiple of the vector width.")
	pm := Load(Param("m").Base(), GP64())
	pv := Load(Param("v").Base(), GP64())
	pw := Load(Param("w").Base(), GP64())
	pg := Load(Param("g").Base(), GP64())
	n := Load(Param("g").Len(), GP64())
	bc := func(name string) VecVirtual {
		r := a.vec()
		VBROADCASTSS(paramAddr(name), r)
		return r
	}
	b1, c1, b2, c2, step, isq, eps := bc("b1"), bc("c1"), bc("b2"), bc("c2"), bc("step"), bc("isq"), bc("eps")
	Label("adam_loop")
	TESTQ(n, n)
	JZ(LabelRef("adam_done"))
	g, m, v, t, w := a.vec(), a.vec(), a.vec(), a.vec(), a.vec()
	VMOVUPS(Mem{Base: pg}, g)
	VMULPS(Mem{Base: pm}, b1, m)
	VMULPS(g, c1, t)
	VADDPS(t, m, m) // m = b1·m + c1·g
	VMOVUPS(m, Mem{Base: pm})
	VMULPS(g, c2, t)
	VMULPS(g, t, t)
	VMULPS(Mem{Base: pv}, b2, v)
	VADDPS(t, v, v) // v = b2·v + c2·g²
	VMOVUPS(v, Mem{Base: pv})
	VSQRTPS(v, t)
	VMULPS(isq, t, t)
	VADDPS(eps, t, t) // √v·isq + eps
	VMULPS(m, step, m)
	VDIVPS(t, m, m) // step·m / (…)
	VMOVUPS(Mem{Base: pw}, w)
	VSUBPS(m, w, w)
	VMOVUPS(w, Mem{Base: pw})
	for _, b := range []Register{pm, pv, pw, pg} {
		ADDQ(U32(4*a.w), b)
	}
	SUBQ(U32(a.w), n)
	JMP(LabelRef("adam_loop"))
	Label("adam_done")
	VZEROUPPER()
	RET()
}

// genLeakyGrad emits leakyGradISA(dst, x, dy []float32, slope float32): dst = dy
// where x > 0, else slope·dy (one rounding, as leakyGradGeneric), for len(x) a
// multiple of the vector width. dst may alias dy.
func genLeakyGrad(a isa) {
	TEXT("leakyGrad"+a.name, NOSPLIT, "func(dst, x, dy []float32, slope float32)")
	Pragma("noescape")
	Doc("leakyGrad"+a.name+" sets dst = dy where x > 0, else slope·dy, element-wise, for len(x) a",
		"multiple of the vector width; dst and dy must be at least as long.")
	pd := Load(Param("dst").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	pdy := Load(Param("dy").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	slope := a.vec()
	VBROADCASTSS(paramAddr("slope"), slope)
	zero := a.vec()
	a.xor(zero, zero, zero)
	Label("leaky_loop")
	TESTQ(n, n)
	JZ(LabelRef("leaky_done"))
	x, t := a.vec(), a.vec()
	VMOVUPS(Mem{Base: px}, x)
	pos := a.cmp(cmpLT, x, zero) // 0 < x; false for NaN
	VMULPS(Mem{Base: pdy}, slope, t)
	a.blend(pos, Mem{Base: pdy}, t, t)
	VMOVUPS(t, Mem{Base: pd})
	for _, b := range []Register{pd, px, pdy} {
		ADDQ(U32(4*a.w), b)
	}
	SUBQ(U32(a.w), n)
	JMP(LabelRef("leaky_loop"))
	Label("leaky_done")
	VZEROUPPER()
	RET()
}
