// Command elemgen generates tensor/elem_amd64.s, the AVX-512 and AVX2+FMA kernels
// behind tensor's element-wise functions (Exp, Sigmoid, Softplus, LogSigmoid, ReLU
// and the fused sigmoid-Bernoulli step). It lives in its own module so that the
// library does not depend on avo. Regenerate with
//
//	cd tensor/internal/elemgen && go run . -out ../../elem_amd64.s -stubs ../../elem_stub_amd64.go -pkg tensor
//
// Every kernel processes len(x) elements, which must be a multiple of the vector
// width (16 for AVX-512, 8 for AVX2); the Go wrappers handle the tails. The
// algorithms are the ones of tensor/elem_generic.go, instruction for instruction
// except that the assembly fuses multiply-adds: see that file for the derivations.
package main

import (
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

// Constants: 64-byte vectors of one repeated 32-bit value, used as memory operands
// (an AVX2 kernel reads the first 32 bytes).
var (
	cOne, cSign, cAbs, cLog2e, cMagic, cLn2Hi, cLn2Lo, cBias, cMantMask, cSqrtHalf Mem
	cMinusHalf, cLogC2, cLogC1                                                     Mem
	cExpP                                                                          [6]Mem
	cLogP                                                                          [9]Mem
	cClampHi, cClampLo                                                             Mem
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
	VMINPS(v, hi, v)
	VMAXPS(v, r.lo, v)
	t := a.vec()
	VMULPS(cLog2e, v, t)
	VADDPS(cMagic, t, t) // low mantissa bits of t now hold round(v·log2e)
	nf := a.vec()
	VSUBPS(cMagic, t, nf) // nf = round(v·log2e) as a float
	VFNMADD231PS(cLn2Hi, nf, v)
	VFNMADD231PS(cLn2Lo, nf, v) // v = r = x − n·ln2, |r| ≲ ln2/2
	p := a.vec()
	VMOVUPS(cExpP[0], p)
	for _, c := range cExpP[1:] {
		VFMADD213PS(c, v, p)
	}
	r2 := a.vec()
	VMULPS(v, v, r2)      // r²
	VFMADD213PS(v, r2, p) // p·r² + r
	VADDPS(cOne, p, p)
	if a.avx512 {
		// p·2ⁿ with overflow to +Inf and gradual underflow in one instruction.
		VSCALEFPS(nf, p, v)
		return
	}
	// 2ⁿ as 2^(n>>1)·2^(n−n>>1) so n in [−150, 128] neither wraps the exponent
	// field nor loses gradual underflow.
	VPSUBD(cMagic, t, t) // t = n as an int32
	n1 := a.vec()
	VPSRAD(Imm(1), t, n1)
	VPSUBD(n1, t, t)
	VPADDD(cBias, n1, n1)
	VPSLLD(Imm(23), n1, n1)
	VPADDD(cBias, t, t)
	VPSLLD(Imm(23), t, t)
	VMULPS(n1, p, p)
	VMULPS(t, p, v)
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
	e := a.vec()
	a.or(cSign, v, e) // −|x|
	expInPlace(a, r, e, r.hi)
	d := a.vec()
	VADDPS(r.one, e, d)
	if !a.avx512 {
		f := a.vec()
		VBLENDVPS(v, e, r.one, f) // x < 0 ? e : 1 (by the sign bit of x)
		VDIVPS(d, f, v)
		return
	}
	k := K()
	VPTESTMD(cSign, v, k) // k = sign bit of x
	VRCP14PS(d, v)
	t := a.vec()
	VMOVAPS(r.one, t)
	VFNMADD231PS(v, d, t) // t = 1 − d·y
	VFMADD231PS(t, v, v)  // y = y + y·t
	VMULPS(e, v, k, v)    // y = e·y where x < 0
}

// log1pExpNegAbs returns log1p(exp(−|x|)) in a new register (see softplusGeneric).
func log1pExpNegAbs(a isa, r regs, x VecVirtual) VecVirtual {
	e := a.vec()
	a.and(cAbs, x, e)
	a.xor(cSign, e, e)
	expInPlace(a, r, e, r.hi) // e = exp(−|x|) in [0, 1]
	u := a.vec()
	VADDPS(r.one, e, u) // u = 1 + e in [1, 2]
	// log(u) = k·ln2 + log(m), m in [√½, √2).
	ix := a.vec()
	VPSUBD(cSqrtHalf, u, ix)
	k := a.vec()
	VPSRAD(Imm(23), ix, k)
	a.and(cMantMask, ix, ix)
	VPADDD(cSqrtHalf, ix, ix)
	VSUBPS(r.one, ix, ix) // f = m − 1
	VCVTDQ2PS(k, k)
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
	{"relu", []string{"dst", "x"}, "dst = max(x, 0)", func(a isa, r regs, p map[string]Mem) {
		v := a.vec()
		VMOVUPS(p["x"], v)
		VMAXPS(v, r.zero, v)
		VMOVUPS(v, p["dst"])
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
		"The length processed, len(x) (len(u) for bernoulli), must be a multiple of",
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
	n := Load(Param(in).Len(), GP64())
	r := loadRegs(a)
	// Two vectors per iteration, then one.
	Label("loop2")
	CMPQ(n, U32(2*a.w))
	JB(LabelRef("loop1"))
	k.body(a, r, mems)
	second := map[string]Mem{}
	for name, m := range mems {
		second[name] = m.Offset(4 * a.w)
	}
	k.body(a, r, second)
	for _, b := range bases {
		ADDQ(U32(8*a.w), b)
	}
	SUBQ(U32(2*a.w), n)
	JMP(LabelRef("loop2"))
	Label("loop1")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	k.body(a, r, mems)
	for _, b := range bases {
		ADDQ(U32(4*a.w), b)
	}
	SUBQ(U32(a.w), n)
	JMP(LabelRef("loop1"))
	Label("done")
	VZEROUPPER()
	RET()
}

func main() {
	ConstraintExpr("!purego")
	constants()
	for _, a := range isas {
		for _, k := range kernels {
			gen(k, a)
		}
	}
	Generate()
}
