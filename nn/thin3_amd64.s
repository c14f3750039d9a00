//go:build !purego

#include "textflag.h"

// The row kernels of thin3.go: a 3×3, stride-1, padding-1 convolution to one
// output channel (and its transpose), one output or input row at a time,
// channels a multiple of 8 (AVX2 + FMA). See thin3.go for what each computes.

// DOTRUN adds Σ_k x[k]·w[k] over l floats (l a multiple of 8, in CX) to the
// accumulators Y0-Y3, x at SI and w at AX (both advanced; R14 is clobbered).
// Labels differ per use (a, b: 32-float loop and 8-float loop, d: done).
#define DOTRUN(a, b, d) \
	MOVQ CX, R14; \
	CMPQ R14, $32; \
	JLT  b; \
a: \
	VMOVUPS     (SI), Y4; \
	VFMADD231PS (AX), Y4, Y0; \
	VMOVUPS     32(SI), Y5; \
	VFMADD231PS 32(AX), Y5, Y1; \
	VMOVUPS     64(SI), Y6; \
	VFMADD231PS 64(AX), Y6, Y2; \
	VMOVUPS     96(SI), Y7; \
	VFMADD231PS 96(AX), Y7, Y3; \
	ADDQ        $128, SI; \
	ADDQ        $128, AX; \
	SUBQ        $32, R14; \
	CMPQ        R14, $32; \
	JGE         a; \
b: \
	TESTQ R14, R14; \
	JZ    d; \
	VMOVUPS     (SI), Y4; \
	VFMADD231PS (AX), Y4, Y0; \
	ADDQ        $32, SI; \
	ADDQ        $32, AX; \
	SUBQ        $8, R14; \
	JMP         b; \
d:

// func thinDotRowx8(y, x0, x1, x2, w0, w1, w2 *float32, bias float32, l, c, n int)
// For i in [0, n): y[i] = bias + Σ_r Σ_{k<l} x_r[i·c + k]·w_r[k].
TEXT ·thinDotRowx8(SB), NOSPLIT, $0-88
	MOVQ   y+0(FP), DI
	MOVQ   x0+8(FP), R8
	MOVQ   x1+16(FP), R9
	MOVQ   x2+24(FP), R10
	MOVQ   w0+32(FP), R11
	MOVQ   w1+40(FP), R12
	MOVQ   w2+48(FP), R13
	VMOVSS bias+56(FP), X15
	MOVQ   l+64(FP), CX
	MOVQ   c+72(FP), DX
	MOVQ   n+80(FP), BX
	SHLQ   $2, DX
	TESTQ  BX, BX
	JZ     dotdone

dotpix:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   R8, SI
	MOVQ   R11, AX
	DOTRUN(dot0a, dot0b, dot0d)
	MOVQ   R9, SI
	MOVQ   R12, AX
	DOTRUN(dot1a, dot1b, dot1d)
	MOVQ   R10, SI
	MOVQ   R13, AX
	DOTRUN(dot2a, dot2b, dot2d)
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VADDSS       X15, X0, X0
	VMOVSS       X0, (DI)
	ADDQ         $4, DI
	ADDQ         DX, R8
	ADDQ         DX, R9
	ADDQ         DX, R10
	DECQ         BX
	JNZ          dotpix

dotdone:
	VZEROUPPER
	RET

// TAP4 adds bcast(s)·v[off + 32j] to Y0-Y3 (j < 4), s at the address sa.
#define TAP4(sa, off) \
	VBROADCASTSS sa, Y8; \
	VFMADD231PS  off(AX), Y8, Y0; \
	VFMADD231PS  off+32(AX), Y8, Y1; \
	VFMADD231PS  off+64(AX), Y8, Y2; \
	VFMADD231PS  off+96(AX), Y8, Y3

// TAP1 adds bcast(s)·v[off] to Y0.
#define TAP1(sa, off) \
	VBROADCASTSS sa, Y8; \
	VFMADD231PS  off(AX), Y8, Y0

// func thinScatterRowx8(dx, d0, d1, d2, v *float32, c, n int)
// For i in [0, n) and channels ch < c:
// dx[i·c + ch] = Σ_{r<3} Σ_{k<3} d_r[i + k]·V[r·3 + k][ch], with V packed by
// thinPackTaps: groups of 32 channels (9 taps of 32 floats each), then single
// chunks of 8 (9 taps of 8 floats each).
TEXT ·thinScatterRowx8(SB), NOSPLIT, $0-56
	MOVQ dx+0(FP), DI
	MOVQ d0+8(FP), R8
	MOVQ d1+16(FP), R9
	MOVQ d2+24(FP), R10
	MOVQ v+32(FP), R11
	MOVQ c+40(FP), CX
	MOVQ n+48(FP), BX
	TESTQ BX, BX
	JZ    scdone

scpix:
	MOVQ R11, AX
	MOVQ CX, R14
	CMPQ R14, $32
	JLT  sc8

sc32:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TAP4((R8), 0)
	TAP4(4(R8), 128)
	TAP4(8(R8), 256)
	TAP4((R9), 384)
	TAP4(4(R9), 512)
	TAP4(8(R9), 640)
	TAP4((R10), 768)
	TAP4(4(R10), 896)
	TAP4(8(R10), 1024)
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $1152, AX
	ADDQ    $128, DI
	SUBQ    $32, R14
	CMPQ    R14, $32
	JGE     sc32

sc8:
	TESTQ  R14, R14
	JZ     scnext
	VXORPS Y0, Y0, Y0
	TAP1((R8), 0)
	TAP1(4(R8), 32)
	TAP1(8(R8), 64)
	TAP1((R9), 96)
	TAP1(4(R9), 128)
	TAP1(8(R9), 160)
	TAP1((R10), 192)
	TAP1(4(R10), 224)
	TAP1(8(R10), 256)
	VMOVUPS Y0, (DI)
	ADDQ    $288, AX
	ADDQ    $32, DI
	SUBQ    $8, R14
	JMP     sc8

scnext:
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $4, R10
	DECQ BX
	JNZ  scpix

scdone:
	VZEROUPPER
	RET

// func thinGradRowx8(acc, x, dy *float32, l, c, n int)
// For k < l: acc[k] += Σ_{i<n} dy[i]·x[i·c + k] (the sum over i in order, in
// registers, then added to acc).
TEXT ·thinGradRowx8(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), R8
	MOVQ dy+16(FP), R9
	MOVQ l+24(FP), CX
	MOVQ c+32(FP), DX
	MOVQ n+40(FP), BX
	SHLQ $2, DX
	TESTQ BX, BX
	JZ    grdone

gr32:
	CMPQ CX, $32
	JLT  gr8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   R8, SI
	MOVQ   R9, AX
	MOVQ   BX, R14

gr32pix:
	VBROADCASTSS (AX), Y8
	VFMADD231PS  (SI), Y8, Y0
	VFMADD231PS  32(SI), Y8, Y1
	VFMADD231PS  64(SI), Y8, Y2
	VFMADD231PS  96(SI), Y8, Y3
	ADDQ         $4, AX
	ADDQ         DX, SI
	DECQ         R14
	JNZ          gr32pix
	VADDPS       (DI), Y0, Y0
	VADDPS       32(DI), Y1, Y1
	VADDPS       64(DI), Y2, Y2
	VADDPS       96(DI), Y3, Y3
	VMOVUPS      Y0, (DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	ADDQ         $128, DI
	ADDQ         $128, R8
	SUBQ         $32, CX
	JMP          gr32

gr8:
	TESTQ  CX, CX
	JZ     grdone
	VXORPS Y0, Y0, Y0
	MOVQ   R8, SI
	MOVQ   R9, AX
	MOVQ   BX, R14

gr8pix:
	VBROADCASTSS (AX), Y8
	VFMADD231PS  (SI), Y8, Y0
	ADDQ         $4, AX
	ADDQ         DX, SI
	DECQ         R14
	JNZ          gr8pix
	VADDPS       (DI), Y0, Y0
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, R8
	SUBQ         $8, CX
	JMP          gr8

grdone:
	VZEROUPPER
	RET

// DOT8ROWS(ld, fma, w, step, ...) is the loop of thinDot8x8 and thinDot8x16:
// for each of nr rows (in R12) and each chunk of the run (l floats in CX, step
// bytes per chunk), w's chunk is loaded once (ld into register w) and
// multiplied (fma) into the eight pixels' accumulators r0-r7 at x + j·c. SI and
// AX walk x and w; R9 and R10 step them from one row's end to the next row's
// start; R13 is clobbered. Labels differ per use.
#define DOT8ROWS(ld, fma, w, step, r0, r1, r2, r3, r4, r5, r6, r7, rowl, chunkl) \
rowl: \
	MOVQ CX, R14; \
chunkl: \
	ld    (AX), w; \
	LEAQ  (SI)(DX*4), R13; \
	fma   (SI), w, r0; \
	fma   (SI)(DX*1), w, r1; \
	fma   (SI)(DX*2), w, r2; \
	fma   (SI)(R15*1), w, r3; \
	fma   (R13), w, r4; \
	fma   (R13)(DX*1), w, r5; \
	fma   (R13)(DX*2), w, r6; \
	fma   (R13)(R15*1), w, r7; \
	ADDQ  $step, SI; \
	ADDQ  $step, AX; \
	SUBQ  $(step/4), R14; \
	JNZ   chunkl; \
	ADDQ  R9, SI; \
	ADDQ  R10, AX; \
	DECQ  R12; \
	JNZ   rowl

// HSUM8 sets Y0 to the eight horizontal sums of Y0-Y7 (lane i of the result
// is the sum of Yi), clobbering Y1-Y9.
#define HSUM8 \
	VHADDPS    Y1, Y0, Y0; \
	VHADDPS    Y3, Y2, Y2; \
	VHADDPS    Y2, Y0, Y0; \
	VHADDPS    Y5, Y4, Y4; \
	VHADDPS    Y7, Y6, Y6; \
	VHADDPS    Y6, Y4, Y4; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x31, Y4, Y0, Y9; \
	VADDPS     Y9, Y8, Y0

// func thinDot8x8(y, x, w *float32, bias float32, l, c, n, xrs, wrs, nr int)
// For i in [0, n), n a multiple of 8 and l of 8: y[i] = bias + Σ_{r<nr}
// Σ_{k<l} x[r·xrs + i·c + k]·w[r·wrs + k], each sum over r and chunks of 8 in
// order, lane by lane, the lanes then added pairwise.
TEXT ·thinDot8x8(SB), NOSPLIT, $0-80
	// DI = y, R8 = x, R11 = w, Y15 = bias in every lane, CX = l, DX = c·4,
	// BX = n/8, R9 and R10 the steps from one row's end to the next row's
	// start (bytes), R15 = 3c·4.
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), R8
	MOVQ w+16(FP), R11
	VBROADCASTSS bias+24(FP), Y15
	MOVQ l+32(FP), CX
	MOVQ c+40(FP), DX
	MOVQ n+48(FP), BX
	MOVQ xrs+56(FP), R9
	MOVQ wrs+64(FP), R10
	SUBQ CX, R9
	SUBQ CX, R10
	SHLQ $2, R9
	SHLQ $2, R10
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R15
	SHRQ $3, BX
	TESTQ BX, BX
	JZ    d8done

d8block:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   R8, SI
	MOVQ   R11, AX
	MOVQ   nr+72(FP), R12
	DOT8ROWS(VMOVUPS, VFMADD231PS, Y8, 32, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, d8row, d8chunk)
	HSUM8
	VADDPS  Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	LEAQ    (R8)(DX*8), R8
	DECQ    BX
	JNZ     d8block

d8done:
	VZEROUPPER
	RET

// func thinDot8x16(y, x, w *float32, bias float32, l, c, n, xrs, wrs, nr int)
// thinDot8x8 with 16 lanes (AVX-512F): l a multiple of 16. Each pixel's 16
// lane sums are folded to 8 (lane i + lane i + 8) before the pairwise sums.
TEXT ·thinDot8x16(SB), NOSPLIT, $0-80
	// DI = y, R8 = x, R11 = w, Y15 = bias in every lane, CX = l, DX = c·4,
	// BX = n/8, R9 and R10 the steps from one row's end to the next row's
	// start (bytes), R15 = 3c·4.
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), R8
	MOVQ w+16(FP), R11
	VBROADCASTSS bias+24(FP), Y15
	MOVQ l+32(FP), CX
	MOVQ c+40(FP), DX
	MOVQ n+48(FP), BX
	MOVQ xrs+56(FP), R9
	MOVQ wrs+64(FP), R10
	SUBQ CX, R9
	SUBQ CX, R10
	SHLQ $2, R9
	SHLQ $2, R10
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R15
	SHRQ $3, BX
	TESTQ BX, BX
	JZ    d16done

d16block:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	MOVQ   R8, SI
	MOVQ   R11, AX
	MOVQ   nr+72(FP), R12
	DOT8ROWS(VMOVUPS, VFMADD231PS, Z8, 64, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, d16row, d16chunk)
	VEXTRACTF64X4 $1, Z0, Y8
	VADDPS        Y8, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y8
	VADDPS        Y8, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y8
	VADDPS        Y8, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y8
	VADDPS        Y8, Y3, Y3
	VEXTRACTF64X4 $1, Z4, Y8
	VADDPS        Y8, Y4, Y4
	VEXTRACTF64X4 $1, Z5, Y8
	VADDPS        Y8, Y5, Y5
	VEXTRACTF64X4 $1, Z6, Y8
	VADDPS        Y8, Y6, Y6
	VEXTRACTF64X4 $1, Z7, Y8
	VADDPS        Y8, Y7, Y7
	HSUM8
	VADDPS  Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	LEAQ    (R8)(DX*8), R8
	DECQ    BX
	JNZ     d16block

d16done:
	VZEROUPPER
	RET

// The two kernels below are unrolled by nn/internal/thin3gen/gen.py (its output,
// verbatim): the pattern is in each comment.

// func thinGrad3x16(acc, x0, x1, x2, dy *float32, c, n int)
// thinGradRowx8 for the three input rows of an output row at once, 16 lanes
// (AVX-512F), l = 3c with c a multiple of 16: for r < 3 and k < 3c,
// acc[r·3c + k] += Σ_{i<n} dy[i]·x_r[i·c + k], the sum over i in order in
// registers, then added to acc (the same operations, lane by lane, as
// thinGradRowx8 on each row). Runs of 3c are taken 96 floats at a time (18
// accumulators), a remaining 48 after.
TEXT ·thinGrad3x16(SB), NOSPLIT, $0-56
	MOVQ  acc+0(FP), DI
	MOVQ  x0+8(FP), R8
	MOVQ  x1+16(FP), R9
	MOVQ  x2+24(FP), R10
	MOVQ  dy+32(FP), R11
	MOVQ  c+40(FP), DX
	MOVQ  n+48(FP), BX
	SHLQ  $2, DX
	LEAQ  (DX)(DX*2), R12
	MOVQ  R12, CX
	TESTQ BX, BX
	JZ    g16done

g16g6:
	CMPQ CX, $384
	JLT  g16g3
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	VXORPS Z16, Z16, Z16
	VXORPS Z17, Z17, Z17
	MOVQ R8, SI
	MOVQ R9, AX
	MOVQ R10, R13
	MOVQ R11, R15
	MOVQ BX, R14
g16g6pix:
	VBROADCASTSS (R15), Z31
	VFMADD231PS 0(SI), Z31, Z0
	VFMADD231PS 64(SI), Z31, Z1
	VFMADD231PS 128(SI), Z31, Z2
	VFMADD231PS 192(SI), Z31, Z3
	VFMADD231PS 256(SI), Z31, Z4
	VFMADD231PS 320(SI), Z31, Z5
	VFMADD231PS 0(AX), Z31, Z6
	VFMADD231PS 64(AX), Z31, Z7
	VFMADD231PS 128(AX), Z31, Z8
	VFMADD231PS 192(AX), Z31, Z9
	VFMADD231PS 256(AX), Z31, Z10
	VFMADD231PS 320(AX), Z31, Z11
	VFMADD231PS 0(R13), Z31, Z12
	VFMADD231PS 64(R13), Z31, Z13
	VFMADD231PS 128(R13), Z31, Z14
	VFMADD231PS 192(R13), Z31, Z15
	VFMADD231PS 256(R13), Z31, Z16
	VFMADD231PS 320(R13), Z31, Z17
	ADDQ $4, R15
	ADDQ DX, SI
	ADDQ DX, AX
	ADDQ DX, R13
	DECQ R14
	JNZ  g16g6pix
	VADDPS (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	VADDPS 64(DI), Z1, Z1
	VMOVUPS Z1, 64(DI)
	VADDPS 128(DI), Z2, Z2
	VMOVUPS Z2, 128(DI)
	VADDPS 192(DI), Z3, Z3
	VMOVUPS Z3, 192(DI)
	VADDPS 256(DI), Z4, Z4
	VMOVUPS Z4, 256(DI)
	VADDPS 320(DI), Z5, Z5
	VMOVUPS Z5, 320(DI)
	VADDPS (DI)(R12*1), Z6, Z6
	VMOVUPS Z6, (DI)(R12*1)
	VADDPS 64(DI)(R12*1), Z7, Z7
	VMOVUPS Z7, 64(DI)(R12*1)
	VADDPS 128(DI)(R12*1), Z8, Z8
	VMOVUPS Z8, 128(DI)(R12*1)
	VADDPS 192(DI)(R12*1), Z9, Z9
	VMOVUPS Z9, 192(DI)(R12*1)
	VADDPS 256(DI)(R12*1), Z10, Z10
	VMOVUPS Z10, 256(DI)(R12*1)
	VADDPS 320(DI)(R12*1), Z11, Z11
	VMOVUPS Z11, 320(DI)(R12*1)
	VADDPS (DI)(R12*2), Z12, Z12
	VMOVUPS Z12, (DI)(R12*2)
	VADDPS 64(DI)(R12*2), Z13, Z13
	VMOVUPS Z13, 64(DI)(R12*2)
	VADDPS 128(DI)(R12*2), Z14, Z14
	VMOVUPS Z14, 128(DI)(R12*2)
	VADDPS 192(DI)(R12*2), Z15, Z15
	VMOVUPS Z15, 192(DI)(R12*2)
	VADDPS 256(DI)(R12*2), Z16, Z16
	VMOVUPS Z16, 256(DI)(R12*2)
	VADDPS 320(DI)(R12*2), Z17, Z17
	VMOVUPS Z17, 320(DI)(R12*2)
	ADDQ $384, DI
	ADDQ $384, R8
	ADDQ $384, R9
	ADDQ $384, R10
	SUBQ $384, CX
	JMP  g16g6

g16g3:
	TESTQ CX, CX
	JZ    g16done
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	MOVQ R8, SI
	MOVQ R9, AX
	MOVQ R10, R13
	MOVQ R11, R15
	MOVQ BX, R14
g16g3pix:
	VBROADCASTSS (R15), Z31
	VFMADD231PS 0(SI), Z31, Z0
	VFMADD231PS 64(SI), Z31, Z1
	VFMADD231PS 128(SI), Z31, Z2
	VFMADD231PS 0(AX), Z31, Z6
	VFMADD231PS 64(AX), Z31, Z7
	VFMADD231PS 128(AX), Z31, Z8
	VFMADD231PS 0(R13), Z31, Z12
	VFMADD231PS 64(R13), Z31, Z13
	VFMADD231PS 128(R13), Z31, Z14
	ADDQ $4, R15
	ADDQ DX, SI
	ADDQ DX, AX
	ADDQ DX, R13
	DECQ R14
	JNZ  g16g3pix
	VADDPS (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	VADDPS 64(DI), Z1, Z1
	VMOVUPS Z1, 64(DI)
	VADDPS 128(DI), Z2, Z2
	VMOVUPS Z2, 128(DI)
	VADDPS (DI)(R12*1), Z6, Z6
	VMOVUPS Z6, (DI)(R12*1)
	VADDPS 64(DI)(R12*1), Z7, Z7
	VMOVUPS Z7, 64(DI)(R12*1)
	VADDPS 128(DI)(R12*1), Z8, Z8
	VMOVUPS Z8, 128(DI)(R12*1)
	VADDPS (DI)(R12*2), Z12, Z12
	VMOVUPS Z12, (DI)(R12*2)
	VADDPS 64(DI)(R12*2), Z13, Z13
	VMOVUPS Z13, 64(DI)(R12*2)
	VADDPS 128(DI)(R12*2), Z14, Z14
	VMOVUPS Z14, 128(DI)(R12*2)
	ADDQ $192, DI
	ADDQ $192, R8
	ADDQ $192, R9
	ADDQ $192, R10
	SUBQ $192, CX
	JMP  g16g3

g16done:
	VZEROUPPER
	RET

// func thinScatter4x32(dx, d0, d1, d2, v *float32, c, n int)
// thinScatterRowx8 for c a multiple of 32 and n of 4, 16 lanes (AVX-512F):
// per group of 32 channels the nine taps' weights stay in Z14-Z31 while the
// row is taken four pixels at a time (accumulators Z0-Z7, pixel j in Z2j and
// Z2j+1). Each d_r[i + m] is broadcast once and multiplied into every pixel
// j = m − k that its tap k serves, so each output still takes its nine taps in
// order r, k (the same operations, lane by lane, as thinScatterRowx8).
TEXT ·thinScatter4x32(SB), NOSPLIT, $0-56
	MOVQ  dx+0(FP), DI
	MOVQ  v+32(FP), R11
	MOVQ  c+40(FP), CX
	MOVQ  n+48(FP), BX
	SHLQ  $2, CX
	SHRQ  $2, BX
	TESTQ BX, BX
	JZ    s32done
	MOVQ  CX, DX
	SHLQ  $2, DX
	MOVQ  c+40(FP), R12
	SHRQ  $5, R12

s32group:

	VMOVUPS 0(R11), Z14
	VMOVUPS 64(R11), Z15
	VMOVUPS 128(R11), Z16
	VMOVUPS 192(R11), Z17
	VMOVUPS 256(R11), Z18
	VMOVUPS 320(R11), Z19
	VMOVUPS 384(R11), Z20
	VMOVUPS 448(R11), Z21
	VMOVUPS 512(R11), Z22
	VMOVUPS 576(R11), Z23
	VMOVUPS 640(R11), Z24
	VMOVUPS 704(R11), Z25
	VMOVUPS 768(R11), Z26
	VMOVUPS 832(R11), Z27
	VMOVUPS 896(R11), Z28
	VMOVUPS 960(R11), Z29
	VMOVUPS 1024(R11), Z30
	VMOVUPS 1088(R11), Z31
	MOVQ d0+8(FP), R8
	MOVQ d1+16(FP), R9
	MOVQ d2+24(FP), R10
	MOVQ DI, SI
	MOVQ BX, R14
s32block:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VBROADCASTSS 0(R8), Z8
	VFMADD231PS Z14, Z8, Z0
	VFMADD231PS Z15, Z8, Z1
	VBROADCASTSS 4(R8), Z9
	VFMADD231PS Z14, Z9, Z2
	VFMADD231PS Z15, Z9, Z3
	VFMADD231PS Z16, Z9, Z0
	VFMADD231PS Z17, Z9, Z1
	VBROADCASTSS 8(R8), Z10
	VFMADD231PS Z14, Z10, Z4
	VFMADD231PS Z15, Z10, Z5
	VFMADD231PS Z16, Z10, Z2
	VFMADD231PS Z17, Z10, Z3
	VFMADD231PS Z18, Z10, Z0
	VFMADD231PS Z19, Z10, Z1
	VBROADCASTSS 12(R8), Z11
	VFMADD231PS Z14, Z11, Z6
	VFMADD231PS Z15, Z11, Z7
	VFMADD231PS Z16, Z11, Z4
	VFMADD231PS Z17, Z11, Z5
	VFMADD231PS Z18, Z11, Z2
	VFMADD231PS Z19, Z11, Z3
	VBROADCASTSS 16(R8), Z8
	VFMADD231PS Z16, Z8, Z6
	VFMADD231PS Z17, Z8, Z7
	VFMADD231PS Z18, Z8, Z4
	VFMADD231PS Z19, Z8, Z5
	VBROADCASTSS 20(R8), Z9
	VFMADD231PS Z18, Z9, Z6
	VFMADD231PS Z19, Z9, Z7
	VBROADCASTSS 0(R9), Z10
	VFMADD231PS Z20, Z10, Z0
	VFMADD231PS Z21, Z10, Z1
	VBROADCASTSS 4(R9), Z11
	VFMADD231PS Z20, Z11, Z2
	VFMADD231PS Z21, Z11, Z3
	VFMADD231PS Z22, Z11, Z0
	VFMADD231PS Z23, Z11, Z1
	VBROADCASTSS 8(R9), Z8
	VFMADD231PS Z20, Z8, Z4
	VFMADD231PS Z21, Z8, Z5
	VFMADD231PS Z22, Z8, Z2
	VFMADD231PS Z23, Z8, Z3
	VFMADD231PS Z24, Z8, Z0
	VFMADD231PS Z25, Z8, Z1
	VBROADCASTSS 12(R9), Z9
	VFMADD231PS Z20, Z9, Z6
	VFMADD231PS Z21, Z9, Z7
	VFMADD231PS Z22, Z9, Z4
	VFMADD231PS Z23, Z9, Z5
	VFMADD231PS Z24, Z9, Z2
	VFMADD231PS Z25, Z9, Z3
	VBROADCASTSS 16(R9), Z10
	VFMADD231PS Z22, Z10, Z6
	VFMADD231PS Z23, Z10, Z7
	VFMADD231PS Z24, Z10, Z4
	VFMADD231PS Z25, Z10, Z5
	VBROADCASTSS 20(R9), Z11
	VFMADD231PS Z24, Z11, Z6
	VFMADD231PS Z25, Z11, Z7
	VBROADCASTSS 0(R10), Z8
	VFMADD231PS Z26, Z8, Z0
	VFMADD231PS Z27, Z8, Z1
	VBROADCASTSS 4(R10), Z9
	VFMADD231PS Z26, Z9, Z2
	VFMADD231PS Z27, Z9, Z3
	VFMADD231PS Z28, Z9, Z0
	VFMADD231PS Z29, Z9, Z1
	VBROADCASTSS 8(R10), Z10
	VFMADD231PS Z26, Z10, Z4
	VFMADD231PS Z27, Z10, Z5
	VFMADD231PS Z28, Z10, Z2
	VFMADD231PS Z29, Z10, Z3
	VFMADD231PS Z30, Z10, Z0
	VFMADD231PS Z31, Z10, Z1
	VBROADCASTSS 12(R10), Z11
	VFMADD231PS Z26, Z11, Z6
	VFMADD231PS Z27, Z11, Z7
	VFMADD231PS Z28, Z11, Z4
	VFMADD231PS Z29, Z11, Z5
	VFMADD231PS Z30, Z11, Z2
	VFMADD231PS Z31, Z11, Z3
	VBROADCASTSS 16(R10), Z8
	VFMADD231PS Z28, Z8, Z6
	VFMADD231PS Z29, Z8, Z7
	VFMADD231PS Z30, Z8, Z4
	VFMADD231PS Z31, Z8, Z5
	VBROADCASTSS 20(R10), Z9
	VFMADD231PS Z30, Z9, Z6
	VFMADD231PS Z31, Z9, Z7
	VMOVUPS Z0, (SI)
	VMOVUPS Z1, 64(SI)
	VMOVUPS Z2, (SI)(CX*1)
	VMOVUPS Z3, 64(SI)(CX*1)
	VMOVUPS Z4, (SI)(CX*2)
	VMOVUPS Z5, 64(SI)(CX*2)
	LEAQ (SI)(CX*2), R13
	VMOVUPS Z6, (R13)(CX*1)
	VMOVUPS Z7, 64(R13)(CX*1)
	ADDQ DX, SI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	DECQ R14
	JNZ  s32block
	ADDQ $1152, R11
	ADDQ $128, DI
	DECQ R12
	JNZ  s32group

s32done:
	VZEROUPPER
	RET
