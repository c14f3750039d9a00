package mixture

import (
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// KMeansPlusPlus picks k seeds among the rows of x by k-means++ (Arthur &
// Vassilvitskii 2007: each next seed is a row drawn with probability proportional to
// its squared distance to the nearest seed so far), refines them with up to iters
// Lloyd iterations, and returns the index of the nearest centre for every row.
// It panics if k < 1 or k > x.Rows.
func KMeansPlusPlus(x *tensor.Mat, k, iters int, s *rng.Stream) []int {
	n, d := x.Rows, x.Cols
	if k < 1 || k > n {
		panic("mixture: KMeansPlusPlus: bad k")
	}
	centres := make([]float64, k*d)
	setCentre := func(c, row int) {
		for j, v := range x.Row(row) {
			centres[c*d+j] = float64(v)
		}
	}
	dist := make([]float64, n)
	labels := make([]int, n)
	setCentre(0, s.IntN(n))
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	update := func(c int) { // dist = min(dist, ‖x - centre_c‖²)
		cc := centres[c*d : (c+1)*d]
		tensor.ParallelFor(n, rowChunk, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				var q float64
				for j, v := range x.Row(i) {
					y := float64(v) - cc[j]
					q += y * y
				}
				if q < dist[i] {
					dist[i], labels[i] = q, c
				}
			}
		})
	}
	update(0)
	for c := 1; c < k; c++ {
		total := chunkSum(n, func(lo, hi int) float64 {
			var t float64
			for _, v := range dist[lo:hi] {
				t += v
			}
			return t
		})
		row := 0
		if total > 0 {
			u := s.Float64() * total
			var acc float64
			row = n - 1
			for i, v := range dist {
				acc += v
				if acc > u && v > 0 {
					row = i
					break
				}
			}
		} else {
			row = s.IntN(n)
		}
		setCentre(c, row)
		update(c)
	}
	for it := 0; it < iters; it++ {
		// Centres = means of their points (empty clusters keep their centre).
		sum := make([]float64, k*d)
		cnt := make([]float64, k)
		for i, l := range labels {
			cnt[l]++
			for j, v := range x.Row(i) {
				sum[l*d+j] += float64(v)
			}
		}
		for c := 0; c < k; c++ {
			if cnt[c] > 0 {
				for j := 0; j < d; j++ {
					centres[c*d+j] = sum[c*d+j] / cnt[c]
				}
			}
		}
		changed := make([]bool, (n+rowChunk-1)/rowChunk)
		tensor.ParallelFor(n, rowChunk, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				xr := x.Row(i)
				best, bq := 0, math.Inf(1)
				for c := 0; c < k; c++ {
					cc := centres[c*d : (c+1)*d]
					var q float64
					for j, v := range xr {
						y := float64(v) - cc[j]
						q += y * y
					}
					if q < bq {
						best, bq = c, q
					}
				}
				if labels[i] != best {
					labels[i] = best
					changed[lo/rowChunk] = true
				}
			}
		})
		any := false
		for _, c := range changed {
			any = any || c
		}
		if !any {
			break
		}
	}
	return labels
}
