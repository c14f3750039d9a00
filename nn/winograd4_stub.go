//go:build !amd64 || purego

package nn

// wg4Asm is false: there are no assembly transforms on this platform.
var wg4Asm = false

func wg4BTx8(o, in *wgVecs, n int)                { panic("nn: no assembly") }
func wg4Bx8(o, in *wgVecs, n int)                 { panic("nn: no assembly") }
func wg4BAddx8(o, in *wgVecs, n int)              { panic("nn: no assembly") }
func wg4ATx8(o, in *wgVecs, bias *float32, n int) { panic("nn: no assembly") }
func wg4ATNx8(o, in *wgVecs, n int)               { panic("nn: no assembly") }
func wg4Ax8(o, in *wgVecs, n int)                 { panic("nn: no assembly") }

func wg4InTilex8(pix *[36]*float32, base *float32, stride int, scr *float32, n int) {
	panic("nn: no assembly")
}
func wg4OutTilex8(pix *[36]*float32, base *float32, stride int, bias *float32, scr *float32, n int) {
	panic("nn: no assembly")
}
func wg4GradOutTilex8(pix *[36]*float32, base *float32, stride int, scr *float32, n int) {
	panic("nn: no assembly")
}
func wg4GradInTilex8(pix *[36]*float32, base *float32, stride int, scr *float32, n int) {
	panic("nn: no assembly")
}
