//go:build !amd64 || purego

package nn

// wgAsm is false: there are no assembly transforms on this platform.
var wgAsm = false

func wgBTx8(o0, o1, o2, o3, a, b, c, d *float32, n int)   { panic("nn: no assembly") }
func wgBx8(o0, o1, o2, o3, a, b, c, d *float32, n int)    { panic("nn: no assembly") }
func wgBAddx8(o0, o1, o2, o3, a, b, c, d *float32, n int) { panic("nn: no assembly") }
func wgAx8(o0, o1, o2, o3, a, b *float32, n int)          { panic("nn: no assembly") }
func wgATx8(o0, o1, a, b, c, d, bias *float32, n int)     { panic("nn: no assembly") }

// normAsm is false: there are no assembly channel loops on this platform.
var normAsm = false

func chanSumx8(acc *float64, r *float32, c, c8, n int)                 { panic("nn: no assembly") }
func chanSumSqx8(acc, mean *float64, r *float32, c, c8, n int)         { panic("nn: no assembly") }
func chanGradSumsx8(sb, sg *float64, dy, xh *float32, c, c8, n int)    { panic("nn: no assembly") }
func chanNormalizex8(y, xh, x, mu, s, gam, bet *float32, c, c8, n int) { panic("nn: no assembly") }
func chanInputGradx8(dx, dy, xh, kc, a, b *float32, c, c8, n int)      { panic("nn: no assembly") }

// thinAsm is false: there are no row kernels for the thin layers here.
var thinAsm = false

func thinDotRowx8(y, x0, x1, x2, w0, w1, w2 *float32, bias float32, l, c, n int) {
	panic("nn: no assembly")
}
func thinScatterRowx8(dx, d0, d1, d2, v *float32, c, n int) { panic("nn: no assembly") }
func thinGradRowx8(acc, x, dy *float32, l, c, n int)        { panic("nn: no assembly") }

// colSumAsm is false: colAccum sums in Go here.
var colSumAsm = false

func colSum32(acc *float64, m *float32, rows, stride int) { panic("nn: no assembly") }

var colSumAsm512 = false

func colSum32x16(acc *float64, m *float32, rows, stride int) { panic("nn: no assembly") }
func colSum8(acc *float64, m *float32, rows, stride int)     { panic("nn: no assembly") }

var thinAsm512 = false

func thinDot8x8(y, x, w *float32, bias float32, l, c, n, xrs, wrs, nr int) {
	panic("nn: no assembly")
}
func thinDot8x16(y, x, w *float32, bias float32, l, c, n, xrs, wrs, nr int) {
	panic("nn: no assembly")
}
func thinGrad3x16(acc, x0, x1, x2, dy *float32, c, n int)  { panic("nn: no assembly") }
func thinScatter4x32(dx, d0, d1, d2, v *float32, c, n int) { panic("nn: no assembly") }

func wg4Gx4(o *[6]*float32, a, b, c *float32, k *[6]float64, n int) { panic("nn: no assembly") }
func wg4GTx4(o0, o1, o2 *float32, in *[6]*float32, k *[6]float64, n int) {
	panic("nn: no assembly")
}
