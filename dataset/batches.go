package dataset

import (
	"fmt"

	"github.com/latent-ml/latent/rng"
)

// Batches yields the mini-batches of an epoch as slices of row indices, so the
// data set itself is never copied or reordered (use Dataset.Gather to fill a
// reused batch matrix). Epoch e visits the rows in the order of the identity
// permutation shuffled by s.Child(e), so the order depends only on the stream
// and the epoch number: a resumed run calls SetEpoch and sees the same batches.
// With a nil stream the rows come in order. Next does not allocate.
//
//	b := dataset.NewBatches(d.Len(), 100, rng.New(seed))
//	for epoch := 0; epoch < epochs; epoch++ {
//		for idx := b.Next(); idx != nil; idx = b.Next() {
//			x = d.Gather(x, idx)
//			...
//		}
//	}
type Batches struct {
	// DropLast skips the last batch of an epoch when it is smaller than Size.
	DropLast bool
	size     int
	perm     []int
	s        *rng.Stream
	epoch    int
	pos      int // next index in perm; -1 before the epoch's shuffle
}

// NewBatches returns batches of size rows out of n. It panics if n < 0 or
// size < 1.
func NewBatches(n, size int, s *rng.Stream) *Batches {
	if n < 0 || size < 1 {
		panic(fmt.Sprintf("dataset: NewBatches(n=%d, size=%d)", n, size))
	}
	return &Batches{size: size, perm: make([]int, n), s: s, pos: -1}
}

// Size returns the batch size.
func (b *Batches) Size() int { return b.size }

// Epoch returns the number of the epoch Next is in (or will start).
func (b *Batches) Epoch() int { return b.epoch }

// SetEpoch makes the next call to Next start epoch e from its beginning.
func (b *Batches) SetEpoch(e int) { b.epoch, b.pos = e, -1 }

// PerEpoch returns the number of batches in an epoch.
func (b *Batches) PerEpoch() int {
	if b.DropLast {
		return len(b.perm) / b.size
	}
	return (len(b.perm) + b.size - 1) / b.size
}

// Next returns the next batch of row indices, valid until the following call
// to Next, or nil at the end of the epoch; the call after a nil starts the
// next epoch.
func (b *Batches) Next() []int {
	if b.pos < 0 {
		for i := range b.perm {
			b.perm[i] = i
		}
		if b.s != nil {
			c := b.s.Child(uint64(b.epoch))
			for i := len(b.perm) - 1; i > 0; i-- {
				j := c.IntN(i + 1)
				b.perm[i], b.perm[j] = b.perm[j], b.perm[i]
			}
		}
		b.pos = 0
	}
	rest := len(b.perm) - b.pos
	if rest == 0 || (b.DropLast && rest < b.size) {
		b.epoch++
		b.pos = -1
		return nil
	}
	k := min(rest, b.size)
	idx := b.perm[b.pos : b.pos+k : b.pos+k]
	b.pos += k
	return idx
}
