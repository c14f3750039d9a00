//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasBMI2 && hasAVX2
)

// SgemmAVX512 and its siblings hold the kernels by tile height: entry mr computes an
// mr-row tile (entry 0 is nil). The packed A panel is always MR rows high.
var (
	SgemmAVX512 = [...]func(k int, a, b, c *float32, ldc int, alpha, beta float32, mask uint32, loadc int){
		nil, Sgemm512x1, Sgemm512x2, Sgemm512x3, Sgemm512x4, Sgemm512x5, Sgemm512x6, Sgemm512x7,
		Sgemm512x8, Sgemm512x9, Sgemm512x10, Sgemm512x11, Sgemm512x12, Sgemm512x13, Sgemm512x14}
	SgemmAVX2 = [...]func(k int, a, b, c *float32, ldc int, alpha, beta float32, mask *int32, loadc int){
		nil, Sgemm256x1, Sgemm256x2, Sgemm256x3, Sgemm256x4, Sgemm256x5, Sgemm256x6}
	DgemmAVX512 = [...]func(k int, a, b, c *float64, ldc int, alpha, beta float64, mask uint32, loadc int){
		nil, Dgemm512x1, Dgemm512x2, Dgemm512x3, Dgemm512x4, Dgemm512x5, Dgemm512x6, Dgemm512x7,
		Dgemm512x8, Dgemm512x9, Dgemm512x10, Dgemm512x11, Dgemm512x12, Dgemm512x13, Dgemm512x14}
	DgemmAVX2 = [...]func(k int, a, b, c *float64, ldc int, alpha, beta float64, mask *int64, loadc int){
		nil, Dgemm256x1, Dgemm256x2, Dgemm256x3, Dgemm256x4, Dgemm256x5, Dgemm256x6}
	// SgemmAVX2Direct reads A where it is stored (row r at a + r·lda) instead of
	// from a packed panel; the FMAs are those of SgemmAVX2.
	SgemmAVX2Direct = [...]func(k int, a, b, c *float32, lda, ldc int, alpha, beta float32, mask *int32, loadc int){
		nil, Sgemm256dx1, Sgemm256dx2, Sgemm256dx3, Sgemm256dx4, Sgemm256dx5, Sgemm256dx6}
	// SgemmAVX2Strided reads both operands where they are stored: step p's
	// values of a transposed A at a + p·lda and its row of B at b + p·ldb; the
	// FMAs are those of SgemmAVX2.
	SgemmAVX2Strided = [...]func(k int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32, mask *int32, loadc int){
		nil, Sgemm256sx1, Sgemm256sx2, Sgemm256sx3, Sgemm256sx4, Sgemm256sx5, Sgemm256sx6}
	// SgemmAVX512Direct is SgemmAVX2Direct for AVX-512 (a mask as SgemmAVX512's);
	// the FMAs are those of SgemmAVX512.
	SgemmAVX512Direct = [...]func(k int, a, b, c *float32, lda, ldc int, alpha, beta float32, mask uint32, loadc int){
		nil, Sgemm512dx1, Sgemm512dx2, Sgemm512dx3, Sgemm512dx4, Sgemm512dx5, Sgemm512dx6, Sgemm512dx7,
		Sgemm512dx8, Sgemm512dx9, Sgemm512dx10, Sgemm512dx11, Sgemm512dx12, Sgemm512dx13, Sgemm512dx14}
	// SgemmAVX512Strided is SgemmAVX2Strided for AVX-512 (32 columns of B, a mask
	// as SgemmAVX512's); the FMAs are those of SgemmAVX512.
	SgemmAVX512Strided = [...]func(k int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32, mask uint32, loadc int){
		nil, Sgemm512sx1, Sgemm512sx2, Sgemm512sx3, Sgemm512sx4, Sgemm512sx5, Sgemm512sx6, Sgemm512sx7,
		Sgemm512sx8, Sgemm512sx9, Sgemm512sx10, Sgemm512sx11, Sgemm512sx12, Sgemm512sx13, Sgemm512sx14}
)
