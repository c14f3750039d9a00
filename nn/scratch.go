package nn

import (
	"math"

	"github.com/latent-ml/latent/tensor"
)

// Scratch memory. Some of a layer's buffers hold values that live only inside
// one Forward or Backward call: Winograd's products M, dM and dV, the blocks of
// im2col patches. Kept in every layer, they add up to most of a U-Net's memory
// (each of Winograd's is 16 planes of the whole batch's tiles), so they are
// borrowed instead from tensor's scratch pool (tensor.BorrowScratch, by size
// class) and given back before the call returns. A network then holds about as
// much scratch as its largest layer needs at once, and a warm step allocates
// nothing.
var scratchPoison bool // tests: fill borrowed buffers with NaN, to catch reads of stale values

// borrow returns n float32s of scratch with unspecified contents. Give them back
// with giveBack when the call that borrowed them is done.
func borrow(n int) []float32 {
	b := tensor.BorrowScratch(n)
	if scratchPoison {
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	return b
}

// giveBack returns a buffer from borrow.
func giveBack(b []float32) { tensor.ReturnScratch(b) }

// borrowMat points m at rows×cols of borrowed scratch (give back m.Data).
func borrowMat(m *tensor.Mat, rows, cols int) *tensor.Mat {
	m.Rows, m.Cols, m.Stride = rows, cols, cols
	m.Data = borrow(rows * cols)
	return m
}
