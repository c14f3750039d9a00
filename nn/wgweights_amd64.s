//go:build !purego

#include "textflag.h"

// The F(4×4, 3×3) weight transforms of winograd4.go (wg4G, wg4GT), four
// values at a time in float64 (AVX2): the same operations, in the same order,
// as the Go loops, so the same bits. k points at the constants
// {4, 0.25, −1/6, 1/24, 1/6, 1/12} (float64).

// func wg4Gx4(o *[6]*float32, a, b, c *float32, k *[6]float64, n int)
// For i < n (a multiple of 4), with ac = a + c and ac4 = a + 4c:
// o0 = a/4, o1 = −(ac + b)/6, o2 = −(ac − b)/6, o3 = (ac4 + 2b)/24,
// o4 = (ac4 − 2b)/24, o5 = c.
TEXT ·wg4Gx4(SB), NOSPLIT, $0-48
	MOVQ         o+0(FP), AX
	MOVQ         a+8(FP), SI
	MOVQ         b+16(FP), DX
	MOVQ         c+24(FP), CX
	MOVQ         k+32(FP), BX
	MOVQ         n+40(FP), R15
	MOVQ         (AX), DI
	MOVQ         8(AX), R8
	MOVQ         16(AX), R9
	MOVQ         24(AX), R10
	MOVQ         32(AX), R11
	MOVQ         40(AX), R12
	VBROADCASTSD (BX), Y12
	VBROADCASTSD 8(BX), Y13
	VBROADCASTSD 16(BX), Y14
	VBROADCASTSD 24(BX), Y15
	XORQ         R13, R13
	SHRQ         $2, R15
	JZ           gdone

gloop:
	VCVTPS2PD  (SI)(R13*1), Y0
	VCVTPS2PD  (DX)(R13*1), Y1
	VCVTPS2PD  (CX)(R13*1), Y2
	VADDPD     Y2, Y0, Y3          // ac = a + c
	VMULPD     Y12, Y2, Y4         // 4c
	VADDPD     Y4, Y0, Y4          // ac4 = a + 4c
	VADDPD     Y1, Y1, Y5          // 2b
	VMULPD     Y13, Y0, Y6         // a/4
	VCVTPD2PSY Y6, X6
	VMOVUPS    X6, (DI)(R13*1)
	VADDPD     Y1, Y3, Y6          // ac + b
	VMULPD     Y14, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS    X6, (R8)(R13*1)
	VSUBPD     Y1, Y3, Y6          // ac − b
	VMULPD     Y14, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS    X6, (R9)(R13*1)
	VADDPD     Y5, Y4, Y6          // ac4 + 2b
	VMULPD     Y15, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS    X6, (R10)(R13*1)
	VSUBPD     Y5, Y4, Y6          // ac4 − 2b
	VMULPD     Y15, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS    X6, (R11)(R13*1)
	VMOVUPS    (CX)(R13*1), X7     // o5 = c
	VMOVUPS    X7, (R12)(R13*1)
	ADDQ       $16, R13
	DECQ       R15
	JNZ        gloop

gdone:
	VZEROUPPER
	RET

// func wg4GTx4(o0, o1, o2 *float32, in *[6]*float32, k *[6]float64, n int)
// For i < n (a multiple of 4), with bc = b + c and de = d + e:
// o0 = a/4 − bc/6 + de/24, o1 = (c − b)/6 + (d − e)/12,
// o2 = −bc/6 + de/6 + f, each sum from the left.
TEXT ·wg4GTx4(SB), NOSPLIT, $0-48
	MOVQ         o0+0(FP), DI
	MOVQ         o1+8(FP), R8
	MOVQ         o2+16(FP), R9
	MOVQ         in+24(FP), AX
	MOVQ         k+32(FP), BX
	MOVQ         n+40(FP), R15
	MOVQ         (AX), SI
	MOVQ         8(AX), DX
	MOVQ         16(AX), CX
	MOVQ         24(AX), R10
	MOVQ         32(AX), R11
	MOVQ         40(AX), R12
	VBROADCASTSD 8(BX), Y11
	VBROADCASTSD 16(BX), Y12
	VBROADCASTSD 24(BX), Y13
	VBROADCASTSD 32(BX), Y14
	VBROADCASTSD 40(BX), Y15
	XORQ         R13, R13
	SHRQ         $2, R15
	JZ           gtdone

gtloop:
	VCVTPS2PD  (SI)(R13*1), Y0     // a
	VCVTPS2PD  (DX)(R13*1), Y1     // b
	VCVTPS2PD  (CX)(R13*1), Y2     // c
	VCVTPS2PD  (R10)(R13*1), Y3    // d
	VCVTPS2PD  (R11)(R13*1), Y4    // e
	VADDPD     Y2, Y1, Y5          // bc
	VADDPD     Y4, Y3, Y6          // de
	VMULPD     Y11, Y0, Y7         // a/4
	VMULPD     Y12, Y5, Y8         // −bc/6
	VADDPD     Y8, Y7, Y7          // a/4 − bc/6
	VMULPD     Y13, Y6, Y9         // de/24
	VADDPD     Y9, Y7, Y7
	VCVTPD2PSY Y7, X7
	VMOVUPS    X7, (DI)(R13*1)
	VSUBPD     Y1, Y2, Y7          // c − b
	VMULPD     Y14, Y7, Y7
	VSUBPD     Y4, Y3, Y9          // d − e
	VMULPD     Y15, Y9, Y9
	VADDPD     Y9, Y7, Y7
	VCVTPD2PSY Y7, X7
	VMOVUPS    X7, (R8)(R13*1)
	VMULPD     Y14, Y6, Y9         // de/6
	VADDPD     Y9, Y8, Y8          // −bc/6 + de/6
	VCVTPS2PD  (R12)(R13*1), Y9    // f
	VADDPD     Y9, Y8, Y8
	VCVTPD2PSY Y8, X8
	VMOVUPS    X8, (R9)(R13*1)
	ADDQ       $16, R13
	DECQ       R15
	JNZ        gtloop

gtdone:
	VZEROUPPER
	RET
