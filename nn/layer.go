package nn

import (
	"fmt"
	"sync"

	"github.com/latent-ml/latent/tensor"
)

// Layer is one differentiable step y = f(x; θ) applied to every row of a batch.
//
// Forward returns y in a layer-owned buffer; Backward takes dy = ∂L/∂y for the batch
// of the last Forward, sets each parameter's G to ∂L/∂θ (summed over the batch) and
// returns dx = ∂L/∂x. Params lists the trainable parameters (none for activations).
type Layer interface {
	Forward(x *tensor.Mat) *tensor.Mat
	Backward(dy *tensor.Mat) *tensor.Mat
	Params() []*Param
}

// Sequential applies its layers in order: y = f_n(…f_2(f_1(x))).
// Backward runs the chain rule in reverse order.
type Sequential struct {
	Layers []Layer
}

// NewSequential returns the stack of layers.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Forward runs every layer in order.
func (s *Sequential) Forward(x *tensor.Mat) *tensor.Mat {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

// Backward runs every layer's Backward in reverse order and returns ∂L/∂x.
// If the first layer skips its input gradient (see Linear.NoInputGrad) the result
// is nil.
func (s *Sequential) Backward(dy *tensor.Mat) *tensor.Mat {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		dy = s.Layers[i].Backward(dy)
	}
	return dy
}

// Params returns the parameters of all layers, in layer order.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Reshape is the identity on data: it reinterprets each row, for example the NHWC
// output of a convolution, (H, W, C), as a flat vector of H·W·C values, or back.
// Because images are stored NHWC row by row, it copies nothing; it only checks that
// rows have In values. It serves as Flatten too.
type Reshape struct {
	In int // values per row, checked on every call
}

// Flatten returns a Reshape of rows with h·w·c values.
func Flatten(h, w, c int) *Reshape { return &Reshape{In: h * w * c} }

// Forward returns x unchanged. It panics if x.Cols != In.
func (r *Reshape) Forward(x *tensor.Mat) *tensor.Mat {
	if x.Cols != r.In {
		panic(fmt.Sprintf("nn: Reshape: rows have %d values, want %d", x.Cols, r.In))
	}
	return x
}

// Backward returns dy unchanged: the Jacobian of a reshape is the identity.
func (r *Reshape) Backward(dy *tensor.Mat) *tensor.Mat { return dy }

// Params returns nil.
func (r *Reshape) Params() []*Param { return nil }

// grainRows returns a piece size (in rows) such that one piece touches about
// 16k values: big enough to amortise scheduling, small enough to share work.
// It depends only on the shape, so results do not depend on the worker count.
func grainRows(cols int) int {
	g := 16384 / max(cols, 1)
	return max(g, 1)
}

// rowJob carries the arguments of a row-parallel loop, so that dispatching it
// (tensor.ParallelRange) allocates no closure: a warm training step must not
// allocate. fn must be a function literal that captures nothing.
type rowJob struct {
	a, b, c, d *tensor.Mat
	f32        []float32
	z32        []float32 // a second vector (thin3: a row of zeros)
	ll, dlv    []float64
	act        *Activation
	conv       *Conv2D
	convT      *ConvTranspose2D
	wg         *wgSet
	wgo        *winograd
	base       int // the first tile of j.b's planes (wgOutputJob)
	pb         *tensor.PackedB
	geom       ConvGeom
	x32        float32
	x64, y64   float64
	f64        []float64
	fn         func(j *rowJob, lo, hi int)
	fnW        func(j *rowJob, worker, lo, hi int)
}

var rowJobs = sync.Pool{New: func() any { return new(rowJob) }}

// newRowJob returns a cleared job from the pool that runs fn.
func newRowJob(fn func(j *rowJob, lo, hi int)) *rowJob {
	j := rowJobs.Get().(*rowJob)
	j.fn = fn
	return j
}

func rowRange(ctx any, lo, hi int) {
	j := ctx.(*rowJob)
	j.fn(j, lo, hi)
}

// parallel runs j.fn over [0, n) in pieces of grain, then returns j to the pool.
func (j *rowJob) parallel(n, grain int) {
	tensor.ParallelRange(n, grain, j, rowRange)
	*j = rowJob{}
	rowJobs.Put(j)
}

func rowRangeWorker(ctx any, worker, lo, hi int) {
	j := ctx.(*rowJob)
	j.fnW(j, worker, lo, hi)
}

// parallelWorker runs fn over [0, n) in pieces of grain with the index of the
// worker that runs each piece (tensor.ParallelRangeWorker), then returns j to
// the pool.
func (j *rowJob) parallelWorker(n, grain int, fn func(j *rowJob, worker, lo, hi int)) {
	j.fnW = fn
	tensor.ParallelRangeWorker(n, grain, j, rowRangeWorker)
	*j = rowJob{}
	rowJobs.Put(j)
}

// workerShare is the grain that splits n independent items into one run of
// consecutive items per worker. Only for jobs whose items' results do not
// depend on how they are grouped (each item writes its own outputs), so the
// bits still do not depend on the number of workers. Where neighbouring items
// write neighbouring cache lines (the rows of Winograd's weight planes, one
// per input channel; the packed planes' headers), workers that interleave
// small pieces fight over those lines: c4's weight transform took 98 µs on one
// worker and 85 on two in pieces of 8 channels, 55 in two halves (session 24).
func workerShare(n int) int {
	w := tensor.Workers()
	return max(1, (n+w-1)/w)
}

// forRows runs j over the rows of an r×c problem, in parallel pieces when it is
// large enough, then returns j to the pool.
func forRows(rows, cols int, j *rowJob) {
	grain := grainRows(cols)
	if rows*cols < 32768 {
		grain = max(rows, 1)
	}
	j.parallel(rows, grain)
}

// colSum sets dst[j] = Σ_i m[i,j], accumulating each column in float64 in row
// order (colAccum), split over columns. A matrix of colSumGroupValues values
// or more (a convolution's bias gradient: rows are its output pixels) is
// split over rows too, into up to 8 groups of consecutive rows fixed by the
// shape alone: each group's sums go to its own slot and the slots are added in
// order. Either way the bits do not depend on the number of workers.
func colSum(dst []float32, m *tensor.Mat) {
	if len(dst) != m.Cols {
		panic(fmt.Sprintf("nn: colSum: len %d != %d cols", len(dst), m.Cols))
	}
	if groups := colSumGroups(m.Rows, m.Cols); groups > 1 {
		p := f64Pool.Get().(*[]float64)
		if cap(*p) < groups*m.Cols {
			*p = make([]float64, groups*m.Cols)
		}
		slots := (*p)[:groups*m.Cols]
		clear(slots)
		j := newRowJob(colSumGroupJob)
		j.a, j.f64, j.base = m, slots, groups
		j.parallel(groups, 1)
		for k := range dst {
			var v float64
			for g := range groups {
				v += slots[g*m.Cols+k]
			}
			dst[k] = float32(v)
		}
		f64Pool.Put(p)
		return
	}
	j := newRowJob(func(j *rowJob, lo, hi int) {
		var acc [colPiece]float64
		a := acc[:hi-lo]
		colAccumMat(a, j.a, lo)
		for k, v := range a {
			j.f32[lo+k] = float32(v)
		}
	})
	j.a, j.f32 = m, dst
	if m.Rows*m.Cols < 32768 {
		for lo := 0; lo < m.Cols; lo += colPiece {
			j.fn(j, lo, min(lo+colPiece, m.Cols))
		}
		*j = rowJob{}
		rowJobs.Put(j)
		return
	}
	j.parallel(m.Cols, colPiece)
}

// colPiece is colSum's number of columns per parallel piece.
const colPiece = 64

// colSumGroupValues is the size from which colSum splits a matrix over rows:
// one group per colSumGroupValues values, at most 8. c1's bias gradient at
// batch 64 (50,176 rows of 32) took as long as its weight-gradient GEMM at one
// thread and ran on one worker whatever their number.
const colSumGroupValues = 1 << 16

// colSumGroups returns colSum's number of row groups for a rows×cols matrix.
func colSumGroups(rows, cols int) int {
	return max(1, min(8, rows, rows*cols/colSumGroupValues))
}

// colSumGroupJob sums the columns of row groups [lo, hi) of j.a (j.base
// groups) into their slots of j.f64 (cols values per group).
func colSumGroupJob(j *rowJob, lo, hi int) {
	m, groups := j.a, j.base
	for g := lo; g < hi; g++ {
		r0, r1 := g*m.Rows/groups, (g+1)*m.Rows/groups
		colAccum(j.f64[g*m.Cols:(g+1)*m.Cols], m.Data[r0*m.Stride:], r1-r0, m.Stride, 0)
	}
}

// f64Pool holds float64 scratch (*[]float64) for colSum's slots.
var f64Pool = sync.Pool{New: func() any { return new([]float64) }}
