//go:build !purego

#include "textflag.h"

// The Winograd F(2×2, 3×3) transforms of winograd.go on 8 floats at a time
// (AVX2); n is a multiple of 8 and at least 8. Each computes the same adds in
// the same order as its Go loop, so the bits are the same.

// func wgBTx8(o0, o1, o2, o3, a, b, c, d *float32, n int)
// o0 = a−c, o1 = b+c, o2 = c−b, o3 = b−d
TEXT ·wgBTx8(SB), NOSPLIT, $0-72
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ o2+16(FP), R10
	MOVQ o3+24(FP), R11
	MOVQ a+32(FP), R12
	MOVQ b+40(FP), R13
	MOVQ c+48(FP), R14
	MOVQ d+56(FP), R15
	MOVQ n+64(FP), CX
	XORQ AX, AX
btloop:
	VMOVUPS (R12)(AX*4), Y0
	VMOVUPS (R13)(AX*4), Y1
	VMOVUPS (R14)(AX*4), Y2
	VMOVUPS (R15)(AX*4), Y3
	VSUBPS  Y2, Y0, Y4
	VADDPS  Y2, Y1, Y5
	VSUBPS  Y1, Y2, Y6
	VSUBPS  Y3, Y1, Y7
	VMOVUPS Y4, (R8)(AX*4)
	VMOVUPS Y5, (R9)(AX*4)
	VMOVUPS Y6, (R10)(AX*4)
	VMOVUPS Y7, (R11)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     btloop
	VZEROUPPER
	RET

// func wgBx8(o0, o1, o2, o3, a, b, c, d *float32, n int)
// o0 = a, o1 = (b−c)+d, o2 = (b+c)−a, o3 = −d
TEXT ·wgBx8(SB), NOSPLIT, $0-72
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ o2+16(FP), R10
	MOVQ o3+24(FP), R11
	MOVQ a+32(FP), R12
	MOVQ b+40(FP), R13
	MOVQ c+48(FP), R14
	MOVQ d+56(FP), R15
	MOVQ n+64(FP), CX
	XORQ AX, AX
	VXORPS Y8, Y8, Y8
bloop:
	VMOVUPS (R12)(AX*4), Y0
	VMOVUPS (R13)(AX*4), Y1
	VMOVUPS (R14)(AX*4), Y2
	VMOVUPS (R15)(AX*4), Y3
	VSUBPS  Y2, Y1, Y5
	VADDPS  Y3, Y5, Y5
	VADDPS  Y2, Y1, Y6
	VSUBPS  Y0, Y6, Y6
	VSUBPS  Y3, Y8, Y7
	VMOVUPS Y0, (R8)(AX*4)
	VMOVUPS Y5, (R9)(AX*4)
	VMOVUPS Y6, (R10)(AX*4)
	VMOVUPS Y7, (R11)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     bloop
	VZEROUPPER
	RET

// func wgBAddx8(o0, o1, o2, o3, a, b, c, d *float32, n int)
// o0 += a, o1 += (b−c)+d, o2 += (b+c)−a, o3 −= d
TEXT ·wgBAddx8(SB), NOSPLIT, $0-72
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ o2+16(FP), R10
	MOVQ o3+24(FP), R11
	MOVQ a+32(FP), R12
	MOVQ b+40(FP), R13
	MOVQ c+48(FP), R14
	MOVQ d+56(FP), R15
	MOVQ n+64(FP), CX
	XORQ AX, AX
baloop:
	VMOVUPS (R12)(AX*4), Y0
	VMOVUPS (R13)(AX*4), Y1
	VMOVUPS (R14)(AX*4), Y2
	VMOVUPS (R15)(AX*4), Y3
	VSUBPS  Y2, Y1, Y5
	VADDPS  Y3, Y5, Y5
	VADDPS  Y2, Y1, Y6
	VSUBPS  Y0, Y6, Y6
	VADDPS  (R8)(AX*4), Y0, Y0
	VMOVUPS (R9)(AX*4), Y4
	VADDPS  Y5, Y4, Y5
	VMOVUPS (R10)(AX*4), Y4
	VADDPS  Y6, Y4, Y6
	VMOVUPS (R11)(AX*4), Y4
	VSUBPS  Y3, Y4, Y7
	VMOVUPS Y0, (R8)(AX*4)
	VMOVUPS Y5, (R9)(AX*4)
	VMOVUPS Y6, (R10)(AX*4)
	VMOVUPS Y7, (R11)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     baloop
	VZEROUPPER
	RET

// func wgAx8(o0, o1, o2, o3, a, b *float32, n int)
// o0 = a, o1 = a+b, o2 = a−b, o3 = −b
TEXT ·wgAx8(SB), NOSPLIT, $0-56
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ o2+16(FP), R10
	MOVQ o3+24(FP), R11
	MOVQ a+32(FP), R12
	MOVQ b+40(FP), R13
	MOVQ n+48(FP), CX
	XORQ AX, AX
	VXORPS Y8, Y8, Y8
aloop:
	VMOVUPS (R12)(AX*4), Y0
	VMOVUPS (R13)(AX*4), Y1
	VADDPS  Y1, Y0, Y5
	VSUBPS  Y1, Y0, Y6
	VSUBPS  Y1, Y8, Y7
	VMOVUPS Y0, (R8)(AX*4)
	VMOVUPS Y5, (R9)(AX*4)
	VMOVUPS Y6, (R10)(AX*4)
	VMOVUPS Y7, (R11)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     aloop
	VZEROUPPER
	RET

// func wgATx8(o0, o1, a, b, c, d, bias *float32, n int)
// o0 = ((a+b)+c), o1 = ((b−c)−d), each + bias when bias is not nil
TEXT ·wgATx8(SB), NOSPLIT, $0-64
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ a+16(FP), R12
	MOVQ b+24(FP), R13
	MOVQ c+32(FP), R14
	MOVQ d+40(FP), R15
	MOVQ bias+48(FP), DX
	MOVQ n+56(FP), CX
	XORQ AX, AX
	TESTQ DX, DX
	JZ   atloop
atbloop:
	VMOVUPS (R12)(AX*4), Y0
	VMOVUPS (R13)(AX*4), Y1
	VMOVUPS (R14)(AX*4), Y2
	VMOVUPS (R15)(AX*4), Y3
	VMOVUPS (DX)(AX*4), Y4
	VADDPS  Y1, Y0, Y5
	VADDPS  Y2, Y5, Y5
	VADDPS  Y4, Y5, Y5
	VSUBPS  Y2, Y1, Y6
	VSUBPS  Y3, Y6, Y6
	VADDPS  Y4, Y6, Y6
	VMOVUPS Y5, (R8)(AX*4)
	VMOVUPS Y6, (R9)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     atbloop
	VZEROUPPER
	RET
atloop:
	VMOVUPS (R12)(AX*4), Y0
	VMOVUPS (R13)(AX*4), Y1
	VMOVUPS (R14)(AX*4), Y2
	VMOVUPS (R15)(AX*4), Y3
	VADDPS  Y1, Y0, Y5
	VADDPS  Y2, Y5, Y5
	VSUBPS  Y2, Y1, Y6
	VSUBPS  Y3, Y6, Y6
	VMOVUPS Y5, (R8)(AX*4)
	VMOVUPS Y6, (R9)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     atloop
	VZEROUPPER
	RET
