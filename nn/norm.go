package nn

import (
	"sync"

	"github.com/latent-ml/latent/tensor"
)

// normJob carries the arguments of the row-parallel loops of BatchNorm and
// GroupNorm, so that dispatching them allocates no closure (see rowJob).
type normJob struct {
	x, y, dy, dx, xhat *tensor.Mat
	c, grain           int       // channels per position; rows per piece
	part               []float64 // per-piece partial sums, piece p at [p·k, (p+1)·k)
	s64                []float64 // per-channel means (BatchNorm)
	a                  []float32 // per-channel coefficients
	gn                 *GroupNorm
	fn                 func(j *normJob, lo, hi int)
}

var normJobs = sync.Pool{New: func() any { return new(normJob) }}

func newNormJob(fn func(j *normJob, lo, hi int)) *normJob {
	j := normJobs.Get().(*normJob)
	j.fn = fn
	return j
}

func normRange(ctx any, lo, hi int) {
	j := ctx.(*normJob)
	j.fn(j, lo, hi)
}

// run applies j.fn to the rows [0, rows) in pieces of j.grain rows, then returns j
// to the pool. Piece p covers rows [p·grain, (p+1)·grain) whatever the number of
// workers, so per-piece partial sums reduced in piece order give the same bits
// for any GOMAXPROCS.
func (j *normJob) run(rows int) {
	tensor.ParallelRange(rows, j.grain, j, normRange)
	*j = normJob{}
	normJobs.Put(j)
}

// pieceGrain returns the rows per piece of a rows×cols reduction, as forRows
// chooses them: one piece for small problems, else about 16k values a piece.
// It depends only on the shape.
func pieceGrain(rows, cols int) int {
	if rows*cols < 32768 {
		return max(rows, 1)
	}
	return grainRows(cols)
}

// partials returns buf resized to pieces·k values, zeroed.
func partials(buf []float64, pieces, k int) []float64 {
	n := pieces * k
	if cap(buf) < n {
		buf = make([]float64, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// reducePieces sets dst[i] = Σ_p part[p·k + off + i] for i < len(dst), in piece order.
func reducePieces(dst, part []float64, k, off int) {
	clear(dst)
	for p := 0; p < len(part); p += k {
		for i, v := range part[p+off : p+off+len(dst)] {
			dst[i] += v
		}
	}
}

// The per-row kernels of BatchNorm and GroupNorm. A row r holds positions of
// c = len(acc) channels, channel fastest (NHWC); every per-channel slice has c
// values. The reslicing to a common length lets the compiler drop the bounds
// checks of the inner loops.

// chanAsm returns the first channel the Go loops handle: 0, or c rounded
// down to a multiple of 8 when the assembly loops ran channels below it (n > 0
// values, c ≥ 8 channels).
func chanAsm(c, n int) int {
	if normAsm && c >= 8 && n > 0 {
		return c &^ 7
	}
	return 0
}

// chanSum adds Σ_positions r[p·c + k] to acc[k], in float64.
func chanSum(acc []float64, r []float32) {
	c := len(acc)
	k0 := chanAsm(c, len(r))
	if k0 > 0 {
		chanSumx8(&acc[0], &r[0], c, k0, len(r))
	}
	for p := 0; k0 < c && p < len(r); p += c {
		seg := r[p+k0 : p+c]
		acc := acc[k0:][:len(seg)]
		for k, v := range seg {
			acc[k] += float64(v)
		}
	}
}

// chanSumSq adds Σ_positions (r[p·c + k] − mean[k])² to acc[k], in float64.
func chanSumSq(acc, mean []float64, r []float32) {
	c := len(acc)
	k0 := chanAsm(c, len(r))
	if k0 > 0 {
		chanSumSqx8(&acc[0], &mean[0], &r[0], c, k0, len(r))
	}
	for p := 0; k0 < c && p < len(r); p += c {
		seg := r[p+k0 : p+c]
		acc, mean := acc[k0:][:len(seg)], mean[k0:][:len(seg)]
		for k, v := range seg {
			d := float64(v) - mean[k]
			acc[k] += float64(d * d) // the conversion rounds d·d: no fused multiply-add
		}
	}
}

// chanNormalize sets x̂ = (x − μ_k)·s_k and y = γ_k x̂ + β_k for every position.
func chanNormalize(y, xh, x, mu, s, g, b []float32) {
	c := len(mu)
	k0 := chanAsm(c, len(x))
	if k0 > 0 {
		chanNormalizex8(&y[0], &xh[0], &x[0], &mu[0], &s[0], &g[0], &b[0], c, k0, len(x))
	}
	for p := 0; k0 < c && p < len(x); p += c {
		xs := x[p+k0 : p+c]
		n := len(xs)
		xhs, ys := xh[p+k0 : p+c][:n], y[p+k0 : p+c][:n]
		mu, s, g, b := mu[k0:][:n], s[k0:][:n], g[k0:][:n], b[k0:][:n]
		for k, v := range xs {
			h := float32((v - mu[k]) * s[k])
			xhs[k] = h
			ys[k] = float32(g[k]*h) + b[k]
		}
	}
}

// chanGradSums adds Σ_positions dy to sb[k] and Σ_positions dy·x̂ to sg[k], in
// float64.
func chanGradSums(sb, sg []float64, dy, xh []float32) {
	c := len(sb)
	k0 := chanAsm(c, len(dy))
	if k0 > 0 {
		chanGradSumsx8(&sb[0], &sg[0], &dy[0], &xh[0], c, k0, len(dy))
	}
	for p := 0; k0 < c && p < len(dy); p += c {
		ds := dy[p+k0 : p+c]
		n := len(ds)
		xhs, sb, sg := xh[p+k0 : p+c][:n], sb[k0:][:n], sg[k0:][:n]
		for k, v := range ds {
			sb[k] += float64(v)
			sg[k] += float64(float64(v) * float64(xhs[k]))
		}
	}
}

// chanInputGrad sets dx = k_c·dy − a_c − x̂·b_c for every position.
func chanInputGrad(dx, dy, xh, kc, a, b []float32) {
	c := len(kc)
	k0 := chanAsm(c, len(dy))
	if k0 > 0 {
		chanInputGradx8(&dx[0], &dy[0], &xh[0], &kc[0], &a[0], &b[0], c, k0, len(dy))
	}
	for p := 0; k0 < c && p < len(dy); p += c {
		ds := dy[p+k0 : p+c]
		n := len(ds)
		xhs, dxs, kc, a, b := xh[p+k0 : p+c][:n], dx[p+k0 : p+c][:n], kc[k0:][:n], a[k0:][:n], b[k0:][:n]
		for k, v := range ds {
			dxs[k] = float32(kc[k]*v) - a[k] - float32(xhs[k]*b[k])
		}
	}
}
