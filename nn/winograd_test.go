package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// wgGeoms run by Winograd: partial tiles, every pad that keeps the output
// non-empty, and channel counts past one transform chunk (wgChunk).
var wgGeoms = []ConvGeom{
	{InH: 7, InW: 7, InC: 64, OutC: 64, K: 3, Stride: 1, Pad: 1},
	{InH: 6, InW: 5, InC: 70, OutC: 66, K: 3, Stride: 1, Pad: 1},
	{InH: 5, InW: 8, InC: 16, OutC: 130, K: 3, Stride: 1, Pad: 0},
	{InH: 3, InW: 4, InC: 129, OutC: 24, K: 3, Stride: 1, Pad: 2},
}

// TestConvWinogradMatchesIm2col runs each Winograd geometry through both paths
// with the same weights, input and output gradient: y, ∂L/∂x, ∂L/∂W and ∂L/∂b
// agree to float32 rounding (relative to the largest value), with ∂L/∂W alone
// (NoInputGrad) and ∂L/∂x alone (NoParamGrad) giving the same values; with V
// kept from the forward pass and computed again in the backward pass (wgKeep).
func TestConvWinogradMatchesIm2col(t *testing.T) {
	defer func(k int) { wgKeep = k }(wgKeep)
	for _, keep := range []int{1 << 30, 0} {
		wgKeep = keep
		t.Run(fmt.Sprintf("keep%d", keep), func(t *testing.T) { forTiles(t, testConvWinogradMatchesIm2col) })
	}
}

// forTiles runs f with Conv2D on F(2×2, 3×3) and on F(4×4, 3×3).
func forTiles(t *testing.T, f func(t *testing.T)) {
	defer func(old int) { wgTileSize = old }(wgTileSize)
	for _, m := range []int{2, 4} {
		wgTileSize = m
		t.Run(fmt.Sprintf("F%dx%d", m, m), f)
	}
}

func testConvWinogradMatchesIm2col(t *testing.T) {
	s := rng.New(31)
	for _, g := range wgGeoms {
		if !useWinograd(g) {
			t.Fatalf("%+v: not a Winograd geometry", g)
		}
		wl := NewConv2D(g, He, s)
		s.FillNormal(wl.B.W, 0, 0.5)
		dl := NewConv2D(g, He, s)
		copy(dl.W.W, wl.W.W)
		copy(dl.B.W, wl.B.W)
		dl.direct = true
		x := randMat(s, 3, g.InH*g.InW*g.InC, 1)
		dy := randMat(s, 3, wl.OutDim(), 1)
		name := fmt.Sprintf("%+v", g)
		close := func(what string, got, want []float32) {
			t.Helper()
			var m float64
			for _, v := range want {
				m = max(m, math.Abs(float64(v)))
			}
			for i, v := range want {
				if d := math.Abs(float64(got[i] - v)); d > 2e-6*m*math.Sqrt(float64(9*max(g.InC, g.OutC))) {
					t.Fatalf("%s %s[%d]: Winograd %g, im2col %g (largest %g)", name, what, i, got[i], v, m)
				}
			}
		}
		close("y", wl.Forward(x).Data, dl.Forward(x).Data)
		dxw := append([]float32(nil), wl.Backward(dy).Data...)
		close("dx", dxw, dl.Backward(dy).Data)
		close("dW", wl.W.G, dl.W.G)
		close("db", wl.B.G, dl.B.G)
		gw := append([]float32(nil), wl.W.G...)
		wl.NoInputGrad = true
		clear(wl.W.G)
		if wl.Backward(dy) != nil {
			t.Fatalf("%s: NoInputGrad returned ∂L/∂x", name)
		}
		sameBits(t, name+" dW without dx", wl.W.G, gw)
		wl.NoInputGrad, wl.NoParamGrad = false, true
		clear(wl.W.G)
		sameBits(t, name+" dx without dW", wl.Backward(dy).Data, dxw)
		for _, v := range wl.W.G {
			if v != 0 {
				t.Fatalf("%s: NoParamGrad wrote ∂L/∂W", name)
			}
		}
	}
}

// TestConvWinogradNoAllocs: a warm forward and backward step allocates nothing,
// with V kept and with V computed again in the backward pass (wgKeep).
func TestConvWinogradNoAllocs(t *testing.T) {
	forTiles(t, testConvWinogradNoAllocs)
}

func testConvWinogradNoAllocs(t *testing.T) {
	defer func(k int) { wgKeep = k }(wgKeep)
	for _, keep := range []int{0, 1 << 30} {
		wgKeep = keep
		s := rng.New(32)
		g := wgGeoms[1]
		l := NewConv2D(g, He, s)
		x := randMat(s, 4, g.InH*g.InW*g.InC, 1)
		dy := randMat(s, 4, l.OutDim(), 1)
		noAllocs(t, fmt.Sprintf("Winograd conv step, V kept up to %d values", keep), func() {
			l.Forward(x)
			l.Backward(dy)
		})
	}
}

// TestConvIm2colNoAllocs: the im2col path (stride 2, blocks of patches) also
// allocates nothing on a warm step, with one worker and two.
func TestConvIm2colNoAllocs(t *testing.T) {
	s := rng.New(34)
	g := ConvGeom{InH: 12, InW: 12, InC: 24, OutC: 16, K: 3, Stride: 2, Pad: 1}
	l := NewConv2D(g, He, s)
	x := randMat(s, 6, g.InH*g.InW*g.InC, 1)
	dy := randMat(s, 6, l.OutDim(), 1)
	defer func(chunk, keep, rows int, impl bool) {
		convChunk, convKeep, convImplicitMinRows, convImplicit = chunk, keep, rows, impl
	}(convChunk, convKeep, convImplicitMinRows, convImplicit)
	convChunk = 20 * g.K * g.K * g.InC // blocks of 18 positions
	convImplicitMinRows = 0
	// Patches kept; not kept, read in place (forwardImplicit); not kept, built in blocks.
	for i, keep := range []int{2 << 20, 0, 0} {
		convKeep, convImplicit = keep, i < 2
		for _, w := range []int{1, 2} {
			withWorkers(w, func() {
				noAllocs(t, fmt.Sprintf("im2col conv step, %d workers, patches kept up to %d, read in place %v", w, keep, convImplicit), func() {
					l.Forward(x)
					l.Backward(dy)
				})
			})
		}
	}
}

// TestConvThinNoAllocs: the thin-output path (conv_thin.go), and the narrow
// patches of a one-channel input, allocate nothing on a warm step either, with
// one worker and two, in several blocks of examples.
func TestConvThinNoAllocs(t *testing.T) {
	s := rng.New(36)
	defer func(old int) { convChunk = old }(convChunk)
	for _, g := range []ConvGeom{
		{InH: 6, InW: 5, InC: 16, OutC: 1, K: 3, Stride: 1, Pad: 1},
		{InH: 9, InW: 7, InC: 1, OutC: 3, K: 5, Stride: 2, Pad: 4},
	} {
		convChunk = 2 * g.InH * g.InW * 9 // thin: blocks of 2 examples
		l := NewConv2D(g, He, s)
		x := randMat(s, 5, g.InH*g.InW*g.InC, 1)
		dy := randMat(s, 5, l.OutDim(), 1)
		for _, w := range []int{1, 2} {
			withWorkers(w, func() {
				noAllocs(t, fmt.Sprintf("%+v, %d workers", g, w), func() {
					l.Forward(x)
					l.Backward(dy)
				})
			})
		}
	}
}

// TestConvTransposeNoAllocs: a warm step of the transposed convolution, in
// blocks, allocates nothing, with one worker and two.
func TestConvTransposeNoAllocs(t *testing.T) {
	s := rng.New(35)
	l := NewConvTranspose2D(6, 6, 8, 12, 12, 4, 4, 2, 1, He, s)
	x := randMat(s, 5, 6*6*8, 1)
	dy := randMat(s, 5, l.OutDim(), 1)
	defer func(old int) { convChunk = old }(convChunk)
	convChunk = 10 * 4 * 4 * 4 // blocks of 10 input pixels
	for _, w := range []int{1, 2} {
		withWorkers(w, func() {
			noAllocs(t, fmt.Sprintf("transposed conv step, %d workers", w), func() {
				l.Forward(x)
				l.Backward(dy)
			})
		})
	}
}

// TestConvWinogradStridedInput: rows of x and dy that are views with a stride
// wider than a row give what contiguous copies do.
func TestConvWinogradStridedInput(t *testing.T) {
	forTiles(t, testConvWinogradStridedInput)
}

func testConvWinogradStridedInput(t *testing.T) {
	s := rng.New(33)
	g := wgGeoms[0]
	l := NewConv2D(g, He, s)
	n := g.InH * g.InW * g.InC
	wide := randMat(s, 2, n+5, 1)
	x := &tensor.Mat{Rows: 2, Cols: n, Stride: n + 5, Data: wide.Data[:n+5+n]}
	dwide := randMat(s, 2, l.OutDim()+3, 1)
	dy := &tensor.Mat{Rows: 2, Cols: l.OutDim(), Stride: l.OutDim() + 3, Data: dwide.Data[:l.OutDim()+3+l.OutDim()]}
	y1 := append([]float32(nil), l.Forward(x).Data...)
	dx1 := append([]float32(nil), l.Backward(dy).Data...)
	y2 := l.Forward(x.Clone())
	sameBits(t, "y", y1, y2.Data)
	sameBits(t, "dx", dx1, l.Backward(dy.Clone()).Data)
}

// TestConvWinogradAsmSameBits: the AVX2 transforms give the bits of the Go
// loops, forward and backward, channel counts with and without a tail of fewer
// than 8 (skipped where there is no assembly); for F(4×4, 3×3) both the
// whole-tile kernels (channels a multiple of 8; 16 for the AVX-512 ones, run where
// the CPU has AVX-512F) and the 1-D ones.
func TestConvWinogradAsmSameBits(t *testing.T) {
	if !wgAsm || !wg4Asm {
		t.Skip("no assembly transforms on this CPU")
	}
	forTiles(t, testConvWinogradAsmSameBits)
}

func testConvWinogradAsmSameBits(t *testing.T) {
	for _, g := range append([]ConvGeom{{InH: 5, InW: 5, InC: 19, OutC: 21, K: 3, Stride: 1, Pad: 1},
		{InH: 9, InW: 6, InC: 16, OutC: 24, K: 3, Stride: 1, Pad: 1},
		{InH: 7, InW: 10, InC: 32, OutC: 48, K: 3, Stride: 1, Pad: 1}}, wgGeoms...) {
		run := func(asm, fused, x16 bool) []float32 {
			old, old4, oldf, old16 := wgAsm, wg4Asm, wgFused, wg4Asm512
			wgAsm, wg4Asm, wgFused, wg4Asm512 = asm, asm, fused, x16
			defer func() { wgAsm, wg4Asm, wgFused, wg4Asm512 = old, old4, oldf, old16 }()
			s := rng.New(34)
			l := NewConv2D(g, He, s)
			s.FillNormal(l.B.W, 0, 0.5)
			x := randMat(s, 2, g.InH*g.InW*g.InC, 1)
			out := append([]float32(nil), l.Forward(x).Data...)
			out = append(out, l.Backward(randMat(s, 2, l.OutDim(), 1)).Data...)
			return append(append(out, l.W.G...), l.B.G...)
		}
		goBits := run(false, false, false)
		sameBits(t, fmt.Sprintf("%+v asm vs Go", g), run(true, true, false), goBits)
		sameBits(t, fmt.Sprintf("%+v 1-D asm vs Go", g), run(true, false, false), goBits)
		if hasAVX512F {
			sameBits(t, fmt.Sprintf("%+v AVX-512 whole-tile asm vs Go", g), run(true, true, true), goBits)
		}
	}
}

// TestWinogradAccuracy bounds the float32 rounding of both tile sizes on two
// U-Net layers against the float64 direct convolution: the root-mean-square
// error relative to the outputs' is below 5e-7 for F(2×2, 3×3) and below 4e-6
// for F(4×4, 3×3), whose transforms carry larger coefficients (measured in
// session 13: 2.0-2.6e-7 and 1.4-1.6e-6; im2col 2.1-2.5e-7).
func TestWinogradAccuracy(t *testing.T) {
	defer func(old int) { wgTileSize = old }(wgTileSize)
	for _, g := range []ConvGeom{
		{InH: 28, InW: 28, InC: 32, OutC: 32, K: 3, Stride: 1, Pad: 1},
		{InH: 14, InW: 14, InC: 64, OutC: 64, K: 3, Stride: 1, Pad: 1},
	} {
		for _, c := range []struct {
			m   int
			tol float64
		}{{2, 5e-7}, {4, 4e-6}} {
			wgTileSize = c.m
			s := rng.New(5)
			l := NewConv2D(g, He, s)
			s.FillNormal(l.B.W, 0, 0.5)
			x := randMat(s, 2, g.InH*g.InW*g.InC, 1)
			y := l.Forward(x)
			f64 := func(v []float32) []float64 {
				r := make([]float64, len(v))
				for i, x := range v {
					r[i] = float64(x)
				}
				return r
			}
			ref := conv64(g, f64(x.Data), 2, f64(l.W.W), f64(l.B.W))
			var se, sr float64
			for i, v := range y.Data {
				d := float64(v) - ref[i]
				se += d * d
				sr += ref[i] * ref[i]
			}
			if e := math.Sqrt(se / sr); e > c.tol {
				t.Errorf("%+v F(%d×%d): relative rms error %.3g, want below %g", g, c.m, c.m, e, c.tol)
			}
		}
	}
}

// TestWinogradPick: Conv2D takes F(4×4, 3×3) for the U-Net's 28×28, 14×14 and
// 7×7 layers and F(2×2, 3×3) where its tiles would be mostly padding or tie.
func TestWinogradPick(t *testing.T) {
	for _, c := range []struct{ size, m int }{{28, 4}, {14, 4}, {7, 4}, {8, 4}, {6, 2}, {5, 2}, {3, 4}, {2, 2}, {1, 2}} {
		g := ConvGeom{InH: c.size, InW: c.size, InC: 16, OutC: 16, K: 3, Stride: 1, Pad: 1}
		if got := wgPick(g).m; got != c.m {
			t.Errorf("%d×%d outputs: F(%d×%d) picked, want F(%d×%d)", c.size, c.size, got, got, c.m, c.m)
		}
	}
}

// TestWinogradFusedSameBits: the fused passes (blocks of examples taken through
// V, the GEMMs and the output transform at once) give the bits of the unfused
// pass for y, ∂L/∂x and ∂L/∂b, for blocks of one example, of several with a
// ragged last block, and of the whole batch, at one worker and at two, with V
// kept from the forward pass and with V computed again in the backward pass
// (wgKeep 0: dM, V, the weight-gradient GEMMs and dV block by block). ∂L/∂W has
// the unfused pass's bits with V kept; computed again it is summed block by
// block in groups (more blocks than groups at batch 20): the same bits at one
// and two workers, the unfused pass's when the batch is one block, and within
// rounding of them otherwise.
func TestWinogradFusedSameBits(t *testing.T) {
	forTiles(t, func(t *testing.T) {
		for _, g := range append([]ConvGeom{{InH: 5, InW: 7, InC: 19, OutC: 21, K: 3, Stride: 1, Pad: 1}}, wgGeoms...) {
			type result struct{ y, dx, gw, gb []float32 }
			run := func(fuse, keep, workers, batch int) (r result) {
				defer func(f, k int) { wgFuseTiles, wgKeep = f, k }(wgFuseTiles, wgKeep)
				wgFuseTiles, wgKeep = fuse, keep
				withWorkers(workers, func() {
					s := rng.New(35)
					l := NewConv2D(g, He, s)
					s.FillNormal(l.B.W, 0, 0.5)
					x := randMat(s, batch, g.InH*g.InW*g.InC, 1)
					r.y = append([]float32(nil), l.Forward(x).Data...)
					r.dx = append([]float32(nil), l.Backward(randMat(s, batch, l.OutDim(), 1)).Data...)
					r.gw = append([]float32(nil), l.W.G...)
					r.gb = append([]float32(nil), l.B.G...)
				})
				return r
			}
			th, tw := wgPick(g).tiles(g)
			for _, c := range []struct{ fuse, batch int }{{1, 5}, {2 * th * tw, 5}, {1 << 20, 5}, {1, 20}} {
				ref := run(0, 0, 1, c.batch)
				for _, keep := range []int{0, 1 << 30} {
					one := run(c.fuse, keep, 1, c.batch)
					name := fmt.Sprintf("%+v, batch %d, blocks of %d tiles, V kept up to %d values", g, c.batch, c.fuse, keep)
					sameBits(t, name+": y", one.y, ref.y)
					sameBits(t, name+": dx", one.dx, ref.dx)
					sameBits(t, name+": ∂L/∂b", one.gb, ref.gb)
					if keep > 0 || c.fuse == 1<<20 {
						sameBits(t, name+": ∂L/∂W", one.gw, ref.gw)
					} else if e := relRMS(one.gw, ref.gw); e > 1e-5 {
						t.Errorf("%s: ∂L/∂W differs from the unfused pass's by a relative rms of %.3g", name, e)
					}
					two := run(c.fuse, keep, 2, c.batch)
					sameBits(t, name+", 2 workers", append(append(append(two.y, two.dx...), two.gw...), two.gb...),
						append(append(append(one.y, one.dx...), one.gw...), one.gb...))
				}
			}
		}
	})
}

// relRMS returns the rms of a − b relative to the rms of b.
func relRMS(a, b []float32) float64 {
	var se, sr float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
		sr += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(se / sr)
}

// TestWgWeightKernelsSameBits checks wg4Gx4 and wg4GTx4 against the Go loops of
// wg4G and wg4GT bit for bit, on lengths with and without a tail and values of
// mixed magnitude.
func TestWgWeightKernelsSameBits(t *testing.T) {
	if !wgAsm {
		t.Skip("no AVX2 transforms")
	}
	defer func(v bool) { wgAsm = v }(wgAsm)
	s := rng.New(47)
	for _, n := range []int{4, 7, 64, 13} {
		var in3 [3][]float32
		var in6 wgVecs
		for i := range in6 {
			in6[i] = make([]float32, n)
			for k := range in6[i] {
				in6[i][k] = float32(s.NormFloat64() * math.Pow(10, float64(k%5-2)))
			}
			if i < 3 {
				in3[i] = in6[i]
			}
		}
		run := func(asm bool) []float32 {
			wgAsm = asm
			var o6 wgVecs
			var o3 [3][]float32
			for i := range o6 {
				o6[i] = make([]float32, n)
			}
			for i := range o3 {
				o3[i] = make([]float32, n)
			}
			wg4G(&o6, &in3)
			wg4GT(&o3, &in6)
			var out []float32
			for _, v := range o6 {
				out = append(out, v...)
			}
			for _, v := range o3 {
				out = append(out, v...)
			}
			return out
		}
		sameBits(t, fmt.Sprintf("weight transforms n=%d", n), run(true), run(false))
	}
}
