//go:build !purego

#include "textflag.h"

// func addVec(dst, a, b *float32, n int)
// dst[i] = a[i] + b[i] for i < n, n a multiple of 8: four vectors per step, then
// one. dst may be a or b (each element is read before it is written).
TEXT ·addVec(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), BX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
	LEAQ -128(CX), DX
four3:
	CMPQ AX, DX
	JG   one3
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VMOVUPS 64(SI)(AX*1), Y2
	VMOVUPS 96(SI)(AX*1), Y3
	VADDPS  (BX)(AX*1), Y0, Y0
	VADDPS  32(BX)(AX*1), Y1, Y1
	VADDPS  64(BX)(AX*1), Y2, Y2
	VADDPS  96(BX)(AX*1), Y3, Y3
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	ADDQ    $128, AX
	JMP     four3
one3:
	CMPQ AX, CX
	JGE  done3
	VMOVUPS (SI)(AX*1), Y0
	VADDPS  (BX)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	JMP     one3
done3:
	VZEROUPPER
	RET
