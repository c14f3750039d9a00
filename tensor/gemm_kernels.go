package tensor

import (
	"unsafe"

	"github.com/latent-ml/latent/tensor/internal/kernel"
)

// Blocking. kc·NR·size (the B sliver) stays in L1, mc·kc·size (the A block) in L2.
// Tuned on AMD Zen 5 (48 KiB L1d, 1 MiB L2 per core); sound on any x86-64 with
// at least 32 KiB L1d and 512 KiB L2.
var (
	gemmS512 = gemmKernel[float32]{isa: kernel.AVX512, mr: 14, nr: 32, kc: 256, mc: 280, nc: 4096,
		tile: tileS512, packA: packAS512, packB: packBS512, direct: directS512, strided: stridedS512}
	gemmS256 = gemmKernel[float32]{isa: kernel.AVX2, mr: 6, nr: 16, kc: 256, mc: 192, nc: 4096,
		tile: tileS256, packA: packAS256, packB: packBS256, direct: directS256, strided: stridedS256}
	gemmSGen = gemmKernel[float32]{isa: kernel.Generic, mr: 4, nr: 4, kc: 256, mc: 128, nc: 4096,
		tile: tileGeneric[float32], packA: gemmPackA[float32], packB: gemmPackB[float32]}
	gemmD512 = gemmKernel[float64]{isa: kernel.AVX512, mr: 14, nr: 16, kc: 256, mc: 140, nc: 4096,
		tile: tileD512, packA: gemmPackA[float64], packB: packBD512}
	gemmD256 = gemmKernel[float64]{isa: kernel.AVX2, mr: 6, nr: 8, kc: 256, mc: 96, nc: 4096,
		tile: tileD256, packA: gemmPackA[float64], packB: gemmPackB[float64]}
	gemmDGen = gemmKernel[float64]{isa: kernel.Generic, mr: 4, nr: 4, kc: 256, mc: 128, nc: 4096,
		tile: tileGeneric[float64], packA: gemmPackA[float64], packB: gemmPackB[float64]}
)

// gemmISA is the micro-kernel family in use; see GemmKernel.
var gemmISA = kernel.Default

// GemmKernel returns the name of the micro-kernels Gemm and Gemm64 use on this
// machine: "avx512", "avx2" or "generic". The environment variable
// LATENT_KERNEL=generic|avx2|avx512, read once at start-up, forces a path; a path the
// CPU cannot run falls back to the best one below it.
func GemmKernel() string { return gemmISA.String() }

// setGemmKernel switches the kernel family (for tests) and returns a function that
// restores the previous one. It reports false, and changes nothing, when the CPU
// cannot run isa. It must not be called while a GEMM is running.
func setGemmKernel(isa kernel.ISA) (restore func(), ok bool) {
	if !kernel.Supported(isa) {
		return func() {}, false
	}
	old := gemmISA
	gemmISA = isa
	return func() { gemmISA = old }, true
}

func gemmKernel32() *gemmKernel[float32] {
	switch gemmISA {
	case kernel.AVX512:
		return &gemmS512
	case kernel.AVX2:
		return &gemmS256
	}
	return &gemmSGen
}

func gemmKernel64() *gemmKernel[float64] {
	switch gemmISA {
	case kernel.AVX512:
		return &gemmD512
	case kernel.AVX2:
		return &gemmD256
	}
	return &gemmDGen
}

func tileS512(mr, nr, k int, a, b, c *float32, ldc int, alpha, beta float32, loadc int) {
	kernel.SgemmAVX512[mr](k, a, b, c, ldc, alpha, beta, uint32(uint64(1)<<nr-1), loadc)
}

func tileD512(mr, nr, k int, a, b, c *float64, ldc int, alpha, beta float64, loadc int) {
	kernel.DgemmAVX512[mr](k, a, b, c, ldc, alpha, beta, uint32(1)<<nr-1, loadc)
}

// packAS512 packs op(A) for the 14×32 AVX-512 kernel. A not transposed is a
// transpose into the panel, done 16×16 in registers.
func packAS512(dst []float32, a *gemmOp[float32], MR, i0, cnt, p0, kc int) {
	_ = dst[kc*MR-1]
	if a.trans {
		// op(A)[i, p] = A[p, i]: each panel column is cnt contiguous elements of A.
		src := a.data[p0*a.ld+i0:]
		_ = src[(kc-1)*a.ld+cnt-1]
		kernel.PackNarrowS512(&dst[0], &src[0], a.ld, kc, MR, 1<<cnt-1)
		return
	}
	src := a.data[i0*a.ld+p0:]
	_ = src[(cnt-1)*a.ld+kc-1]
	kernel.PackTransS512(&dst[0], &src[0], a.ld, cnt, kc, MR, 1<<MR-1)
}

// packBS512 packs op(B) for the 14×32 AVX-512 kernel: B as stored is a masked
// row copy, Bᵀ a transpose in two 16-row halves.
func packBS512(dst []float32, b *gemmOp[float32], NR, j0, cnt, p0, kc int) {
	_ = dst[kc*NR-1]
	if !b.trans {
		src := b.data[p0*b.ld+j0:]
		_ = src[(kc-1)*b.ld+cnt-1]
		kernel.PackCopyS512(&dst[0], &src[0], b.ld, kc, uint32(uint64(1)<<cnt-1))
		return
	}
	src := b.data[j0*b.ld+p0:]
	_ = src[(cnt-1)*b.ld+kc-1]
	kernel.PackTransS512(&dst[0], &src[0], b.ld, min(cnt, 16), kc, NR, 0xffff)
	hi := &src[0] // not read when the second half is empty
	if cnt > 16 {
		hi = &src[16*b.ld]
	}
	kernel.PackTransS512(&dst[16], hi, b.ld, max(cnt-16, 0), kc, NR, 0xffff)
}

// packBD512 packs op(B) for the 14×16 float64 AVX-512 kernel.
func packBD512(dst []float64, b *gemmOp[float64], NR, j0, cnt, p0, kc int) {
	if b.trans {
		gemmPackB(dst, b, NR, j0, cnt, p0, kc)
		return
	}
	_ = dst[kc*NR-1]
	src := b.data[p0*b.ld+j0:]
	_ = src[(kc-1)*b.ld+cnt-1]
	kernel.PackCopyD512(&dst[0], &src[0], b.ld, kc, uint32(1)<<cnt-1)
}

// packAS256 packs op(A) for the 6×16 AVX2 kernel; A not transposed goes through
// 8×8 register transposes.
// A transposed with all six rows present is six contiguous values per column.
func packAS256(dst []float32, a *gemmOp[float32], MR, i0, cnt, p0, kc int) {
	if a.trans {
		if MR != 6 || cnt != 6 {
			gemmPackA(dst, a, MR, i0, cnt, p0, kc)
			return
		}
		_ = dst[kc*6-1]
		src := a.data[p0*a.ld+i0:]
		_ = src[(kc-1)*a.ld+5]
		kernel.PackRows6S256(&dst[0], &src[0], a.ld, kc)
		return
	}
	_ = dst[kc*MR-1]
	src := a.data[i0*a.ld+p0:]
	_ = src[(cnt-1)*a.ld+kc-1]
	kernel.PackTrans6S256(&dst[0], &src[0], a.ld, cnt, kc, MR, &gemmMask32[0][0])
}

// packBS256 packs op(B) for the 6×16 AVX2 kernel.
func packBS256(dst []float32, b *gemmOp[float32], NR, j0, cnt, p0, kc int) {
	_ = dst[kc*NR-1]
	if !b.trans {
		src := b.data[p0*b.ld+j0:]
		_ = src[(kc-1)*b.ld+cnt-1]
		kernel.PackCopyS256(&dst[0], &src[0], b.ld, kc, &gemmMask32[cnt][0])
		return
	}
	src := b.data[j0*b.ld+p0:]
	_ = src[(cnt-1)*b.ld+kc-1]
	kernel.PackTrans8S256(&dst[0], &src[0], b.ld, min(cnt, 8), kc, NR, &gemmMask32[0][0])
	hi := &src[0] // not read when the second half is empty
	if cnt > 8 {
		hi = &src[8*b.ld]
	}
	kernel.PackTrans8S256(&dst[8], hi, b.ld, max(cnt-8, 0), kc, NR, &gemmMask32[0][0])
}

// AVX2 has no mask registers: partial tiles pass a lane mask for VMASKMOVPS.
var (
	gemmMask32 [17][16]int32
	gemmMask64 [8][8]int64
)

func init() {
	for n := range gemmMask32 {
		for j := 0; j < n; j++ {
			gemmMask32[n][j] = -1
		}
	}
	for n := range gemmMask64 {
		for j := 0; j < n; j++ {
			gemmMask64[n][j] = -1
		}
	}
}

func tileS256(mr, nr, k int, a, b, c *float32, ldc int, alpha, beta float32, loadc int) {
	var mask *int32
	if nr < 16 {
		mask = &gemmMask32[nr][0]
	}
	kernel.SgemmAVX2[mr](k, a, b, c, ldc, alpha, beta, mask, loadc)
}

func directS256(mr, nr, k int, a, b, c *float32, lda, ldc int, alpha, beta float32, loadc int) {
	var mask *int32
	if nr < 16 {
		mask = &gemmMask32[nr][0]
	}
	kernel.SgemmAVX2Direct[mr](k, a, b, c, lda, ldc, alpha, beta, mask, loadc)
}

func directS512(mr, nr, k int, a, b, c *float32, lda, ldc int, alpha, beta float32, loadc int) {
	kernel.SgemmAVX512Direct[mr](k, a, b, c, lda, ldc, alpha, beta, uint32(uint64(1)<<nr-1), loadc)
}

func stridedS512(mr, k int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32, loadc int) {
	kernel.SgemmAVX512Strided[mr](k, a, b, c, lda, ldb, ldc, alpha, beta, 0xffffffff, loadc)
}

func stridedS256(mr, k int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32, loadc int) {
	kernel.SgemmAVX2Strided[mr](k, a, b, c, lda, ldb, ldc, alpha, beta, nil, loadc)
}

func tileD256(mr, nr, k int, a, b, c *float64, ldc int, alpha, beta float64, loadc int) {
	var mask *int64
	if nr < 8 {
		mask = &gemmMask64[nr][0]
	}
	kernel.DgemmAVX2[mr](k, a, b, c, ldc, alpha, beta, mask, loadc)
}

// tileGeneric is the portable micro-kernel: a 4×4 tile in scalar Go, one row of C at
// a time (four independent sums; more make the Go compiler spill). Like the
// assembly kernels it accumulates each element over p in order, starting from zero,
// then applies alpha and beta once.
func tileGeneric[T gemmFloat](mr, nr, k int, a, b, c *T, ldc int, alpha, beta T, loadc int) {
	const MR, NR = 4, 4
	ap := unsafe.Slice(a, k*MR)
	bp := unsafe.Slice(b, k*NR)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		var c0, c1, c2, c3 T
		for p := 0; p < k; p++ {
			av := ap[p*MR+i]
			bv := bp[p*NR : p*NR+NR : p*NR+NR]
			c0 += av * bv[0]
			c1 += av * bv[1]
			c2 += av * bv[2]
			c3 += av * bv[3]
		}
		acc := [NR]T{c0, c1, c2, c3}
		row := cs[i*ldc : i*ldc+nr]
		for j := range row {
			if loadc != 0 {
				row[j] = alpha*acc[j] + beta*row[j]
			} else {
				row[j] = alpha * acc[j]
			}
		}
	}
}
