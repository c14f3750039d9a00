package nn

import (
	"math"
	"testing"
)

func TestTimeEmbedding(t *testing.T) {
	ts := []int{0, 1, 17, 999}
	const dims = 6
	e := TimeEmbedding(nil, ts, dims)
	if e.Rows != 4 || e.Cols != dims {
		t.Fatalf("shape %d×%d", e.Rows, e.Cols)
	}
	// ω = 1, 10000^(−1/3), 10000^(−2/3)
	omega := []float64{1, math.Pow(10000, -1.0/3), math.Pow(10000, -2.0/3)}
	for i, ti := range ts {
		for k, w := range omega {
			if s := math.Sin(float64(ti) * w); math.Abs(float64(e.At(i, k))-s) > 1e-7 {
				t.Errorf("t=%d: sin column %d = %g, want %g", ti, k, e.At(i, k), s)
			}
			if c := math.Cos(float64(ti) * w); math.Abs(float64(e.At(i, 3+k))-c) > 1e-7 {
				t.Errorf("t=%d: cos column %d = %g, want %g", ti, k, e.At(i, 3+k), c)
			}
		}
	}
	// t = 0: sines 0, cosines 1; every row has unit norm per frequency pair
	for k := range 3 {
		if e.At(0, k) != 0 || e.At(0, 3+k) != 1 {
			t.Errorf("t=0, k=%d: (%g, %g), want (0, 1)", k, e.At(0, k), e.At(0, 3+k))
		}
	}
	// the buffer is reused
	if e2 := TimeEmbedding(e, []int{5, 6, 7, 8}, dims); e2 != e {
		t.Error("a buffer of the right shape was not reused")
	}
}

func TestTimeEmbeddingOddPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("dims 5 did not panic")
		}
	}()
	TimeEmbedding(nil, []int{1}, 5)
}
