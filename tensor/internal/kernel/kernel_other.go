//go:build !amd64 || purego

package kernel

const (
	hasAVX2   = false
	hasAVX512 = false
)

// Without assembly the tables are empty; Supported reports false for AVX2 and AVX512
// and package tensor never indexes them.
var (
	SgemmAVX512 [15]func(k int, a, b, c *float32, ldc int, alpha, beta float32, mask uint32, loadc int)
	SgemmAVX2   [7]func(k int, a, b, c *float32, ldc int, alpha, beta float32, mask *int32, loadc int)
	DgemmAVX512 [15]func(k int, a, b, c *float64, ldc int, alpha, beta float64, mask uint32, loadc int)
	DgemmAVX2   [7]func(k int, a, b, c *float64, ldc int, alpha, beta float64, mask *int64, loadc int)

	SgemmAVX2Direct    [7]func(k int, a, b, c *float32, lda, ldc int, alpha, beta float32, mask *int32, loadc int)
	SgemmAVX2Strided   [7]func(k int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32, mask *int32, loadc int)
	SgemmAVX512Direct  [15]func(k int, a, b, c *float32, lda, ldc int, alpha, beta float32, mask uint32, loadc int)
	SgemmAVX512Strided [15]func(k int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32, mask uint32, loadc int)
)

// PackCopyS512 and the other packing routines exist only with assembly; package
// tensor calls them only when Supported(AVX512).
func PackCopyS512(dst, src *float32, ld, rows int, mask uint32) { panic("kernel: no assembly") }

func PackCopyD512(dst, src *float64, ld, rows int, mask uint32) { panic("kernel: no assembly") }

func PackTransS512(dst, src *float32, ld, cnt, kc, w int, lanes uint32) {
	panic("kernel: no assembly")
}

func PackNarrowS512(dst, src *float32, ld, rows, w int, mask uint32) { panic("kernel: no assembly") }

func PackCopyS256(dst, src *float32, ld, rows int, mask *int32) { panic("kernel: no assembly") }

func PackTrans8S256(dst, src *float32, ld, cnt, kc, w int, masks *int32) {
	panic("kernel: no assembly")
}

func PackTrans6S256(dst, src *float32, ld, cnt, kc, w int, masks *int32) {
	panic("kernel: no assembly")
}

func PackRows6S256(dst, src *float32, ld, kc int) { panic("kernel: no assembly") }

// FMAPeak256 and FMAPeak512 exist only with assembly.
func FMAPeak256(n int, out *float32) { panic("kernel: no assembly") }

func FMAPeak512(n int, out *float32) { panic("kernel: no assembly") }
