//go:build !purego

#include "textflag.h"

// Column sums in float64 for colSum and channelSum (colsum.go): each kernel adds
// rows [0, rows) of a strip of float32 columns (row stride in bytes) to float64
// accumulators, row after row. Each column's sum is the same chain of double
// additions, in the same order, as the scalar loop acc[k] += float64(v): the
// vectors only run several columns side by side (AVX2: VCVTPS2PD widens four
// floats exactly, VADDPD rounds each lane as the scalar addition does).

// func colSum32(acc *float64, m *float32, rows, stride int)
TEXT ·colSum32(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	VMOVUPD 0(DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	VMOVUPD 128(DI), Y4
	VMOVUPD 160(DI), Y5
	VMOVUPD 192(DI), Y6
	VMOVUPD 224(DI), Y7
	TESTQ CX, CX
	JZ done32

loop32:
	VCVTPS2PD 0(SI), Y8
	VCVTPS2PD 16(SI), Y9
	VCVTPS2PD 32(SI), Y10
	VCVTPS2PD 48(SI), Y11
	VADDPD Y8, Y0, Y0
	VADDPD Y9, Y1, Y1
	VADDPD Y10, Y2, Y2
	VADDPD Y11, Y3, Y3
	VCVTPS2PD 64(SI), Y12
	VCVTPS2PD 80(SI), Y13
	VCVTPS2PD 96(SI), Y14
	VCVTPS2PD 112(SI), Y15
	VADDPD Y12, Y4, Y4
	VADDPD Y13, Y5, Y5
	VADDPD Y14, Y6, Y6
	VADDPD Y15, Y7, Y7
	ADDQ DX, SI
	DECQ CX
	JNZ loop32

done32:
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VMOVUPD Y4, 128(DI)
	VMOVUPD Y5, 160(DI)
	VMOVUPD Y6, 192(DI)
	VMOVUPD Y7, 224(DI)
	VZEROUPPER
	RET

// func colSum8(acc *float64, m *float32, rows, stride int)
TEXT ·colSum8(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	VMOVUPD 0(DI), Y0
	VMOVUPD 32(DI), Y1
	TESTQ CX, CX
	JZ done8

loop8:
	VCVTPS2PD 0(SI), Y8
	VCVTPS2PD 16(SI), Y9
	VADDPD Y8, Y0, Y0
	VADDPD Y9, Y1, Y1
	ADDQ DX, SI
	DECQ CX
	JNZ loop8

done8:
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VZEROUPPER
	RET

// func colSum32x16(acc *float64, m *float32, rows, stride int)
// colSum32 with AVX-512F: VCVTPS2PD widens eight floats at a time, half the
// conversions per row (the AVX2 kernel was bound by them, about 10 cycles per
// row of 32 on Zen 5); each lane's chain is the same.
TEXT ·colSum32x16(SB), NOSPLIT, $0-32
	MOVQ    acc+0(FP), DI
	MOVQ    m+8(FP), SI
	MOVQ    rows+16(FP), CX
	MOVQ    stride+24(FP), DX
	VMOVUPD 0(DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	TESTQ   CX, CX
	JZ      done32x16

loop32x16:
	VCVTPS2PD 0(SI), Z8
	VCVTPS2PD 32(SI), Z9
	VCVTPS2PD 64(SI), Z10
	VCVTPS2PD 96(SI), Z11
	VADDPD    Z8, Z0, Z0
	VADDPD    Z9, Z1, Z1
	VADDPD    Z10, Z2, Z2
	VADDPD    Z11, Z3, Z3
	ADDQ      DX, SI
	DECQ      CX
	JNZ       loop32x16

done32x16:
	VMOVUPD Z0, 0(DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VZEROUPPER
	RET
