package nn

import "testing"

// TestPieces: the pieces of a reduction depend only on the shape, and
// reducePieces sums them in piece order.
func TestPieces(t *testing.T) {
	if g := pieceGrain(10, 100); g != 10 {
		t.Errorf("small problem: grain %d, want one piece of 10 rows", g)
	}
	if g := pieceGrain(100, 1000); g != 16 {
		t.Errorf("large problem: grain %d, want 16 rows (16384/1000)", g)
	}
	part := partials(nil, 3, 2)
	copy(part, []float64{1, 2, 10, 20, 100, 200})
	dst := make([]float64, 2)
	reducePieces(dst, part, 2, 0)
	if dst[0] != 111 || dst[1] != 222 {
		t.Errorf("reducePieces = %v, want [111 222]", dst)
	}
	reducePieces(dst[:1], part, 2, 1)
	if dst[0] != 222 {
		t.Errorf("reducePieces at offset 1 = %g, want 222", dst[0])
	}
	if p := partials(part, 2, 2); &p[0] != &part[0] || p[0] != 0 || len(p) != 4 {
		t.Error("partials did not reuse and clear the buffer")
	}
}
