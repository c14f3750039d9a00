package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmDirect compares reading A as stored (direct) with packing it, on
// the tall, narrow products of convolutions: Winograd's planes (tiles × InC)·(InC ×
// OutC) and im2col's patches (positions × 9·InC)·(9·InC × OutC), and the
// backward pass's (positions × OutC)·(OutC × InC)ᵀ.
func BenchmarkGemmDirect(b *testing.B) {
	defer func(n, k int) { gemmDirectMaxN, gemmDirectMaxK = n, k }(gemmDirectMaxN, gemmDirectMaxK)
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][4]int{{25088, 32, 32, 0}, {6272, 64, 64, 0}, {25088, 64, 64, 0}, {6272, 128, 128, 0},
		{25088, 288, 64, 0}, {100352, 9, 32, 0}, {25088, 64, 64, 1}, {25088, 64, 288, 1},
		{672, 64, 288, 0}, {25088, 64, 288, 0}, {336, 64, 576, 0}, {672, 32, 576, 0},
		{128, 20, 400, 0}, {128, 64, 512, 0}, {1000, 64, 500, 0}, {64, 32, 1024, 0}, {128, 50, 200, 0}} {
		m, k, n, tb := sh[0], sh[1], sh[2], sh[3] == 1
		a := gemmRandMat(rnd, m, k)
		bm := gemmRandMat(rnd, k, n)
		if tb {
			bm = gemmRandMat(rnd, n, k)
		}
		c := New(m, n)
		for _, path := range []string{"packed", "direct"} {
			b.Run(fmt.Sprintf("%dx%dx%d_tb%v/%s", m, k, n, tb, path), func(b *testing.B) {
				gemmDirectMaxN, gemmDirectMaxK = 0, 0
				if path == "direct" {
					gemmDirectMaxN = 1 << 30
				}
				for range b.N {
					Gemm(false, tb, 1, a, bm, 0, c)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmStrided compares reading a transposed A and B where they are
// stored (the strided kernels) with packing them, on the weight gradients of
// convolutions, C = Aᵀ·B with a long K: Winograd's V_ξᵀ·dM_ξ (InC × tiles)·(tiles
// × OutC) and im2col's patchesᵀ·dy (9·InC × positions)·(positions × OutC).
func BenchmarkGemmStrided(b *testing.B) {
	defer func(m, n, k int) { gemmStridedMaxM, gemmStridedMaxN, gemmStridedMinK = m, n, k }(gemmStridedMaxM, gemmStridedMaxN, gemmStridedMinK)
	rnd := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{32, 25088, 32}, {64, 6272, 64}, {9, 100352, 32}, {16, 25088, 32}, {144, 8192, 32},
		{128, 6272, 128}, {288, 25088, 64}, {64, 25088, 16}, {576, 6272, 64}, {256, 6272, 256}, {512, 1568, 512},
		{784, 256, 400}, {500, 1000, 784}, {1024, 512, 1024},
		{64, 64, 64}, {64, 128, 64}, {64, 256, 64}, {64, 1024, 64}, {32, 128, 32},
		{128, 64, 128}, {256, 128, 256}, {1024, 128, 256}, {784, 100, 64}, {500, 128, 256}}
	for _, sh := range shapes {
		m, k, n := sh[0], sh[1], sh[2]
		a := gemmRandMat(rnd, k, m)
		bm := gemmRandMat(rnd, k, n)
		c := New(m, n)
		for _, path := range []string{"packed", "strided"} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, path), func(b *testing.B) {
				gemmStridedMaxM, gemmStridedMaxN, gemmStridedMinK = 0, 0, 0
				if path == "strided" {
					gemmStridedMaxM, gemmStridedMaxN = 1<<30, 1<<30
				}
				for range b.N {
					Gemm(true, false, 1, a, bm, 0, c)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmInPlaceB compares reading the panels of an untransposed B where
// they are stored (gemmInPlaceBMaxM) with packing them, on products with few
// rows: the MLP layers of the VAE and RBM benchmarks (batch 100-128) and
// larger batches.
func BenchmarkGemmInPlaceB(b *testing.B) {
	defer func(m int) { gemmInPlaceBMaxM = m }(gemmInPlaceBMaxM)
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][3]int{{100, 784, 500}, {128, 784, 400}, {128, 400, 784}, {256, 784, 500}, {512, 784, 1000}, {1000, 784, 500}} {
		m, k, n := sh[0], sh[1], sh[2]
		a := gemmRandMat(rnd, m, k)
		bm := gemmRandMat(rnd, k, n)
		c := New(m, n)
		for _, path := range []string{"packed", "inplace"} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, path), func(b *testing.B) {
				gemmInPlaceBMaxM = 0
				if path == "inplace" {
					gemmInPlaceBMaxM = 1 << 30
				}
				for range b.N {
					Gemm(false, false, 1, a, bm, 0, c)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
