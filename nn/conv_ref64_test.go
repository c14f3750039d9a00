package nn

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// conv64 is the direct float64 convolution (cross-correlation) of x (rows NHWC
// images) with W ((ky·K+kx)·InC + c, o) and bias b, zero padded.
func conv64(g ConvGeom, x []float64, rows int, w, b []float64) []float64 {
	oh, ow := g.OutH(), g.OutW()
	in, out := g.InH*g.InW*g.InC, oh*ow*g.OutC
	y := make([]float64, rows*out)
	for n := range rows {
		for oy := range oh {
			for ox := range ow {
				for o := range g.OutC {
					s := b[o]
					for ky := range g.K {
						for kx := range g.K {
							iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
							if iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW {
								continue
							}
							for c := range g.InC {
								s += x[n*in+(iy*g.InW+ix)*g.InC+c] * w[((ky*g.K+kx)*g.InC+c)*g.OutC+o]
							}
						}
					}
					y[n*out+(oy*ow+ox)*g.OutC+o] = s
				}
			}
		}
	}
	return y
}

// convT64 is the direct float64 transposed convolution of ConvTranspose2D with the
// adjoint geometry adj: every input pixel (iy, ix) scatters x[iy,ix,c]·W[c, (ky·K+kx)·OutC+o]
// onto output pixel (iy·S−P+ky, ix·S−P+kx) where that lies inside; plus the bias.
func convT64(adj ConvGeom, x []float64, rows int, w, b []float64) []float64 {
	ih, iw, ic := adj.OutH(), adj.OutW(), adj.OutC
	oc := adj.InC
	in, out := ih*iw*ic, adj.InH*adj.InW*oc
	kc := adj.K * adj.K * oc
	y := make([]float64, rows*out)
	for n := range rows {
		for p := 0; p < adj.InH*adj.InW; p++ {
			for o := range oc {
				y[n*out+p*oc+o] = b[o]
			}
		}
		for iy := range ih {
			for ix := range iw {
				for ky := range adj.K {
					for kx := range adj.K {
						oy, ox := iy*adj.Stride-adj.Pad+ky, ix*adj.Stride-adj.Pad+kx
						if oy < 0 || oy >= adj.InH || ox < 0 || ox >= adj.InW {
							continue
						}
						for o := range oc {
							var s float64
							for c := range ic {
								s += x[n*in+(iy*iw+ix)*ic+c] * w[c*kc+(ky*adj.K+kx)*oc+o]
							}
							y[n*out+(oy*adj.InW+ox)*oc+o] += s
						}
					}
				}
			}
		}
	}
	return y
}

// awkwardGeoms are odd sizes, padding, stride 2, 1×1 and even kernels, one input
// channel; each is checked at batch 1 and 3.
var awkwardGeoms = []ConvGeom{
	{InH: 5, InW: 7, InC: 3, OutC: 4, K: 3, Stride: 2, Pad: 1},
	{InH: 4, InW: 3, InC: 5, OutC: 2, K: 1, Stride: 1, Pad: 0},
	{InH: 7, InW: 5, InC: 2, OutC: 3, K: 1, Stride: 2, Pad: 0},
	{InH: 6, InW: 6, InC: 2, OutC: 3, K: 5, Stride: 1, Pad: 2},
	{InH: 3, InW: 5, InC: 1, OutC: 2, K: 2, Stride: 1, Pad: 1},
	{InH: 9, InW: 8, InC: 1, OutC: 5, K: 3, Stride: 2, Pad: 0},
	{InH: 9, InW: 7, InC: 1, OutC: 3, K: 5, Stride: 2, Pad: 4},  // the deep EBM's first layer, smaller
	{InH: 4, InW: 3, InC: 9, OutC: 17, K: 3, Stride: 1, Pad: 1}, // more than one GEMM tile
	// Thin outputs (K²·OutC ≤ 16, InC ≥ 16: conv_thin.go): a U-Net's last layer, stride 2, K = 4.
	{InH: 5, InW: 4, InC: 16, OutC: 1, K: 3, Stride: 1, Pad: 1},
	{InH: 7, InW: 6, InC: 17, OutC: 1, K: 3, Stride: 2, Pad: 1},
	{InH: 6, InW: 5, InC: 16, OutC: 1, K: 4, Stride: 2, Pad: 2},
	{InH: 3, InW: 4, InC: 20, OutC: 4, K: 2, Stride: 1, Pad: 0},
	// The row kernels (thin3.go: 3×3, stride 1, pad 1, to one channel, InC a multiple of 8, at least 3
	// columns): a group of 32 channels and a chunk of 8, chunks alone; transposed: the adjoints below.
	{InH: 5, InW: 3, InC: 40, OutC: 1, K: 3, Stride: 1, Pad: 1},
	{InH: 4, InW: 6, InC: 8, OutC: 1, K: 3, Stride: 1, Pad: 1},
	{InH: 6, InW: 5, InC: 1, OutC: 40, K: 3, Stride: 1, Pad: 1},
	{InH: 3, InW: 4, InC: 1, OutC: 24, K: 3, Stride: 1, Pad: 1},
	// Strided with K·InC ≥ 64 (implicit: patches read in place when not kept): odd sizes, stride 3, pad 0.
	{InH: 7, InW: 6, InC: 24, OutC: 5, K: 3, Stride: 2, Pad: 1},
	{InH: 9, InW: 8, InC: 16, OutC: 20, K: 4, Stride: 3, Pad: 2},
	{InH: 8, InW: 7, InC: 33, OutC: 7, K: 2, Stride: 2, Pad: 0},
	// Winograd (useWinograd; F(4×4, 3×3) unless wgTileSize says 2): odd sizes leave partial tiles; pads 0 and 2.
	{InH: 5, InW: 3, InC: 16, OutC: 17, K: 3, Stride: 1, Pad: 1},
	{InH: 4, InW: 5, InC: 17, OutC: 16, K: 3, Stride: 1, Pad: 0},
	{InH: 2, InW: 3, InC: 16, OutC: 16, K: 3, Stride: 1, Pad: 2},
}

// TestConv2DRef64 checks Conv2D's forward pass, ∂L/∂x, ∂L/∂W and ∂L/∂b against the
// direct float64 convolution (gradients by float64 central differences).
func TestConv2DRef64(t *testing.T) {
	skipOtherKernel(t)
	s := rng.New(21)
	defer func(chunk, keep, wk, rows int) {
		convChunk, convKeep, wgKeep, convImplicitMinRows = chunk, keep, wk, rows
	}(convChunk, convKeep, wgKeep, convImplicitMinRows)
	convImplicitMinRows = 0 // the small images here read their patches in place where they qualify
	for _, g := range awkwardGeoms {
		kc := g.K * g.K * g.InC
		// Patches kept from the forward pass and one block for the whole batch;
		// then rebuilt in Backward, in blocks of 5 and 7 positions that cut
		// examples and span them (10 and 14 for the weight gradient, whose
		// blocks are twice convChunk). Winograd's V likewise kept, then
		// computed again in Backward.
		for i, chunk := range []int{48 << 10, 5 * kc, 7 * kc} {
			convChunk, convKeep, wgKeep = chunk, 2<<20, 2<<20
			if i > 0 {
				convKeep, wgKeep = 0, 0
			}
			for _, batch := range []int{1, 3} {
				l := NewConv2D(g, He, s)
				s.FillNormal(l.B.W, 0, 0.5)
				ref := func(x []float64, rows, _ int, ps [][]float64) []float64 { return conv64(g, x, rows, ps[0], ps[1]) }
				checkGrad64(t, fmt.Sprintf("Conv2D%+v batch %d, blocks of %d positions", g, batch, g.chunkRows()), l,
					randMat(s, batch, g.InH*g.InW*g.InC, 1), ref, 1e-5, 1e-4)
			}
		}
	}
}

// TestConvTranspose2DRef64 does the same for ConvTranspose2D, the layer mapping
// the convolution's output shape back to its input shape.
func TestConvTranspose2DRef64(t *testing.T) {
	skipOtherKernel(t)
	s := rng.New(22)
	defer func(old, rows int) { convChunk, convImplicitMinRows = old, rows }(convChunk, convImplicitMinRows)
	convImplicitMinRows = 0 // in place (backwardImplicit) where the adjoint qualifies
	for _, g := range awkwardGeoms {
		// The transposed convolution's blocks are of its input pixels, K·K·OutC
		// values each (OutC = g.InC): one block, and blocks of 5 and 7 pixels.
		kc := g.K * g.K * g.InC
		for _, chunk := range []int{48 << 10, 5 * kc, 7 * kc} {
			convChunk = chunk
			for _, batch := range []int{1, 3} {
				l := NewConvTranspose2D(g.OutH(), g.OutW(), g.OutC, g.InH, g.InW, g.InC, g.K, g.Stride, g.Pad, He, s)
				s.FillNormal(l.B.W, 0, 0.5)
				ref := func(x []float64, rows, _ int, ps [][]float64) []float64 { return convT64(l.Adj, x, rows, ps[0], ps[1]) }
				checkGrad64(t, fmt.Sprintf("ConvT%+v batch %d, blocks of %d pixels", g, batch, l.Adj.chunkRows()), l,
					randMat(s, batch, g.OutH()*g.OutW()*g.OutC, 1), ref, 1e-5, 1e-4)
			}
		}
	}
}

// TestConvWorkersSameBits runs both layers forward and backward on DCGAN-sized
// shapes with 1 and 2 workers and requires identical bits in y, ∂L/∂x, ∂L/∂W, ∂L/∂b.
func TestConvWorkersSameBits(t *testing.T) {
	ebm1 := convBenchCase{"ebm1_28x28_1to16_k5s2p4", false, 28, 28, 1, 16, 16, 16, 5, 2, 4} // narrow, as is c1
	for _, c := range []convBenchCase{convBenchCases[0], convBenchCases[1], convBenchCases[2], convBenchCases[4], convBenchCases[6], ebm1} {
		run := func() []float32 {
			s := rng.New(23)
			var l Layer
			if c.T {
				l = NewConvTranspose2D(c.InH, c.InW, c.InC, c.OutH, c.OutW, c.OutC, c.K, c.Stride, c.Pad, He, s)
			} else {
				l = NewConv2D(ConvGeom{InH: c.InH, InW: c.InW, InC: c.InC, OutC: c.OutC, K: c.K, Stride: c.Stride, Pad: c.Pad}, He, s)
			}
			x := randMat(s, 5, c.InH*c.InW*c.InC, 1)
			y := l.Forward(x)
			out := append([]float32(nil), y.Data...)
			out = append(out, l.Backward(randMat(s, y.Rows, y.Cols, 1)).Data...)
			for _, p := range l.Params() {
				out = append(out, p.G...)
			}
			return out
		}
		var one, two []float32
		withWorkers(1, func() { one = run() })
		withWorkers(2, func() { two = run() })
		sameBits(t, c.Name+" 1 vs 2 workers", one, two)
		if !c.T {
			// The weight gradient rebuilt in blocks (patches, or Winograd's V,
			// not kept), its groups of blocks summed in order.
			func() {
				defer func(keep, wk int) { convKeep, wgKeep = keep, wk }(convKeep, wgKeep)
				convKeep, wgKeep = 0, 0
				withWorkers(1, func() { one = run() })
				withWorkers(2, func() { two = run() })
			}()
			sameBits(t, c.Name+" blocked weight gradient, 1 vs 2 workers", one, two)
		}
	}
}

// TestConvKernelPaths reruns the float64-reference tests in a child process for
// every GEMM kernel path LATENT_KERNEL can name that this CPU supports (the path is
// chosen at start-up). A child whose tensor.GemmKernel() is not the one asked for
// (the CPU lacks it) is skipped.
func TestConvKernelPaths(t *testing.T) {
	if os.Getenv("LATENT_CONV_CHILD") != "" {
		t.Skip("in a child")
	}
	if testing.Short() {
		t.Skip("short")
	}
	for _, k := range []string{"generic", "avx2", "avx512"} {
		if k == tensor.GemmKernel() {
			continue // this process already ran the tests on it
		}
		t.Run(k, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^(TestConv2DRef64|TestConvTranspose2DRef64)$", "-test.v")
			cmd.Env = append(os.Environ(), "LATENT_KERNEL="+k, "LATENT_CONV_CHILD="+k)
			out, err := cmd.CombinedOutput()
			if strings.Contains(string(out), "kernel unsupported here") {
				t.Skipf("%s: not supported by this CPU", k)
			}
			if err != nil {
				t.Fatalf("LATENT_KERNEL=%s: %v\n%s", k, err, out)
			}
			if !strings.Contains(string(out), "--- PASS: TestConv2DRef64") || !strings.Contains(string(out), "--- PASS: TestConvTranspose2DRef64") {
				t.Fatalf("LATENT_KERNEL=%s: the reference tests did not pass:\n%s", k, out)
			}
		})
	}
}

// skipOtherKernel skips a test in a TestConvKernelPaths child whose asked-for
// kernel is not the one in use (this CPU lacks it).
func skipOtherKernel(t *testing.T) {
	if want := os.Getenv("LATENT_CONV_CHILD"); want != "" && tensor.GemmKernel() != want {
		t.Skipf("kernel unsupported here: asked %s, running %s", want, tensor.GemmKernel())
	}
}

// TestNarrowPatchesSameBits: on narrow geometries (one or two input channels,
// padding) im2colRange and col2imRange through the padded image give the bits of
// the general paths, for ranges of positions that start and end inside examples
// and onto cols and x that already hold values (col2im adds onto them).
func TestNarrowPatchesSameBits(t *testing.T) {
	defer func() { narrowPatches = true }()
	s := rng.New(24)
	for _, g := range []ConvGeom{
		{InH: 9, InW: 7, InC: 1, OutC: 3, K: 5, Stride: 2, Pad: 4},
		{InH: 28, InW: 28, InC: 1, OutC: 16, K: 5, Stride: 2, Pad: 4},
		{InH: 6, InW: 6, InC: 2, OutC: 3, K: 5, Stride: 1, Pad: 2},
		{InH: 5, InW: 4, InC: 1, OutC: 2, K: 3, Stride: 1, Pad: 1},
		{InH: 3, InW: 5, InC: 1, OutC: 2, K: 2, Stride: 1, Pad: 1},
	} {
		if !g.narrow() {
			t.Fatalf("%+v is not narrow", g)
		}
		n := g.OutH() * g.OutW()
		kc := g.K * g.K * g.InC
		x := randMat(s, 3, g.InH*g.InW*g.InC, 1)
		for _, r := range [][2]int{{0, 3 * n}, {1, n + 2}, {n / 2, 3*n - 1}} {
			p0, p1 := r[0], r[1]
			colsInit := randMat(s, p1-p0, kc, 1)
			xInit := randMat(s, 3, x.Cols, 1)
			run := func(narrow bool) []float32 {
				narrowPatches = narrow
				cols := tensor.New(p1-p0, kc)
				cols.Copy(colsInit)
				im2colRange(cols, x, g, p0, p1, p0)
				out := append([]float32(nil), cols.Data...)
				dx := tensor.New(3, x.Cols)
				dx.Copy(xInit)
				col2imRange(dx, colsInit, g, p0, p1, p0)
				return append(out, dx.Data...)
			}
			sameBits(t, fmt.Sprintf("%+v positions [%d, %d)", g, p0, p1), run(false), run(true))
		}
	}
}

// TestConvImplicitMatchesIm2col: with the patches not kept, the strided
// convolutions that read them in place (forwardImplicit, weightGradImplicit),
// and the transposed convolutions whose adjoint is such a convolution
// (backwardImplicit), give y, ∂L/∂x, ∂L/∂W and ∂L/∂b within float32 rounding
// of the im2col path's, at batch 20 (more images than groups of the weight
// gradient's sum) and 1, with the same bits at one worker and two.
func TestConvImplicitMatchesIm2col(t *testing.T) {
	defer func(keep, rows int, impl bool) {
		convKeep, convImplicitMinRows, convImplicit = keep, rows, impl
	}(convKeep, convImplicitMinRows, convImplicit)
	convKeep, convImplicitMinRows = 0, 0
	geoms := []ConvGeom{{InH: 28, InW: 28, InC: 32, OutC: 64, K: 3, Stride: 2, Pad: 1}}
	for _, g := range awkwardGeoms {
		if g.implicit() && !g.thinOut() && !useWinograd(g) {
			geoms = append(geoms, g)
		}
	}
	if len(geoms) < 4 {
		t.Fatalf("only %d geometries read their patches in place", len(geoms))
	}
	for _, g := range geoms {
		for _, c := range []struct {
			batch int
			t     bool
		}{{20, false}, {1, false}, {20, true}, {1, true}} {
			batch := c.batch
			run := func(impl bool, workers int) (out [4][]float32) {
				convImplicit = impl
				withWorkers(workers, func() {
					s := rng.New(41)
					var l Layer
					var w, b *Param
					in := g.InH * g.InW * g.InC
					if c.t {
						lt := NewConvTranspose2D(g.OutH(), g.OutW(), g.OutC, g.InH, g.InW, g.InC, g.K, g.Stride, g.Pad, He, s)
						l, w, b, in = lt, lt.W, lt.B, g.OutH()*g.OutW()*g.OutC
					} else {
						lc := NewConv2D(g, He, s)
						l, w, b = lc, lc.W, lc.B
					}
					s.FillNormal(b.W, 0, 0.5)
					x := randMat(s, batch, in, 1)
					y := l.Forward(x)
					out[0] = append([]float32(nil), y.Data...)
					out[1] = append([]float32(nil), l.Backward(randMat(s, batch, y.Cols, 1)).Data...)
					out[2] = append([]float32(nil), w.G...)
					out[3] = append([]float32(nil), b.G...)
				})
				return out
			}
			ref, one, two := run(false, 1), run(true, 1), run(true, 2)
			for i, what := range []string{"y", "∂L/∂x", "∂L/∂W", "∂L/∂b"} {
				name := fmt.Sprintf("%+v batch %d, transposed %v: %s", g, batch, c.t, what)
				if e := relRMS(one[i], ref[i]); e > 1e-6 {
					t.Errorf("%s differs from im2col's by a relative rms of %.3g", name, e)
				}
				sameBits(t, name+", 1 vs 2 workers", one[i], two[i])
			}
		}
	}
}

// TestConvInference: a Conv2D with Inference on keeps nothing for Backward but
// x, and Backward after such a forward pass still gives the gradients: y and
// ∂L/∂x (the bits of the usual pass where the forward pass takes the same
// path: Winograd, im2col without patches kept), ∂L/∂W and ∂L/∂b, within
// float32 rounding of the usual pass's; and it keeps nothing (no patches, no
// V).
func TestConvInference(t *testing.T) {
	for _, c := range []struct {
		g        ConvGeom
		samePath bool
	}{
		{ConvGeom{InH: 14, InW: 14, InC: 64, OutC: 64, K: 3, Stride: 1, Pad: 1}, true},  // Winograd, V kept otherwise
		{ConvGeom{InH: 28, InW: 28, InC: 32, OutC: 64, K: 3, Stride: 2, Pad: 1}, false}, // patches kept otherwise; in place here
		{ConvGeom{InH: 28, InW: 28, InC: 1, OutC: 32, K: 3, Stride: 1, Pad: 1}, true},   // patches kept otherwise; blocks here
	} {
		run := func(inference bool) (out [4][]float32, l *Conv2D) {
			s := rng.New(43)
			l = NewConv2D(c.g, He, s)
			l.Inference = inference
			s.FillNormal(l.B.W, 0, 0.5)
			x := randMat(s, 6, c.g.InH*c.g.InW*c.g.InC, 1)
			out[0] = append([]float32(nil), l.Forward(x).Data...)
			if inference && (l.cols != nil || l.wg != nil && l.wg.kept) {
				t.Errorf("%+v: Inference kept patches or V", c.g)
			}
			out[1] = append([]float32(nil), l.Backward(randMat(s, 6, l.OutDim(), 1)).Data...)
			out[2] = append([]float32(nil), l.W.G...)
			out[3] = append([]float32(nil), l.B.G...)
			return out, l
		}
		ref, l := run(false)
		if l.cols == nil && (l.wg == nil || !l.wg.kept) {
			t.Fatalf("%+v: the usual pass keeps nothing either; pick another case", c.g)
		}
		got, _ := run(true)
		for i, what := range []string{"y", "∂L/∂x", "∂L/∂W", "∂L/∂b"} {
			name := fmt.Sprintf("%+v inference: %s", c.g, what)
			if c.samePath && i < 2 {
				sameBits(t, name, got[i], ref[i])
			} else if e := relRMS(got[i], ref[i]); e > 1e-5 {
				t.Errorf("%s differs from the usual pass's by a relative rms of %.3g", name, e)
			}
		}
	}
}
