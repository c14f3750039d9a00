package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// TestColAccumSameBits checks colAccum, on every path this CPU has, against the
// scalar chain it promises (acc[k] += float64(v), row after row) bit for bit,
// on widths around the kernels' 32- and 8-column strips, strides wider than the
// strip, column offsets and starting accumulators that are not zero. Values of
// mixed magnitude make the order of the additions show in the bits.
func TestColAccumSameBits(t *testing.T) {
	s := rng.New(7)
	type path struct{ asm, asm512 bool }
	paths := []path{{false, false}}
	if colSumAsm {
		paths = append(paths, path{true, false})
		if hasAVX512F {
			paths = append(paths, path{true, true})
		}
	}
	defer func(v, v512 bool) { colSumAsm, colSumAsm512 = v, v512 }(colSumAsm, colSumAsm512)
	for _, p := range paths {
		colSumAsm, colSumAsm512 = p.asm, p.asm512
		asm := p
		for _, n := range []int{1, 3, 7, 8, 9, 16, 31, 32, 33, 40, 64, 70} {
			for _, rows := range []int{0, 1, 5, 97} {
				lo := n % 5
				stride := lo + n + n%3
				data := make([]float32, max(rows*stride, 1))
				for i := range data {
					data[i] = float32(s.NormFloat64() * math.Pow(10, float64(i%7-3)))
				}
				got := make([]float64, n)
				want := make([]float64, n)
				for k := range got {
					got[k] = s.NormFloat64()
					want[k] = got[k]
				}
				colAccum(got, data, rows, stride, lo)
				for i := range rows {
					for k := range want {
						want[k] += float64(data[i*stride+lo+k])
					}
				}
				for k := range want {
					if math.Float64bits(got[k]) != math.Float64bits(want[k]) {
						t.Fatalf("asm %v, %d columns, %d rows: column %d is %v, the scalar chain gives %v", asm, n, rows, k, got[k], want[k])
					}
				}
			}
		}
	}
}

// TestColAccumNarrow checks colAccum on 1, 2 and 4 columns stored without gaps
// against the eight-lane order colAccumNarrow promises, bit for bit, on every
// path, for lengths with and without a tail past the last eight.
func TestColAccumNarrow(t *testing.T) {
	s := rng.New(8)
	paths := []bool{false}
	if colSumAsm {
		paths = append(paths, true)
	}
	defer func(v bool) { colSumAsm = v }(colSumAsm)
	for _, asm := range paths {
		colSumAsm = asm
		for _, n := range []int{1, 2, 4} {
			for _, rows := range []int{1, 3, 8, 97, 784} {
				data := make([]float32, rows*n)
				for i := range data {
					data[i] = float32(s.NormFloat64() * math.Pow(10, float64(i%7-3)))
				}
				got := make([]float64, n)
				for k := range got {
					got[k] = s.NormFloat64()
				}
				want := append([]float64(nil), got...)
				colAccum(got, data, rows, n, 0)
				var lanes [8]float64
				for i, v := range data {
					lanes[i%8] += float64(v)
				}
				for j, v := range lanes {
					want[j%n] += v
				}
				for k := range want {
					if math.Float64bits(got[k]) != math.Float64bits(want[k]) {
						t.Fatalf("asm %v, %d columns, %d rows: column %d is %v, eight lanes give %v", asm, n, rows, k, got[k], want[k])
					}
				}
			}
		}
	}
}

// TestColSumGroups checks colSum on matrices large enough to be split over
// rows (one and several columns, a stride wider than the row, a ragged last
// group): each column within float32 rounding of its float64 sum, the same
// bits with 1 and 2 workers, and a warm call that allocates nothing.
func TestColSumGroups(t *testing.T) {
	s := rng.New(9)
	for _, c := range []struct{ rows, cols, stride int }{{200011, 1, 1}, {30001, 40, 40}, {5003, 33, 41}, {70000, 4, 4}} {
		if colSumGroups(c.rows, c.cols) < 2 {
			t.Fatalf("%+v: not split over rows", c)
		}
		m := &tensor.Mat{Rows: c.rows, Cols: c.cols, Stride: c.stride, Data: make([]float32, (c.rows-1)*c.stride+c.cols)}
		s.FillNormal(m.Data, 0.3, 1)
		var one, two []float32
		withWorkers(1, func() { one = make([]float32, c.cols); colSum(one, m) })
		withWorkers(2, func() { two = make([]float32, c.cols); colSum(two, m) })
		sameBits(t, fmt.Sprintf("colSum %+v 1 vs 2 workers", c), one, two)
		for k := range c.cols {
			var sum, abs float64
			for i := range c.rows {
				v := float64(m.Data[i*c.stride+k])
				sum += v
				abs += math.Abs(v)
			}
			if math.Abs(float64(one[k])-sum) > 1e-7*abs+1e-6*math.Abs(sum) {
				t.Fatalf("colSum %+v column %d: %g, float64 %g", c, k, one[k], sum)
			}
		}
		noAllocs(t, fmt.Sprintf("colSum %+v", c), func() { colSum(one, m) })
	}
}
