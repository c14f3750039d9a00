package nn

import (
	"math"
	"sync"

	"github.com/latent-ml/latent/tensor"
)

// Scratch memory. Some of a layer's buffers hold values that live only inside
// one Forward or Backward call: Winograd's products M, dM and dV, the im2col
// patches of a convolution's backward pass. Kept in every layer, they add up to
// most of a U-Net's memory (each is 16 planes of the whole batch's tiles), so
// they are borrowed instead from one process-wide free list and given back before
// the call returns. A network then holds about as much scratch as its largest
// layer needs at once, and a warm step allocates nothing: once every size has
// been seen, borrow finds a buffer large enough.
var scratch scratchList

type scratchList struct {
	mu     sync.Mutex
	free   [][]float32
	poison bool // tests: fill borrowed buffers with NaN, to catch reads of stale values
}

// borrow returns n float32s of scratch with unspecified contents. Give them back
// with giveBack when the call that borrowed them is done.
func borrow(n int) []float32 {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	best := -1
	for i, b := range scratch.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(scratch.free[best])) {
			best = i
		}
	}
	var b []float32
	if best >= 0 {
		b = scratch.free[best][:n]
		scratch.removeFree(best)
	} else {
		b = make([]float32, n)
	}
	if scratch.poison {
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	return b
}

// scratchKeep is the most buffers the free list holds: past it, giveBack drops
// the smallest. A warm step borrows the same sizes, as many at once, every time,
// so once the list holds them it stops changing (dropping a buffer too small for
// the request at hand instead made the two-worker steps of a network allocate
// afresh every time).
const scratchKeep = 16

// giveBack returns a buffer from borrow to the free list.
func giveBack(b []float32) {
	if cap(b) == 0 {
		return
	}
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	scratch.free = append(scratch.free, b[:cap(b)])
	if len(scratch.free) > scratchKeep {
		small := 0
		for i, f := range scratch.free {
			if cap(f) < cap(scratch.free[small]) {
				small = i
			}
		}
		scratch.removeFree(small)
	}
}

// removeFree drops entry i of the free list; the caller holds s.mu.
func (s *scratchList) removeFree(i int) {
	last := len(s.free) - 1
	s.free[i] = s.free[last]
	s.free[last] = nil
	s.free = s.free[:last]
}

// borrowMat points m at rows×cols of borrowed scratch (give back m.Data).
func borrowMat(m *tensor.Mat, rows, cols int) *tensor.Mat {
	m.Rows, m.Cols, m.Stride = rows, cols, cols
	m.Data = borrow(rows * cols)
	return m
}
