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
	s64                []float64 // per-channel (BatchNorm) or per-(row, group) statistics
	a, b, d            []float32 // per-channel coefficients
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
