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
