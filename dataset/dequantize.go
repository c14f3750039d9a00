package dataset

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Dequantization names the one protocol by which latent scores 8-bit data with a
// density: the value a model is scored at, from the level k and u ~ U(0, 1).
// Families that dequantise say so in their estimate as the metric
// "dequantized" with this value.
const Dequantization = "(k+u)/256"

// levelTol is how far a value may lie from its level k/255 and still be read as
// that level: float32 rounding of k/255 is below 1e-7, a value off by more than
// 1e-4 was not an 8-bit level.
const levelTol = 1e-4

// Dequantize returns the uniformly dequantised copy of x: each value v in
// [0, 1] is read as the 8-bit level k = round(255·v) and replaced by
//
//	y = (k + u) / 256,   u ~ U(0, 1),
//
// so y lies in the box [k/256, (k+1)/256) of width 1/256. The u are drawn value
// by value, row by row, from rng.New(seed), so the result does not depend on
// anything but x and seed. For a density p on [0, 1]^d, Jensen's inequality
// gives the bound on the probability of the 8-bit data
//
//	log P(k) = log ∫_box p(y) dy ≥ E_u[log p(y)] − d·ln 256,
//
// and bits per dimension of the 8-bit data are (d·ln 256 − log p(y))/(d·ln 2)
// (BitsPerDim8). Theis, van den Oord & Bethge (2016), "A note on the
// evaluation of generative models", section 3.1.
//
// name names the data in the error returned when a value is not within 1e-4 of
// a level k/255 (data that are not 8-bit images scaled to [0, 1]).
func Dequantize(x *tensor.Mat, name string, seed uint64) (*tensor.Mat, error) {
	if name == "" {
		name = "the data"
	}
	y := tensor.New(x.Rows, x.Cols)
	s := rng.New(seed)
	for i := range x.Rows {
		xr, yr := x.Row(i), y.Row(i)
		for j, v := range xr {
			k, ok := level8(v)
			if !ok {
				return nil, fmt.Errorf("dataset: %s is not 8-bit data in [0, 1] (values k/255) as dequantisation %s needs: row %d, value %d is %g",
					name, Dequantization, i, j, v)
			}
			yr[j] = float32((k + s.Float64()) / 256)
		}
	}
	return y, nil
}

// level8 returns the 8-bit level k = round(255·v) of v, and whether v lies
// within 1e-4 of k/255 in [0, 1].
func level8(v float32) (float64, bool) {
	k := math.Round(float64(v) * 255)
	return k, k >= 0 && k <= 255 && math.Abs(float64(v)-k/255) <= levelTol
}

// Is8Bit reports whether every value of x is an 8-bit level k/255 (within
// 1e-4), as Dequantize needs.
func Is8Bit(x *tensor.Mat) bool {
	for i := range x.Rows {
		for _, v := range x.Row(i) {
			if _, ok := level8(v); !ok {
				return false
			}
		}
	}
	return true
}

// BitsPerDim8 returns the bits per dimension of 8-bit data whose dequantised
// values (Dequantize) have mean log-density logp nats per example of d values:
//
//	(d·ln 256 − logp) / (d·ln 2) = 8 − logp/(d·ln 2),
//
// an upper bound on the data's bits per dimension when logp is exact or a
// lower bound on it.
func BitsPerDim8(logp float64, d int) float64 {
	return (float64(d)*math.Log(256) - logp) / (float64(d) * math.Ln2)
}
