//go:build !purego

#include "textflag.h"

// The per-position channel loops of norm.go (BatchNorm, GroupNorm) for channels
// [0, c8), c8 a positive multiple of 8, at every position of a row of n values
// (positions of c channels, channel fastest): the same operations per value in
// the same order as the Go loops, 8 channels at a time (AVX2, no FMA), so the
// bits are the same.

// func chanSumx8(acc *float64, r *float32, c, c8, n int)
// acc[k] += float64(r[p+k])
TEXT ·chanSumx8(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ r+8(FP), SI
	MOVQ c+16(FP), R8
	MOVQ c8+24(FP), R9
	MOVQ n+32(FP), R10
	SHLQ $2, R8
	LEAQ (SI)(R10*4), R10
sumpos:
	CMPQ SI, R10
	JAE  sumdone
	XORQ AX, AX
sumk:
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VADDPD    (DI)(AX*8), Y0, Y0
	VADDPD    32(DI)(AX*8), Y1, Y1
	VMOVUPD   Y0, (DI)(AX*8)
	VMOVUPD   Y1, 32(DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, R9
	JLT       sumk
	ADDQ      R8, SI
	JMP       sumpos
sumdone:
	VZEROUPPER
	RET

// func chanSumSqx8(acc, mean *float64, r *float32, c, c8, n int)
// d = float64(r[p+k]) − mean[k]; acc[k] += d·d
TEXT ·chanSumSqx8(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ mean+8(FP), DX
	MOVQ r+16(FP), SI
	MOVQ c+24(FP), R8
	MOVQ c8+32(FP), R9
	MOVQ n+40(FP), R10
	SHLQ $2, R8
	LEAQ (SI)(R10*4), R10
sqpos:
	CMPQ SI, R10
	JAE  sqdone
	XORQ AX, AX
sqk:
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VSUBPD    (DX)(AX*8), Y0, Y0
	VSUBPD    32(DX)(AX*8), Y1, Y1
	VMULPD    Y0, Y0, Y0
	VMULPD    Y1, Y1, Y1
	VADDPD    (DI)(AX*8), Y0, Y0
	VADDPD    32(DI)(AX*8), Y1, Y1
	VMOVUPD   Y0, (DI)(AX*8)
	VMOVUPD   Y1, 32(DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, R9
	JLT       sqk
	ADDQ      R8, SI
	JMP       sqpos
sqdone:
	VZEROUPPER
	RET

// func chanGradSumsx8(sb, sg *float64, dy, xh *float32, c, c8, n int)
// sb[k] += float64(dy); sg[k] += float64(dy)·float64(xh)
TEXT ·chanGradSumsx8(SB), NOSPLIT, $0-56
	MOVQ sb+0(FP), DI
	MOVQ sg+8(FP), DX
	MOVQ dy+16(FP), SI
	MOVQ xh+24(FP), BX
	MOVQ c+32(FP), R8
	MOVQ c8+40(FP), R9
	MOVQ n+48(FP), R10
	SHLQ $2, R8
	LEAQ (SI)(R10*4), R10
gspos:
	CMPQ SI, R10
	JAE  gsdone
	XORQ AX, AX
gsk:
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VCVTPS2PD (BX)(AX*4), Y2
	VCVTPS2PD 16(BX)(AX*4), Y3
	VADDPD    (DI)(AX*8), Y0, Y4
	VADDPD    32(DI)(AX*8), Y1, Y5
	VMOVUPD   Y4, (DI)(AX*8)
	VMOVUPD   Y5, 32(DI)(AX*8)
	VMULPD    Y2, Y0, Y0
	VMULPD    Y3, Y1, Y1
	VADDPD    (DX)(AX*8), Y0, Y0
	VADDPD    32(DX)(AX*8), Y1, Y1
	VMOVUPD   Y0, (DX)(AX*8)
	VMOVUPD   Y1, 32(DX)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, R9
	JLT       gsk
	ADDQ      R8, SI
	ADDQ      R8, BX
	JMP       gspos
gsdone:
	VZEROUPPER
	RET

// func chanNormalizex8(y, xh, x, mu, s, gam, bet *float32, c, c8, n int)
// h = (x − mu)·s; xh = h; y = g·h + b
TEXT ·chanNormalizex8(SB), NOSPLIT, $0-80
	MOVQ y+0(FP), DI
	MOVQ xh+8(FP), BX
	MOVQ x+16(FP), SI
	MOVQ mu+24(FP), R11
	MOVQ s+32(FP), R12
	MOVQ gam+40(FP), R13
	MOVQ bet+48(FP), R14
	MOVQ c+56(FP), R8
	MOVQ c8+64(FP), R9
	MOVQ n+72(FP), R10
	SHLQ $2, R8
	LEAQ (SI)(R10*4), R10
npos:
	CMPQ SI, R10
	JAE  ndone
	XORQ AX, AX
nk:
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS  (R11)(AX*4), Y0, Y0
	VMULPS  (R12)(AX*4), Y0, Y0
	VMOVUPS Y0, (BX)(AX*4)
	VMULPS  (R13)(AX*4), Y0, Y0
	VADDPS  (R14)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, R9
	JLT     nk
	ADDQ    R8, SI
	ADDQ    R8, BX
	ADDQ    R8, DI
	JMP     npos
ndone:
	VZEROUPPER
	RET

// func chanInputGradx8(dx, dy, xh, kc, a, b *float32, c, c8, n int)
// dx = ((kc·dy) − a) − (xh·b)
TEXT ·chanInputGradx8(SB), NOSPLIT, $0-72
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ xh+16(FP), BX
	MOVQ kc+24(FP), R11
	MOVQ a+32(FP), R12
	MOVQ b+40(FP), R13
	MOVQ c+48(FP), R8
	MOVQ c8+56(FP), R9
	MOVQ n+64(FP), R10
	SHLQ $2, R8
	LEAQ (SI)(R10*4), R10
igpos:
	CMPQ SI, R10
	JAE  igdone
	XORQ AX, AX
igk:
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  (R11)(AX*4), Y0, Y0
	VSUBPS  (R12)(AX*4), Y0, Y0
	VMOVUPS (BX)(AX*4), Y1
	VMULPS  (R13)(AX*4), Y1, Y1
	VSUBPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, R9
	JLT     igk
	ADDQ    R8, SI
	ADDQ    R8, BX
	ADDQ    R8, DI
	JMP     igpos
igdone:
	VZEROUPPER
	RET
