//go:build !purego

package nn

//go:noescape
func wg4Gx4(o *[6]*float32, a, b, c *float32, k *[6]float64, n int)

//go:noescape
func wg4GTx4(o0, o1, o2 *float32, in *[6]*float32, k *[6]float64, n int)
