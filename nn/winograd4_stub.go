//go:build !amd64 || purego

package nn

// wg4Asm is false: there are no assembly transforms on this platform.
var wg4Asm = false

// wg4Asm512 is false: there are no AVX-512 kernels on this platform.
var wg4Asm512 = false

func wg4BTx8(o, in *wgVecs, n int)                { panic("nn: no assembly") }
func wg4Bx8(o, in *wgVecs, n int)                 { panic("nn: no assembly") }
func wg4BAddx8(o, in *wgVecs, n int)              { panic("nn: no assembly") }
func wg4ATx8(o, in *wgVecs, bias *float32, n int) { panic("nn: no assembly") }
func wg4ATNx8(o, in *wgVecs, n int)               { panic("nn: no assembly") }
func wg4Ax8(o, in *wgVecs, n int)                 { panic("nn: no assembly") }

// The whole-tile transforms (winograd_amd64.go picks the x8 or x16 kernel);
// never called here, where wg4Asm is false.
func wg4InTile(pix *[36]*float32, base *float32, stride int, scr *float32, c int) {
	panic("nn: no assembly")
}
func wg4OutTile(pix *[36]*float32, base *float32, stride int, bias *float32, scr *float32, c int) {
	panic("nn: no assembly")
}
func wg4GradOutTile(pix *[36]*float32, base *float32, stride int, scr *float32, c int) {
	panic("nn: no assembly")
}
func wg4GradInTile(pix *[36]*float32, base *float32, stride int, scr *float32, c int) {
	panic("nn: no assembly")
}

var hasAVX512F = false
