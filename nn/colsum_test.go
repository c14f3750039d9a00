package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// TestColAccumSameBits checks colAccum, on every path this CPU has, against the
// scalar chain it promises (acc[k] += float64(v), row after row) bit for bit,
// on widths around the kernels' 32- and 8-column strips, strides wider than the
// strip, column offsets and starting accumulators that are not zero. Values of
// mixed magnitude make the order of the additions show in the bits.
func TestColAccumSameBits(t *testing.T) {
	s := rng.New(7)
	paths := []bool{false}
	if colSumAsm {
		paths = append(paths, true)
	}
	defer func(v bool) { colSumAsm = v }(colSumAsm)
	for _, asm := range paths {
		colSumAsm = asm
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
