#!/usr/bin/env python3
# thin3gen: prints the two unrolled AVX-512 kernels at the end of nn/thin3_amd64.s,
# thinGrad3x16 and thinScatter4x32 (see their comments there). Their text in that file
# is this script's output, after the line "The two kernels below are unrolled by
# nn/internal/thin3gen/gen.py". Run: python3 nn/internal/thin3gen/gen.py
L=[]
def e(s=""): L.append(s)
# ---------- thinGrad3x16 ----------
e("""
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
""")
def group(lbl, nz, nxt):
    e(f"{lbl}:")
    if nz==6:
        e("\tCMPQ CX, $384\n\tJLT  g16g3")
    else:
        e("\tTESTQ CX, CX\n\tJZ    g16done")
    for r in range(3):
        for z in range(nz):
            k=6*r+z
            e(f"\tVXORPS Z{k}, Z{k}, Z{k}")
    e("\tMOVQ R8, SI\n\tMOVQ R9, AX\n\tMOVQ R10, R13\n\tMOVQ R11, R15\n\tMOVQ BX, R14")
    e(f"{lbl}pix:")
    e("\tVBROADCASTSS (R15), Z31")
    for r,base in enumerate(["SI","AX","R13"]):
        for z in range(nz):
            e(f"\tVFMADD231PS {64*z}({base}), Z31, Z{6*r+z}")
    e("\tADDQ $4, R15\n\tADDQ DX, SI\n\tADDQ DX, AX\n\tADDQ DX, R13\n\tDECQ R14\n\tJNZ  "+lbl+"pix")
    for r,idx in enumerate(["(DI)","(DI)(R12*1)","(DI)(R12*2)"]):
        for z in range(nz):
            k=6*r+z
            off=f"{64*z}" if z else ""
            e(f"\tVADDPS {off}{idx}, Z{k}, Z{k}")
            e(f"\tVMOVUPS Z{k}, {off}{idx}")
    b=64*nz
    e(f"\tADDQ ${b}, DI\n\tADDQ ${b}, R8\n\tADDQ ${b}, R9\n\tADDQ ${b}, R10\n\tSUBQ ${b}, CX\n\tJMP  {nxt}")
    e()
group("g16g6",6,"g16g6")
group("g16g3",3,"g16g3")
e("g16done:\n\tVZEROUPPER\n\tRET")

# ---------- thinScatter4x32 ----------
e("""
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
""")
for t in range(9):
    e(f"\tVMOVUPS {128*t}(R11), Z{14+2*t}")
    e(f"\tVMOVUPS {128*t+64}(R11), Z{15+2*t}")
e("\tMOVQ d0+8(FP), R8\n\tMOVQ d1+16(FP), R9\n\tMOVQ d2+24(FP), R10\n\tMOVQ DI, SI\n\tMOVQ BX, R14")
e("s32block:")
for z in range(8):
    e(f"\tVXORPS Z{z}, Z{z}, Z{z}")
bc=0
for r,base in enumerate(["R8","R9","R10"]):
    for m in range(6):
        reg=8+bc%4; bc+=1
        e(f"\tVBROADCASTSS {4*m}({base}), Z{reg}")
        for k in range(3):
            j=m-k
            if 0<=j<4:
                t=3*r+k
                e(f"\tVFMADD231PS Z{14+2*t}, Z{reg}, Z{2*j}")
                e(f"\tVFMADD231PS Z{15+2*t}, Z{reg}, Z{2*j+1}")
# store: pixel j at SI + j*CX
e("\tVMOVUPS Z0, (SI)\n\tVMOVUPS Z1, 64(SI)")
e("\tVMOVUPS Z2, (SI)(CX*1)\n\tVMOVUPS Z3, 64(SI)(CX*1)")
e("\tVMOVUPS Z4, (SI)(CX*2)\n\tVMOVUPS Z5, 64(SI)(CX*2)")
e("\tLEAQ (SI)(CX*2), R13\n\tVMOVUPS Z6, (R13)(CX*1)\n\tVMOVUPS Z7, 64(R13)(CX*1)")
e("\tADDQ DX, SI\n\tADDQ $16, R8\n\tADDQ $16, R9\n\tADDQ $16, R10\n\tDECQ R14\n\tJNZ  s32block")
e("\tADDQ $1152, R11\n\tADDQ $128, DI\n\tDECQ R12\n\tJNZ  s32group")
e("\ns32done:\n\tVZEROUPPER\n\tRET")
print("\n".join(L))
