//go:build !amd64 || purego

package nn

// wgAsm is false: there are no assembly transforms on this platform.
var wgAsm = false

func wgBTx8(o0, o1, o2, o3, a, b, c, d *float32, n int)   { panic("nn: no assembly") }
func wgBx8(o0, o1, o2, o3, a, b, c, d *float32, n int)    { panic("nn: no assembly") }
func wgBAddx8(o0, o1, o2, o3, a, b, c, d *float32, n int) { panic("nn: no assembly") }
func wgAx8(o0, o1, o2, o3, a, b *float32, n int)          { panic("nn: no assembly") }
func wgATx8(o0, o1, a, b, c, d, bias *float32, n int)     { panic("nn: no assembly") }
