package nn

import (
	"fmt"

	"github.com/latent-ml/latent/tensor"
)

// The joins of a network that is not a plain stack (a U-Net's residual
// connections, skip connections and per-example time embedding): functions of
// two inputs, each with its backward beside it. Images are NHWC rows.

// Add sets dst = a + b element-wise (a residual connection) and returns dst
// (allocated or resized when needed; it may be a or b). The backward pass of a
// sum hands dy unchanged to both inputs:
//
//	∂L/∂a = ∂L/∂b = dy.
//
// It panics if a and b differ in shape.
func Add(dst, a, b *tensor.Mat) *tensor.Mat {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("nn: Add: %d×%d + %d×%d", a.Rows, a.Cols, b.Rows, b.Cols))
	}
	if dst != a && dst != b {
		dst = tensor.Reuse(dst, a.Rows, a.Cols)
	}
	j := newRowJob(addJob)
	j.a, j.b, j.c = dst, a, b
	forRows(a.Rows, a.Cols, j)
	return dst
}

// addJob sets rows [lo, hi) of j.a to j.b + j.c, by tensor.Add's vector loop in
// one pass (each sum one float32 addition: the bits of the scalar loop); j.a may
// be j.b or j.c.
func addJob(j *rowJob, lo, hi int) {
	for i := lo; i < hi; i++ {
		tensor.Add(j.a.Row(i), j.b.Row(i), j.c.Row(i))
	}
}

// ConcatChannels sets dst to the images of a (ca channels) and b (cb channels)
// stacked along the channels, position by position (PyTorch's torch.cat(dim=1)
// for the U-Net's skip connections):
//
//	dst[n, p, 0:ca] = a[n, p, :],   dst[n, p, ca:ca+cb] = b[n, p, :].
//
// It returns dst (allocated or resized when needed) and panics unless a and b
// hold the same number of rows and positions.
func ConcatChannels(dst, a, b *tensor.Mat, ca, cb int) *tensor.Mat {
	if ca < 1 || cb < 1 || a.Cols%ca != 0 || b.Cols%cb != 0 || a.Cols/ca != b.Cols/cb || a.Rows != b.Rows {
		panic(fmt.Sprintf("nn: ConcatChannels: %d×%d with %d channels and %d×%d with %d", a.Rows, a.Cols, ca, b.Rows, b.Cols, cb))
	}
	pos, c := a.Cols/ca, ca+cb
	dst = tensor.Reuse(dst, a.Rows, pos*c)
	for i := 0; i < a.Rows; i++ {
		d, ar, br := dst.Row(i), a.Row(i), b.Row(i)
		for p := range pos {
			copy(d[p*c:p*c+ca], ar[p*ca:(p+1)*ca])
			copy(d[p*c+ca:(p+1)*c], br[p*cb:(p+1)*cb])
		}
	}
	return dst
}

// SplitChannels is the backward pass of ConcatChannels: it splits dy back into
// the gradients of its two inputs,
//
//	da[n, p, :] = dy[n, p, 0:ca],   db[n, p, :] = dy[n, p, ca:ca+cb],
//
// and returns da and db (allocated or resized when needed).
func SplitChannels(da, db, dy *tensor.Mat, ca, cb int) (*tensor.Mat, *tensor.Mat) {
	c := ca + cb
	if ca < 1 || cb < 1 || dy.Cols%c != 0 {
		panic(fmt.Sprintf("nn: SplitChannels: %d×%d into %d + %d channels", dy.Rows, dy.Cols, ca, cb))
	}
	pos := dy.Cols / c
	da = tensor.Reuse(da, dy.Rows, pos*ca)
	db = tensor.Reuse(db, dy.Rows, pos*cb)
	for i := 0; i < dy.Rows; i++ {
		d, ar, br := dy.Row(i), da.Row(i), db.Row(i)
		for p := range pos {
			copy(ar[p*ca:(p+1)*ca], d[p*c:p*c+ca])
			copy(br[p*cb:(p+1)*cb], d[p*c+ca:(p+1)*c])
		}
	}
	return da, db
}

// AddChannelVec sets dst to the images x (rows of positions × C channels) with
// the per-example vector v (one row of C values per example) added at every
// position: how a U-Net block adds its projection of the time embedding,
//
//	dst[n, p, k] = x[n, p, k] + v[n, k].
//
// Its backward pass is ∂L/∂x = dy and ∂L/∂v = ChannelVecGrad(dy). It returns
// dst (allocated or resized when needed; it may be x) and panics on mismatched
// shapes.
func AddChannelVec(dst, x, v *tensor.Mat) *tensor.Mat {
	c := v.Cols
	if v.Rows != x.Rows || c < 1 || x.Cols%c != 0 {
		panic(fmt.Sprintf("nn: AddChannelVec: images %d×%d, vectors %d×%d", x.Rows, x.Cols, v.Rows, v.Cols))
	}
	if dst != x {
		dst = tensor.Reuse(dst, x.Rows, x.Cols)
	}
	for i := 0; i < x.Rows; i++ {
		d, xr, vr := dst.Row(i), x.Row(i), v.Row(i)
		for p := 0; p < len(xr); p += c {
			for k, b := range vr {
				d[p+k] = xr[p+k] + b
			}
		}
	}
	return dst
}

// ChannelVecGrad returns ∂L/∂v of AddChannelVec: the sum of dy over the
// positions of every example and channel, accumulated in float64 in position
// order,
//
//	dv[n, k] = Σ_p dy[n, p, k],
//
// in dv (allocated or resized to dy.Rows × c).
func ChannelVecGrad(dv, dy *tensor.Mat, c int) *tensor.Mat {
	if c < 1 || dy.Cols%c != 0 {
		panic(fmt.Sprintf("nn: ChannelVecGrad: %d values per row into %d channels", dy.Cols, c))
	}
	dv = tensor.Reuse(dv, dy.Rows, c)
	const piece = 64 // channels summed at once, on the stack: no allocation
	for i := 0; i < dy.Rows; i++ {
		r, d := dy.Row(i), dv.Row(i)
		for k0 := 0; k0 < c; k0 += piece {
			k1 := min(k0+piece, c)
			var acc [piece]float64
			for p := 0; p < len(r); p += c {
				for k, g := range r[p+k0 : p+k1] {
					acc[k] += float64(g)
				}
			}
			for k := k0; k < k1; k++ {
				d[k] = float32(acc[k-k0])
			}
		}
	}
	return dv
}
