package nn

import (
	"math"
	"math/bits"
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
	used   []uint64 // used[i]: when free[i] was given back (the clock's count)
	clock  uint64
	poison bool // tests: fill borrowed buffers with NaN, to catch reads of stale values
}

// borrow returns n float32s of scratch with unspecified contents. Give them back
// with giveBack when the call that borrowed them is done.
//
// Buffers come in size classes, eight per doubling (at most 12.5% unused), and a
// request takes a free buffer of its own class or a new one, never a larger
// buffer of another class: a warm step borrows the same classes, as many at
// once, every time, so once its first step has filled the list nothing more is
// allocated, in whatever order the workers borrow. (Taking the smallest buffer
// that fitted let a small request take a large one and a later large request
// allocate, differently from step to step with two workers.)
func borrow(n int) []float32 {
	c := scratchClass(n)
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	var b []float32
	for i, f := range scratch.free {
		if cap(f) == c {
			b = f[:n]
			scratch.removeFree(i)
			break
		}
	}
	if b == nil {
		b = make([]float32, n, c)
	}
	if scratch.poison {
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	return b
}

// scratchClass rounds n up to its size class: n itself up to 16, else the next
// multiple of an eighth of the power of two below n.
func scratchClass(n int) int {
	if n <= 16 {
		return n
	}
	step := 1 << (bits.Len(uint(n)) - 4) // an eighth of the power of two ≤ n
	return (n + step - 1) / step * step
}

// scratchKeep is the most buffers the free list holds: past it, giveBack drops
// the one given back longest ago (a network's own buffers return every step).
const scratchKeep = 64

// giveBack returns a buffer from borrow to the free list.
func giveBack(b []float32) {
	if cap(b) == 0 {
		return
	}
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	scratch.clock++
	scratch.free = append(scratch.free, b[:cap(b)])
	scratch.used = append(scratch.used, scratch.clock)
	if len(scratch.free) > scratchKeep {
		old := 0
		for i, u := range scratch.used {
			if u < scratch.used[old] {
				old = i
			}
		}
		scratch.removeFree(old)
	}
}

// removeFree drops entry i of the free list; the caller holds s.mu.
func (s *scratchList) removeFree(i int) {
	last := len(s.free) - 1
	s.free[i], s.used[i] = s.free[last], s.used[last]
	s.free[last] = nil
	s.free, s.used = s.free[:last], s.used[:last]
}

// borrowMat points m at rows×cols of borrowed scratch (give back m.Data).
func borrowMat(m *tensor.Mat, rows, cols int) *tensor.Mat {
	m.Rows, m.Cols, m.Stride = rows, cols, cols
	m.Data = borrow(rows * cols)
	return m
}
