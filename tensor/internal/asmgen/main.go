// Command asmgen generates the GEMM micro-kernels of package
// github.com/latent-ml/latent/tensor/internal/kernel with avo.
//
// It lives in its own module so that the library does not depend on avo. Run it
// through go generate in tensor/internal/kernel:
//
//	cd tensor/internal/kernel && go generate
//
// Each kernel computes one mr×NR tile of C from packed panels:
//
//	acc[r][j] = Σ_p a[p*MR+r] · b[p*NR+j]      (p = 0 … k-1, in order, one FMA per step)
//	C[r][j]   = alpha·acc[r][j] + beta·C[r][j]  if loadc != 0
//	C[r][j]   = alpha·acc[r][j]                 if loadc == 0 (C is not read)
//
// for r < mr and the columns j selected by the mask. a is a packed MR×k panel (column
// p holds MR consecutive values, rows ≥ mr are ignored), b a packed k×NR panel.
// Every element of C is the same sequence of FMAs whatever mr and the mask are, so a
// tile's values never depend on how the output was split between workers.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one instruction set and element type.
type isa struct {
	prefix string // function name prefix
	f64    bool
	avx512 bool
	mr     int // full tile rows (packed A panel height)
	// direct kernels read A where it is stored, row r at a + r·lda (lda in
	// elements), instead of from a packed panel (AVX2 and AVX-512, float32).
	direct bool
	// strided kernels read both operands where they are stored, step p's
	// column of A at a + p·lda (A transposed in storage: the mr values of a
	// row of Aᵀ) and step p's row of B at b + p·ldb (AVX2 and AVX-512, float32).
	strided bool
}

// arow returns the address of element p·es bytes into row r of A: packed, the
// panel's column p; direct, row r of the stored matrix, through a (rows 0-2) or
// a3 = a + 3·lda (rows 3-5) indexed by lda in bytes; the AVX-512 direct
// kernels' rows 6-13 through a (row 8 = a + 8·lda), a5 = a + 5·lda (rows 6, 7,
// 9, 13: 1, 2, 4 and 8 rows on) and a10 = a + 10·lda (rows 10-12).
func (s isa) arow(a, a3, lda GPPhysical, r, disp int) Mem {
	if !s.direct {
		return Mem{Base: a, Disp: disp*s.mr + r*s.elem()}
	}
	base, off := a, r
	switch {
	case r < 3:
	case r < 6:
		base, off = a3, r-3
	case r == 8:
		base, off = a, 8
	case r == 6 || r == 7 || r == 9 || r == 13:
		base, off = directA5, r-5
	default: // 10, 11, 12
		base, off = directA10, r-10
	}
	if off == 0 {
		return Mem{Base: base, Disp: disp}
	}
	return Mem{Base: base, Index: lda, Scale: uint8(off), Disp: disp}
}

// directA5 and directA10 hold a + 5·lda and a + 10·lda in the AVX-512 direct
// kernels (rows 6-13 of A).
var directA5, directA10 GPPhysical = R13, R14

func (s isa) elem() int {
	if s.f64 {
		return 8
	}
	return 4
}

// vec is the vector width in bytes.
func (s isa) vec() int {
	if s.avx512 {
		return 64
	}
	return 32
}

// nr is the tile width in elements: two vectors per row.
func (s isa) nr() int { return 2 * s.vec() / s.elem() }

func (s isa) typ() string {
	if s.f64 {
		return "float64"
	}
	return "float32"
}

func (s isa) vreg(i int) VecPhysical {
	if s.avx512 {
		return [...]VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
	}
	return [...]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

func (s isa) bcast(m Mem, r VecPhysical) {
	if s.f64 {
		VBROADCASTSD(m, r)
	} else {
		VBROADCASTSS(m, r)
	}
}

func (s isa) fma(x, y, acc Op) {
	if s.f64 {
		VFMADD231PD(x, y, acc)
	} else {
		VFMADD231PS(x, y, acc)
	}
}

func (s isa) mul(x, y, dst Op) {
	if s.f64 {
		VMULPD(x, y, dst)
	} else {
		VMULPS(x, y, dst)
	}
}

func (s isa) mov(ops ...Op) {
	if s.f64 {
		VMOVUPD(ops...)
	} else {
		VMOVUPS(ops...)
	}
}

func (s isa) movz(m, k, r Op) {
	if s.f64 {
		VMOVUPD_Z(m, k, r)
	} else {
		VMOVUPS_Z(m, k, r)
	}
}

func (s isa) maskmov(x, mask, y Op) {
	if s.f64 {
		VMASKMOVPD(x, mask, y)
	} else {
		VMASKMOVPS(x, mask, y)
	}
}

func (s isa) zero(r VecPhysical) {
	if s.avx512 {
		VPXORD(r, r, r)
	} else {
		VXORPS(r, r, r)
	}
}

func (s isa) gen(mr int) {
	name := fmt.Sprintf("%s%d", s.prefix, mr)
	t := s.typ()
	var sig string
	if s.direct && s.avx512 {
		sig = fmt.Sprintf("func(k int, a, b, c *%s, lda, ldc int, alpha, beta %s, mask uint32, loadc int)", t, t)
	} else if s.direct {
		sig = fmt.Sprintf("func(k int, a, b, c *%s, lda, ldc int, alpha, beta %s, mask *int32, loadc int)", t, t)
	} else if s.strided && s.avx512 {
		sig = fmt.Sprintf("func(k int, a, b, c *%s, lda, ldb, ldc int, alpha, beta %s, mask uint32, loadc int)", t, t)
	} else if s.strided {
		sig = fmt.Sprintf("func(k int, a, b, c *%s, lda, ldb, ldc int, alpha, beta %s, mask *int32, loadc int)", t, t)
	} else if s.avx512 {
		sig = fmt.Sprintf("func(k int, a, b, c *%s, ldc int, alpha, beta %s, mask uint32, loadc int)", t, t)
	} else {
		sig = fmt.Sprintf("func(k int, a, b, c *%s, ldc int, alpha, beta %s, mask *%s, loadc int)", t, t, map[bool]string{false: "int32", true: "int64"}[s.f64])
	}
	TEXT(name, NOSPLIT, sig)
	if s.direct {
		Doc(fmt.Sprintf("%s computes a %d×%d tile of C = alpha·A·B + beta·C from A as stored (row r at a + r·lda) and a packed B panel (%s).",
			name, mr, s.nr(), map[bool]string{false: "AVX2+FMA", true: "AVX-512"}[s.avx512]))
	} else if s.strided {
		Doc(fmt.Sprintf("%s computes a %d×%d tile of C = alpha·A·B + beta·C from both operands as stored: step p's %d values of A at a + p·lda, its row of B at b + p·ldb (%s).",
			name, mr, s.nr(), mr, map[bool]string{false: "AVX2+FMA", true: "AVX-512"}[s.avx512]))
	} else {
		Doc(fmt.Sprintf("%s computes a %d×%d tile of C = alpha·A·B + beta·C from packed panels (%s).",
			name, mr, s.nr(), map[bool]string{false: "AVX2+FMA", true: "AVX-512"}[s.avx512]))
	}
	es, vb := s.elem(), s.vec()
	k, a, b, c, ldc := RCX, RSI, RDI, RDX, RBX
	Load(Param("k"), k)
	Load(Param("a"), a)
	Load(Param("b"), b)
	Load(Param("c"), c)
	Load(Param("ldc"), ldc)
	if s.f64 {
		SHLQ(U8(3), ldc)
	} else {
		SHLQ(U8(2), ldc)
	}
	lda, a3 := R11, R12
	if s.direct {
		Load(Param("lda"), lda)
		SHLQ(U8(2), lda)
		LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a3)
		ADDQ(lda, a3)
		if mr > 6 {
			LEAQ(Mem{Base: a3, Index: lda, Scale: 2}, directA5)
			LEAQ(Mem{Base: directA5, Index: lda, Scale: 4}, directA10)
			ADDQ(lda, directA10)
		}
	}
	ldb := R12
	if s.strided {
		Load(Param("lda"), lda)
		SHLQ(U8(2), lda)
		Load(Param("ldb"), ldb)
		SHLQ(U8(2), ldb)
	}
	// aAt and bAt address step u (0 or 1) of the unrolled loop: A's value of
	// row r and B's vector half h.
	aAt := func(u, r int) Mem {
		if s.strided {
			if u == 0 {
				return Mem{Base: a, Disp: r * es}
			}
			return Mem{Base: a, Index: lda, Scale: 1, Disp: r * es}
		}
		return s.arow(a, a3, lda, r, u*es)
	}
	nacc := 2 * mr
	var bv0, bv1, av0, av1 VecPhysical
	if s.avx512 {
		bv0, bv1, av0, av1 = Z28, Z29, Z30, Z31
	} else {
		bv0, bv1, av0, av1 = Y12, Y13, Y14, Y15
	}
	acc := func(r, j int) VecPhysical { return s.vreg(2*r + j) }
	for i := 0; i < nacc; i++ {
		s.zero(s.vreg(i))
	}
	// Prefetch the C tile: it is read (or written) once the k loop is done.
	MOVQ(c, R8)
	for r := 0; r < mr; r++ {
		PREFETCHT0(Mem{Base: R8})
		PREFETCHT0(Mem{Base: R8, Disp: 2*vb - 1})
		if r+1 < mr {
			ADDQ(ldc, R8)
		}
	}
	astep, bstep := s.mr*es, 2*vb
	if s.direct {
		astep = es
	}
	bAt := func(u, h int) Mem {
		if s.strided {
			if u == 0 {
				return Mem{Base: b, Disp: h * vb}
			}
			return Mem{Base: b, Index: ldb, Scale: 1, Disp: h * vb}
		}
		return Mem{Base: b, Disp: u*bstep + h*vb}
	}
	// Main loop, unrolled twice.
	MOVQ(k, R9)
	SHRQ(U8(1), R9)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < 2; u++ {
		s.mov(bAt(u, 0), bv0)
		s.mov(bAt(u, 1), bv1)
		for r := 0; r < mr; r++ {
			av := av0
			if r%2 == 1 {
				av = av1
			}
			s.bcast(aAt(u, r), av)
			s.fma(bv0, av, acc(r, 0))
			s.fma(bv1, av, acc(r, 1))
		}
	}
	if s.strided {
		LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a)
		LEAQ(Mem{Base: b, Index: ldb, Scale: 2}, b)
	} else {
		ADDQ(U32(2*astep), a)
		if s.direct {
			ADDQ(U32(2*astep), a3)
			if mr > 6 {
				ADDQ(U32(2*astep), directA5)
				ADDQ(U32(2*astep), directA10)
			}
		}
		ADDQ(U32(2*bstep), b)
	}
	DECQ(R9)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(U32(1), k)
	JZ(LabelRef(name + "_epi"))
	s.mov(bAt(0, 0), bv0)
	s.mov(bAt(0, 1), bv1)
	for r := 0; r < mr; r++ {
		av := av0
		if r%2 == 1 {
			av = av1
		}
		s.bcast(aAt(0, r), av)
		s.fma(bv0, av, acc(r, 0))
		s.fma(bv1, av, acc(r, 1))
	}

	Label(name + "_epi")
	// acc *= alpha
	alpha := bv0
	s.bcast(addr("alpha"), alpha)
	for i := 0; i < nacc; i++ {
		s.mul(alpha, s.vreg(i), s.vreg(i))
	}
	beta := bv1
	ret := func() {
		VZEROUPPER()
		RET()
	}
	rows := func(body func(r int)) {
		for r := 0; r < mr; r++ {
			body(r)
			if r+1 < mr {
				ADDQ(ldc, c)
			}
		}
	}
	lo := Mem{Base: c}
	hi := Mem{Base: c, Disp: vb}
	if s.avx512 {
		Load(Param("mask"), EAX)
		KMOVW(EAX, K1)
		SHRL(U8(vb/es), EAX)
		KMOVW(EAX, K2)
		Load(Param("loadc"), RAX)
		TESTQ(RAX, RAX)
		JZ(LabelRef(name + "_store"))
		s.bcast(addr("beta"), beta)
		rows(func(r int) {
			s.movz(lo, K1, av0)
			s.movz(hi, K2, av1)
			s.fma(beta, av0, acc(r, 0))
			s.fma(beta, av1, acc(r, 1))
			s.mov(acc(r, 0), K1, lo)
			s.mov(acc(r, 1), K2, hi)
		})
		ret()
		Label(name + "_store")
		rows(func(r int) {
			s.mov(acc(r, 0), K1, lo)
			s.mov(acc(r, 1), K2, hi)
		})
		ret()
		return
	}
	Load(Param("mask"), RAX)
	Load(Param("loadc"), R10)
	TESTQ(RAX, RAX)
	JNZ(LabelRef(name + "_masked"))
	TESTQ(R10, R10)
	JZ(LabelRef(name + "_store"))
	s.bcast(addr("beta"), beta)
	rows(func(r int) {
		s.fma(lo, beta, acc(r, 0))
		s.fma(hi, beta, acc(r, 1))
		s.mov(acc(r, 0), lo)
		s.mov(acc(r, 1), hi)
	})
	ret()
	Label(name + "_store")
	rows(func(r int) {
		s.mov(acc(r, 0), lo)
		s.mov(acc(r, 1), hi)
	})
	ret()
	// Partial tile: columns chosen by two vector masks read from *mask.
	Label(name + "_masked")
	m0, m1 := bv0, av0
	s.mov(Mem{Base: RAX}, m0)
	s.mov(Mem{Base: RAX, Disp: vb}, m1)
	TESTQ(R10, R10)
	JZ(LabelRef(name + "_mstore"))
	s.bcast(addr("beta"), beta)
	tmp := av1
	rows(func(r int) {
		s.maskmov(lo, m0, tmp)
		s.fma(beta, tmp, acc(r, 0))
		s.maskmov(hi, m1, tmp)
		s.fma(beta, tmp, acc(r, 1))
		s.maskmov(acc(r, 0), m0, lo)
		s.maskmov(acc(r, 1), m1, hi)
	})
	ret()
	Label(name + "_mstore")
	rows(func(r int) {
		s.maskmov(acc(r, 0), m0, lo)
		s.maskmov(acc(r, 1), m1, hi)
	})
	ret()
}

// addr returns the stack address of a scalar parameter.
func addr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

func main() {
	ConstraintExpr("!purego")
	isas := []isa{
		{prefix: "Sgemm512x", avx512: true, mr: 14},
		{prefix: "Sgemm256x", mr: 6},
		{prefix: "Dgemm512x", f64: true, avx512: true, mr: 14},
		{prefix: "Dgemm256x", f64: true, mr: 6},
		{prefix: "Sgemm256dx", mr: 6, direct: true},
		{prefix: "Sgemm256sx", mr: 6, strided: true},
		{prefix: "Sgemm512sx", avx512: true, mr: 14, strided: true},
		{prefix: "Sgemm512dx", avx512: true, mr: 14, direct: true},
	}
	for _, s := range isas {
		for mr := 1; mr <= s.mr; mr++ {
			s.gen(mr)
		}
	}
	genPackCopy("PackCopyS512", false)
	genPackCopy("PackCopyD512", true)
	genPackTransS512()
	genPackNarrowS512()
	genPackCopyS256()
	genPackTransS256("PackTrans8S256", 8)
	genPackTransS256("PackTrans6S256", 6)
	genPackRows6S256()
	genFMAPeak("FMAPeak256", false)
	genFMAPeak("FMAPeak512", true)
	Generate()
}

// genPackCopy packs rows of a row-major matrix into a panel two zmm vectors wide:
//
//	dst[r*W+j] = src[r*ld+j] for j < cnt, 0 for cnt ≤ j < W   (r < rows)
//
// with W = 32 float32 or 16 float64 elements; mask has bit j set for j < cnt.
// Elements of src beyond cnt are never read.
func genPackCopy(name string, f64 bool) {
	t, es := "float32", 4
	if f64 {
		t, es = "float64", 8
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst, src *%s, ld, rows int, mask uint32)", t))
	Doc(name + " copies rows of src into a zero-padded panel two AVX-512 vectors wide.")
	dst, src, ld, rows := RDI, RSI, RBX, RCX
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("rows"), rows)
	SHLQ(U8(map[bool]uint8{false: 2, true: 3}[f64]), ld)
	Load(Param("mask"), EAX)
	KMOVW(EAX, K1)
	SHRL(U8(64/es), EAX)
	KMOVW(EAX, K2)
	mov := func(ops ...Op) {
		if f64 {
			VMOVUPD(ops...)
		} else {
			VMOVUPS(ops...)
		}
	}
	movz := func(m, k, r Op) {
		if f64 {
			VMOVUPD_Z(m, k, r)
		} else {
			VMOVUPS_Z(m, k, r)
		}
	}
	TESTQ(rows, rows)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	movz(Mem{Base: src}, K1, Z0)
	movz(Mem{Base: src, Disp: 64}, K2, Z1)
	mov(Z0, Mem{Base: dst})
	mov(Z1, Mem{Base: dst, Disp: 64})
	ADDQ(ld, src)
	ADDQ(U32(128), dst)
	DECQ(rows)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genPackTrans6Fast is PackTrans6S256's path for a whole block, 8 columns of 6
// rows, without masks or cross-lane permutes (each a microcoded 8-µop
// instruction on AMD Zen 1): the rows are loaded whole; rows 0-3 are transposed
// within 128-bit lanes, so that lane 0 of u_c holds column c and lane 1 column
// c+4; rows 4 and 5 are interleaved in pairs and stored 8 bytes at a time. It
// writes the same values as the general path, then rejoins it at _stored.
func genPackTrans6Fast(name string, src, dst, ld, w, row, p, q GPPhysical) {
	Label(name + "_fast")
	MOVQ(src, row)
	for r := 0; r < 6; r++ {
		VMOVUPS(Mem{Base: row, Index: p, Scale: 1}, [...]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}[r])
		if r < 5 {
			ADDQ(ld, row)
		}
	}
	VUNPCKLPS(Y1, Y0, Y8)   // r0 r1 of columns 0,1 | 4,5
	VUNPCKHPS(Y1, Y0, Y9)   // columns 2,3 | 6,7
	VUNPCKLPS(Y3, Y2, Y10)  // r2 r3 of columns 0,1 | 4,5
	VUNPCKHPS(Y3, Y2, Y11)  // columns 2,3 | 6,7
	VUNPCKLPD(Y10, Y8, Y12) // rows 0-3 of column 0 | column 4
	VUNPCKHPD(Y10, Y8, Y13) // column 1 | 5
	VUNPCKLPD(Y11, Y9, Y14) // column 2 | 6
	VUNPCKHPD(Y11, Y9, Y15) // column 3 | 7
	VUNPCKLPS(Y5, Y4, Y6)   // r4 r5 of columns 0, 1 | 4, 5
	VUNPCKHPS(Y5, Y4, Y7)   // columns 2, 3 | 6, 7
	VEXTRACTF128(U8(1), Y6, X0)
	VEXTRACTF128(U8(1), Y7, X1)
	MOVQ(dst, q)
	u := [...]VecPhysical{Y12, Y13, Y14, Y15}
	ux := [...]VecPhysical{X12, X13, X14, X15}
	pairs := [...]VecPhysical{X6, X6, X7, X7, X0, X0, X1, X1}
	for c := 0; c < 8; c++ {
		if c < 4 {
			VMOVUPS(ux[c], Mem{Base: q})
		} else {
			VEXTRACTF128(U8(1), u[c-4], Mem{Base: q})
		}
		if c%2 == 0 {
			VMOVLPS(pairs[c], Mem{Base: q, Disp: 16})
		} else {
			VMOVHPS(pairs[c], Mem{Base: q, Disp: 16})
		}
		if c < 7 {
			ADDQ(w, q)
		}
	}
	JMP(LabelRef(name + "_stored"))
}

// genPackTrans8Fast is PackTrans8S256's path for a whole block, 8 columns of 8
// rows, without masks or cross-lane permutes (VPERM2F128 is a microcoded 8-µop
// instruction on AMD Zen 1): each register gets four columns of row r in its
// low 128-bit lane and the same columns of row r+4 in its high lane (a 16-byte
// load and a VINSERTF128), so that the 4×4 transposes within lanes leave
// column c of all eight rows in one register. It writes the same values as the
// general path, then rejoins it at _stored.
func genPackTrans8Fast(name string, src, dst, ld, w, row, p, q GPPhysical) {
	Label(name + "_fast")
	y := [...]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	x := [...]VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7}
	hi := R12 // row r+4
	MOVQ(src, row)
	MOVQ(ld, hi)
	SHLQ(U8(2), hi)
	ADDQ(src, hi)
	for r := 0; r < 4; r++ {
		VMOVUPS(Mem{Base: row, Index: p, Scale: 1}, x[r])                               // row r, columns 0-3
		VINSERTF128(U8(1), Mem{Base: hi, Index: p, Scale: 1}, y[r], y[r])               // row r+4, columns 0-3
		VMOVUPS(Mem{Base: row, Index: p, Scale: 1, Disp: 16}, x[4+r])                   // row r, columns 4-7
		VINSERTF128(U8(1), Mem{Base: hi, Index: p, Scale: 1, Disp: 16}, y[4+r], y[4+r]) // row r+4, columns 4-7
		if r < 3 {
			ADDQ(ld, row)
			ADDQ(ld, hi)
		}
	}
	for g := 0; g < 2; g++ {
		a0, a1, a2, a3 := y[4*g], y[4*g+1], y[4*g+2], y[4*g+3]
		t0, t1, t2, t3 := y[8+4*g], y[8+4*g+1], y[8+4*g+2], y[8+4*g+3]
		VUNPCKLPS(a1, a0, t0) // r0 r1 of columns 0,1 | r4 r5
		VUNPCKHPS(a1, a0, t1) // columns 2,3
		VUNPCKLPS(a3, a2, t2) // r2 r3 of columns 0,1 | r6 r7
		VUNPCKHPS(a3, a2, t3) // columns 2,3
		VUNPCKLPD(t2, t0, a0) // column 4g+0, rows 0-3 | 4-7
		VUNPCKHPD(t2, t0, a1) // column 4g+1
		VUNPCKLPD(t3, t1, a2) // column 4g+2
		VUNPCKHPD(t3, t1, a3) // column 4g+3
	}
	MOVQ(dst, q)
	for c := 0; c < 8; c++ {
		VMOVUPS(y[c], Mem{Base: q})
		if c < 7 {
			ADDQ(w, q)
		}
	}
	JMP(LabelRef(name + "_stored"))
}

// genPackTransS512 packs up to 16 rows of a row-major float32 matrix transposed:
//
//	dst[p*w+r] = src[r*ld+p]   for r < cnt, p < kc;  0 for cnt ≤ r < 16
//
// storing the lanes selected by lanes (bit r) of each output row. It transposes
// 16×16 blocks in registers (unpack 32-bit, unpack 64-bit, two 128-bit lane
// shuffles), so each element is loaded and stored once as part of a vector.
func genPackTransS512() {
	name := "PackTransS512"
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, cnt, kc, w int, lanes uint32)")
	Doc(name + " packs up to 16 rows of src transposed into a panel w elements wide (AVX-512).")
	dst, src, ld, cnt, kc, w := RDI, RSI, RBX, RCX, RDX, R8
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("cnt"), cnt)
	Load(Param("kc"), kc)
	Load(Param("w"), w)
	SHLQ(U8(2), ld)
	SHLQ(U8(2), w)
	Load(Param("lanes"), EAX)
	KMOVW(EAX, K2)
	row, p, q := R9, R10, R11 // row pointer, p offset in bytes, output row pointer
	zr := func(i int) VecPhysical {
		return [...]VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
	}
	// Block loop over p in steps of 16; the last block may be partial.
	XORQ(p, p)
	Label(name + "_block")
	// rem = min(16, kc - p/4): elements of p in this block; K1 selects them.
	MOVQ(kc, RAX)
	MOVQ(p, R12)
	SHRQ(U8(2), R12)
	SUBQ(R12, RAX) // RAX = kc - p
	JLE(LabelRef(name + "_done"))
	CMPQ(RAX, U8(16))
	JL(LabelRef(name + "_partial"))
	MOVQ(U32(16), RAX)
	Label(name + "_partial")
	MOVQ(RAX, R13) // R13 = rem
	MOVL(U32(1), R12L)
	SHLXL(EAX, R12L, R12L)
	DECL(R12L) // (1<<rem)-1; rem = 16 gives 0xffff in the low 16 bits
	KMOVW(R12L, K1)
	// Load rows r < cnt, zero the others.
	MOVQ(src, row)
	for r := 0; r < 16; r++ {
		VPXORD(zr(r), zr(r), zr(r))
		CMPQ(cnt, U8(r))
		JLE(LabelRef(fmt.Sprintf("%s_skip%d", name, r)))
		VMOVUPS_Z(Mem{Base: row, Index: p, Scale: 1}, K1, zr(r))
		Label(fmt.Sprintf("%s_skip%d", name, r))
		if r < 15 {
			ADDQ(ld, row)
		}
	}
	// Stage 1: t[2i] = unpacklo(r[2i], r[2i+1]), t[2i+1] = unpackhi(...), into Z16..Z31.
	for i := 0; i < 8; i++ {
		VUNPCKLPS(zr(2*i+1), zr(2*i), zr(16+2*i))
		VUNPCKHPS(zr(2*i+1), zr(2*i), zr(16+2*i+1))
	}
	// Stage 2: 64-bit unpacks within groups of four rows, back into Z0..Z15:
	// u[4g+c] holds, in each 128-bit lane l, column 4l+c of rows 4g..4g+3.
	for g := 0; g < 4; g++ {
		t0, t1, t2, t3 := zr(16+4*g), zr(16+4*g+1), zr(16+4*g+2), zr(16+4*g+3)
		VUNPCKLPD(t2, t0, zr(4*g+0))
		VUNPCKHPD(t2, t0, zr(4*g+1))
		VUNPCKLPD(t3, t1, zr(4*g+2))
		VUNPCKHPD(t3, t1, zr(4*g+3))
	}
	// Stage 3: v = shuffle of 128-bit lanes of row groups (0,1) and (2,3), into Z16..Z31.
	// v[c]   = [u[c].l0, u[c].l2, u[4+c].l0, u[4+c].l2]     (0x88)
	// v[4+c] = [u[c].l1, u[c].l3, u[4+c].l1, u[4+c].l3]     (0xdd)
	for c := 0; c < 4; c++ {
		VSHUFF32X4(U8(0x88), zr(4+c), zr(c), zr(16+c))
		VSHUFF32X4(U8(0xdd), zr(4+c), zr(c), zr(16+4+c))
		VSHUFF32X4(U8(0x88), zr(12+c), zr(8+c), zr(16+8+c))
		VSHUFF32X4(U8(0xdd), zr(12+c), zr(8+c), zr(16+12+c))
	}
	// Stage 4: column 4l+c (l = 0..3) of all 16 rows:
	// col c    = shuffle(v[c], v[8+c], 0x88),   col 8+c  = shuffle(v[c], v[8+c], 0xdd),
	// col 4+c  = shuffle(v[4+c], v[12+c], 0x88), col 12+c = shuffle(v[4+c], v[12+c], 0xdd).
	for c := 0; c < 4; c++ {
		VSHUFF32X4(U8(0x88), zr(16+8+c), zr(16+c), zr(c))
		VSHUFF32X4(U8(0xdd), zr(16+8+c), zr(16+c), zr(8+c))
		VSHUFF32X4(U8(0x88), zr(16+12+c), zr(16+4+c), zr(4+c))
		VSHUFF32X4(U8(0xdd), zr(16+12+c), zr(16+4+c), zr(12+c))
	}
	// Store output rows q < rem at dst + (p+q)·w.
	MOVQ(dst, q)
	for c := 0; c < 16; c++ {
		CMPQ(R13, U8(c))
		JLE(LabelRef(name + "_stored"))
		VMOVUPS(zr(c), K2, Mem{Base: q})
		if c < 15 {
			ADDQ(w, q)
		}
	}
	Label(name + "_stored")
	// dst += 16·w, p += 16 elements.
	MOVQ(w, R12)
	SHLQ(U8(4), R12)
	ADDQ(R12, dst)
	ADDQ(U32(64), p)
	JMP(LabelRef(name + "_block"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genPackNarrowS512 copies rows of at most 16 float32 into a panel w ≤ 16 wide:
//
//	dst[r*w+j] = src[r*ld+j] for j < cnt (bits of mask), 0 for cnt ≤ j < w   (r < rows)
//
// It packs the columns of Aᵀ (a transposed A) into the 14-row A panels.
func genPackNarrowS512() {
	name := "PackNarrowS512"
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, rows, w int, mask uint32)")
	Doc(name + " copies rows of up to 16 float32 into a panel w ≤ 16 wide (AVX-512).")
	dst, src, ld, rows, w := RDI, RSI, RBX, RCX, RDX
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("rows"), rows)
	Load(Param("w"), w)
	SHLQ(U8(2), ld)
	Load(Param("mask"), EAX)
	KMOVW(EAX, K1)
	// K2 = (1<<w)-1: the lanes of a panel row.
	MOVL(U32(1), R8L)
	SHLXL(EDX, R8L, R8L)
	DECL(R8L)
	KMOVW(R8L, K2)
	SHLQ(U8(2), w)
	TESTQ(rows, rows)
	JZ(LabelRef(name + "_done"))
	// Two rows per iteration when possible.
	Label(name + "_loop")
	CMPQ(rows, U8(2))
	JL(LabelRef(name + "_one"))
	VMOVUPS_Z(Mem{Base: src}, K1, Z0)
	VMOVUPS_Z(Mem{Base: src, Index: ld, Scale: 1}, K1, Z1)
	VMOVUPS(Z0, K2, Mem{Base: dst})
	VMOVUPS(Z1, K2, Mem{Base: dst, Index: w, Scale: 1})
	LEAQ(Mem{Base: src, Index: ld, Scale: 2}, src)
	LEAQ(Mem{Base: dst, Index: w, Scale: 2}, dst)
	SUBQ(U8(2), rows)
	JNZ(LabelRef(name + "_loop"))
	JMP(LabelRef(name + "_done"))
	Label(name + "_one")
	VMOVUPS_Z(Mem{Base: src}, K1, Z0)
	VMOVUPS(Z0, K2, Mem{Base: dst})
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genPackRows6S256 packs op(A) = Aᵀ for the 6×16 AVX2 kernel when all six rows
// of the panel exist: column p of the panel is the contiguous run of six values
// at src + p·ld,
//
//	dst[p*6+i] = src[p*ld+i]   (i < 6, p < kc),
//
// one 16-byte and one 8-byte move per column, four columns per iteration.
func genPackRows6S256() {
	name := "PackRows6S256"
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc int)")
	Doc(name + " packs kc runs of six floats ld apart into a dense panel (VEX moves).")
	dst, src, ld, kc := RDI, RSI, RBX, RCX
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("kc"), kc)
	SHLQ(U8(2), ld)
	Label(name + "_four")
	CMPQ(kc, U8(4))
	JL(LabelRef(name + "_one"))
	for c := 0; c < 4; c++ {
		VMOVUPS(Mem{Base: src}, [...]VecPhysical{X0, X2, X4, X6}[c])
		VMOVSD(Mem{Base: src, Disp: 16}, [...]VecPhysical{X1, X3, X5, X7}[c])
		ADDQ(ld, src)
	}
	for c := 0; c < 4; c++ {
		VMOVUPS([...]VecPhysical{X0, X2, X4, X6}[c], Mem{Base: dst, Disp: 24 * c})
		VMOVSD([...]VecPhysical{X1, X3, X5, X7}[c], Mem{Base: dst, Disp: 24*c + 16})
	}
	ADDQ(U32(96), dst)
	SUBQ(U8(4), kc)
	JMP(LabelRef(name + "_four"))
	Label(name + "_one")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_done"))
	VMOVUPS(Mem{Base: src}, X0)
	VMOVSD(Mem{Base: src, Disp: 16}, X1)
	VMOVUPS(X0, Mem{Base: dst})
	VMOVSD(X1, Mem{Base: dst, Disp: 16})
	ADDQ(ld, src)
	ADDQ(U8(24), dst)
	DECQ(kc)
	JMP(LabelRef(name + "_one"))
	Label(name + "_done")
	RET()
}

// genPackCopyS256 is genPackCopy for AVX2: rows of 16 float32, columns chosen by a
// 16-lane mask vector (-1 to copy, 0 to zero), read with VMASKMOVPS so that
// masked-off elements are never touched.
func genPackCopyS256() {
	name := "PackCopyS256"
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, rows int, mask *int32)")
	Doc(name + " copies rows of src into a zero-padded panel 16 float32 wide (AVX2).")
	dst, src, ld, rows, mask := RDI, RSI, RBX, RCX, RDX
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("rows"), rows)
	Load(Param("mask"), mask)
	SHLQ(U8(2), ld)
	VMOVUPS(Mem{Base: mask}, Y14)
	VMOVUPS(Mem{Base: mask, Disp: 32}, Y15)
	TESTQ(rows, rows)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	VMASKMOVPS(Mem{Base: src}, Y14, Y0)
	VMASKMOVPS(Mem{Base: src, Disp: 32}, Y15, Y1)
	VMOVUPS(Y0, Mem{Base: dst})
	VMOVUPS(Y1, Mem{Base: dst, Disp: 32})
	ADDQ(ld, src)
	ADDQ(U32(64), dst)
	DECQ(rows)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genPackTransS256 is genPackTransS512 for AVX2, 8×8 blocks:
//
//	dst[p*w+r] = src[r*ld+p]   for r < cnt ≤ 8, p < kc;  0 for cnt ≤ r < lanes
//
// storing lanes (8 or 6) elements per output row. masks points at a table of
// 16-element rows, row n holding n leading -1s (n = 1…8 are used for the tail).
func genPackTransS256(name string, lanes int) {
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, cnt, kc, w int, masks *int32)")
	Doc(fmt.Sprintf("%s packs up to %d rows of src transposed into a panel w elements wide (AVX2).", name, lanes))
	dst, src, ld, cnt, kc, w := RDI, RSI, RBX, RCX, RDX, R8
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("cnt"), cnt)
	Load(Param("kc"), kc)
	Load(Param("w"), w)
	SHLQ(U8(2), ld)
	SHLQ(U8(2), w)
	row, p, q, rem := R9, R10, R11, R13
	y := func(i int) VecPhysical {
		return [...]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
	}
	x := func(i int) VecPhysical {
		return [...]VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15}[i]
	}
	XORQ(p, p)
	Label(name + "_block")
	MOVQ(kc, RAX)
	MOVQ(p, R12)
	SHRQ(U8(2), R12)
	SUBQ(R12, RAX) // kc - p
	JLE(LabelRef(name + "_done"))
	CMPQ(RAX, U8(8))
	JL(LabelRef(name + "_partial"))
	MOVQ(U32(8), RAX)
	if lanes == 6 {
		// A whole block (8 columns of 6 rows) takes the fast path.
		CMPQ(cnt, U8(6))
		JGE(LabelRef(name + "_fast"))
	}
	if lanes == 8 {
		// A whole block (8 columns of 8 rows) takes the fast path.
		CMPQ(cnt, U8(8))
		JGE(LabelRef(name + "_fast"))
	}
	Label(name + "_partial")
	MOVQ(RAX, rem)
	// Tail mask: masks[rem*16 : rem*16+8], into Y15.
	SHLQ(U8(6), RAX)
	Load(Param("masks"), row)
	VMOVUPS(Mem{Base: row, Index: RAX, Scale: 1}, Y15)
	MOVQ(src, row)
	for r := 0; r < 8; r++ {
		VXORPS(y(r), y(r), y(r))
		CMPQ(cnt, U8(r))
		JLE(LabelRef(fmt.Sprintf("%s_skip%d", name, r)))
		VMASKMOVPS(Mem{Base: row, Index: p, Scale: 1}, Y15, y(r))
		Label(fmt.Sprintf("%s_skip%d", name, r))
		if r < 7 {
			ADDQ(ld, row)
		}
	}
	// t[2i], t[2i+1] = unpacklo/hi(r[2i], r[2i+1]) into Y8..Y15.
	for i := 0; i < 4; i++ {
		VUNPCKLPS(y(2*i+1), y(2*i), y(8+2*i))
		VUNPCKHPS(y(2*i+1), y(2*i), y(8+2*i+1))
	}
	// u: in each 128-bit lane l, u[4g+c] holds column 4l+c of rows 4g..4g+3.
	for g := 0; g < 2; g++ {
		t0, t1, t2, t3 := y(8+4*g), y(8+4*g+1), y(8+4*g+2), y(8+4*g+3)
		VUNPCKLPD(t2, t0, y(4*g+0))
		VUNPCKHPD(t2, t0, y(4*g+1))
		VUNPCKLPD(t3, t1, y(4*g+2))
		VUNPCKHPD(t3, t1, y(4*g+3))
	}
	// column c = [u[c].l0, u[4+c].l0], column 4+c = [u[c].l1, u[4+c].l1].
	for c := 0; c < 4; c++ {
		VPERM2F128(U8(0x20), y(4+c), y(c), y(8+c))
		VPERM2F128(U8(0x31), y(4+c), y(c), y(8+4+c))
	}
	MOVQ(dst, q)
	for c := 0; c < 8; c++ {
		CMPQ(rem, U8(c))
		JLE(LabelRef(name + "_stored"))
		if lanes == 8 {
			VMOVUPS(y(8+c), Mem{Base: q})
		} else {
			// Exactly six floats: four, then two.
			VMOVUPS(x(8+c), Mem{Base: q})
			VEXTRACTF128(U8(1), y(8+c), x(0))
			VMOVSD(x(0), Mem{Base: q, Disp: 16})
		}
		if c < 7 {
			ADDQ(w, q)
		}
	}
	Label(name + "_stored")
	MOVQ(w, R12)
	SHLQ(U8(3), R12)
	ADDQ(R12, dst)
	ADDQ(U32(32), p)
	JMP(LabelRef(name + "_block"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
	if lanes == 8 {
		genPackTrans8Fast(name, src, dst, ld, w, row, p, q)
	}
	if lanes == 6 {
		genPackTrans6Fast(name, src, dst, ld, w, row, p, q)
	}
}

// genFMAPeak emits a loop of n iterations, each 12 independent VFMADD231PS on
// registers (no memory operands): 12 dependency chains hide the FMA latency on every
// x86 core with up to two FMA units, so the loop runs at the core's single-precision
// FMA throughput, 2·12·lanes flops per iteration (lanes = 8 for ymm, 16 for zmm).
// The factors are out[0] and out[1] (broadcast), the accumulators start at zero and
// end, all 12·lanes of them, at n·out[0]·out[1] (exactly, for small integers), which
// are written back to out[0 : 12·lanes].
func genFMAPeak(name string, avx512 bool) {
	TEXT(name, NOSPLIT, "func(n int, out *float32)")
	width := "256"
	if avx512 {
		width = "512"
	}
	Doc(fmt.Sprintf("%s runs n iterations of 12 independent %s-bit VFMADD231PS acc += out[0]·out[1] and stores the 12 accumulators at out.", name, width))
	s := isa{avx512: avx512}
	n, out := RCX, RDI
	Load(Param("n"), n)
	Load(Param("out"), out)
	for i := 0; i < 12; i++ {
		VXORPS(s.vreg(i), s.vreg(i), s.vreg(i))
	}
	VBROADCASTSS(Mem{Base: out}, s.vreg(12))
	VBROADCASTSS(Mem{Base: out, Disp: 4}, s.vreg(13))
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	for i := 0; i < 12; i++ {
		VFMADD231PS(s.vreg(12), s.vreg(13), s.vreg(i))
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	for i := 0; i < 12; i++ {
		VMOVUPS(s.vreg(i), Mem{Base: out, Disp: i * s.vec()})
	}
	VZEROUPPER()
	RET()
}
