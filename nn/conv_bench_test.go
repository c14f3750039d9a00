package nn

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// convBenchCase is one layer of a DCGAN for 28×28 images or a small U-Net: a
// convolution (T false) from InH×InW×InC to OutH×OutW×OutC with a K×K kernel, or the
// transposed convolution (T true) that maps InH×InW×InC up to OutH×OutW×OutC.
// bench/conv_torch.py holds the same list (keep them in step).
type convBenchCase struct {
	Name                               string
	T                                  bool
	InH, InW, InC, OutH, OutW, OutC, K int
	Stride, Pad                        int
}

var convBenchCases = []convBenchCase{
	{"c1_28x28_1to32", false, 28, 28, 1, 28, 28, 32, 3, 1, 1},
	{"c2_28x28_32to64_s2", false, 28, 28, 32, 14, 14, 64, 3, 2, 1},
	{"c3_14x14_64to64", false, 14, 14, 64, 14, 14, 64, 3, 1, 1},
	{"c4_7x7_64to64", false, 7, 7, 64, 7, 7, 64, 3, 1, 1},
	{"t1_7to14_64to64_s2", true, 7, 7, 64, 14, 14, 64, 3, 2, 1},
	{"t2_14to28_64to32_s2", true, 14, 14, 64, 28, 28, 32, 3, 2, 1},
	{"t3_28x28_32to1", true, 28, 28, 32, 28, 28, 1, 3, 1, 1},
}

// flops is 2·MACs of one pass (forward, input gradient and weight gradient cost
// the same): for a convolution, 2·batch·OutH·OutW·OutC·K²·InC; a transposed
// convolution costs what its adjoint convolution does.
func (c convBenchCase) flops(batch int) float64 {
	if c.T {
		return 2 * float64(batch*c.InH*c.InW*c.InC*c.K*c.K*c.OutC)
	}
	return 2 * float64(batch*c.OutH*c.OutW*c.OutC*c.K*c.K*c.InC)
}

// BenchmarkConv times, for each case and batch 64 and 128, three passes of the
// layer: fwd (Forward), wgrad (Backward with NoInputGrad: ∂L/∂W and ∂L/∂b) and
// bwd (Backward: ∂L/∂W, ∂L/∂b and ∂L/∂x). It reports GFLOP/s on the wall clock and
// per CPU-second (the flops of one pass, two for bwd) and the allocations of a warm
// step. bench/conv-vs-torch.sh runs it against PyTorch; -cpu picks the workers.
func BenchmarkConv(b *testing.B) {
	for _, c := range convBenchCases {
		for _, batch := range []int{64, 128} {
			s := rng.New(1)
			var fwd func(x *tensor.Mat) *tensor.Mat
			var bwd func(dy *tensor.Mat) *tensor.Mat
			var noInput *bool
			if c.T {
				l := NewConvTranspose2D(c.InH, c.InW, c.InC, c.OutH, c.OutW, c.OutC, c.K, c.Stride, c.Pad, He, s)
				fwd, bwd, noInput = l.Forward, l.Backward, &l.NoInputGrad
			} else {
				g := ConvGeom{InH: c.InH, InW: c.InW, InC: c.InC, OutC: c.OutC, K: c.K, Stride: c.Stride, Pad: c.Pad}
				if g.OutH() != c.OutH || g.OutW() != c.OutW {
					b.Fatalf("%s: geometry gives %d×%d", c.Name, g.OutH(), g.OutW())
				}
				l := NewConv2D(g, He, s)
				fwd, bwd, noInput = l.Forward, l.Backward, &l.NoInputGrad
			}
			x := randMat(s, batch, c.InH*c.InW*c.InC, 1)
			dy := randMat(s, batch, c.OutH*c.OutW*c.OutC, 1)
			fl := c.flops(batch)
			for _, phase := range []string{"fwd", "wgrad", "bwd"} {
				b.Run(fmt.Sprintf("%s_b%d/%s", c.Name, batch, phase), func(b *testing.B) {
					*noInput = phase == "wgrad"
					step := func() {
						if phase == "fwd" {
							fwd(x)
						} else {
							bwd(dy)
						}
					}
					fwd(x)
					step()
					n := fl
					if phase == "bwd" {
						n *= 2
					}
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := cpuSeconds()
					for i := 0; i < b.N; i++ {
						step()
					}
					gf := n * float64(b.N) / 1e9
					b.ReportMetric(gf/b.Elapsed().Seconds(), "GFLOP/s")
					if cpu := cpuSeconds() - cpu0; cpu > 0 {
						b.ReportMetric(gf/cpu, "GFLOP/cpu-s")
						b.ReportMetric(cpu/float64(b.N)*1e3, "cpu-ms/op")
					}
				})
			}
		}
	}
}

// BenchmarkConvWinograd times the 3×3 stride-1 cases that Conv2D runs by
// Winograd, F(4×4, 3×3) and F(2×2, 3×3), against the im2col path on the same
// layer, forward and full backward. GFLOP/s counts the direct convolution's FLOPs (convBenchCase.flops),
// so both paths are measured against the same work.
func BenchmarkConvWinograd(b *testing.B) {
	for _, c := range convBenchCases {
		g := ConvGeom{InH: c.InH, InW: c.InW, InC: c.InC, OutC: c.OutC, K: c.K, Stride: c.Stride, Pad: c.Pad}
		if c.T || !useWinograd(g) {
			continue
		}
		for _, batch := range []int{64, 128} {
			for _, tile := range []int{4, 2, 0} {
				s := rng.New(1)
				defer func(old int) { wgTileSize = old }(wgTileSize)
				wgTileSize = tile
				l := NewConv2D(g, He, s)
				l.direct = tile == 0
				x := randMat(s, batch, c.InH*c.InW*c.InC, 1)
				dy := randMat(s, batch, l.OutDim(), 1)
				algo := fmt.Sprintf("F%dx%d", tile, tile)
				if tile == 0 {
					algo = "im2col"
				}
				for _, phase := range []string{"fwd", "bwd"} {
					b.Run(fmt.Sprintf("%s_b%d/%s/%s", c.Name, batch, phase, algo), func(b *testing.B) {
						step := func() {
							if phase == "fwd" {
								l.Forward(x)
							} else {
								l.Backward(dy)
							}
						}
						l.Forward(x)
						step()
						n := c.flops(batch)
						if phase == "bwd" {
							n *= 2
						}
						b.ReportAllocs()
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							step()
						}
						b.ReportMetric(n*float64(b.N)/1e9/b.Elapsed().Seconds(), "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkWinogradFuse times the Winograd forward pass (fwd) and the full
// backward pass (bwd: weight and input gradients) of the 3×3 stride-1 cases and
// the U-Net's 28×28 32-channel layer at batch 128 with blocks of wgFuseTiles
// tiles (0: unfused). GFLOP/s counts the direct convolution's FLOPs.
func BenchmarkWinogradFuse(b *testing.B) {
	cases := append([]convBenchCase{{"u_28x28_32to32", false, 28, 28, 32, 28, 28, 32, 3, 1, 1}}, convBenchCases...)
	for _, c := range cases {
		g := ConvGeom{InH: c.InH, InW: c.InW, InC: c.InC, OutC: c.OutC, K: c.K, Stride: c.Stride, Pad: c.Pad}
		if c.T || !useWinograd(g) {
			continue
		}
		for _, phase := range []string{"fwd", "bwd"} {
			for _, fuse := range []int{0, 32, 64, 128, 256} {
				b.Run(fmt.Sprintf("%s_b128/%s/fuse%d", c.Name, phase, fuse), func(b *testing.B) {
					defer func(old int) { wgFuseTiles = old }(wgFuseTiles)
					wgFuseTiles = fuse
					s := rng.New(1)
					l := NewConv2D(g, He, s)
					x := randMat(s, 128, c.InH*c.InW*c.InC, 1)
					dy := randMat(s, 128, l.OutDim(), 1)
					step := func() { l.Forward(x) }
					n := c.flops(128)
					if phase == "bwd" {
						step = func() { l.Backward(dy) }
						n *= 2
					}
					l.Forward(x)
					step()
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						step()
					}
					b.ReportMetric(n*float64(b.N)/1e9/b.Elapsed().Seconds(), "GFLOP/s")
				})
			}
		}
	}
}
