package dataset

import (
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Dequantize against values worked out by hand from the same stream of u.
func TestDequantizeKnownValues(t *testing.T) {
	x := tensor.New(2, 3)
	copy(x.Data, []float32{0, 1, 128.0 / 255, 17.0 / 255, 254.0/255 + 5e-5, 3.0/255 - 5e-5})
	levels := []float64{0, 255, 128, 17, 254, 3}
	if !Is8Bit(x) {
		t.Error("levels (two off by 5e-5) are not 8-bit")
	}
	y, err := Dequantize(x, "toy", 7)
	if err != nil {
		t.Fatal(err)
	}
	s := rng.New(7)
	for i, k := range levels {
		u := s.Float64()
		want := float32((k + u) / 256)
		if y.Data[i] != want {
			t.Errorf("value %d: got %v, want (%v + %v)/256 = %v", i, y.Data[i], k, u, want)
		}
		if lo, hi := float32(k/256), float32((k+1)/256); y.Data[i] < lo || y.Data[i] > hi {
			t.Errorf("value %d = %v outside the box [%v, %v]", i, y.Data[i], lo, hi)
		}
	}
	// The input is untouched and the same seed gives the same draw.
	if x.Data[1] != 1 {
		t.Error("Dequantize changed its input")
	}
	y2, _ := Dequantize(x, "toy", 7)
	y3, _ := Dequantize(x, "toy", 8)
	for i := range y.Data {
		if y.Data[i] != y2.Data[i] {
			t.Fatal("same seed, different values")
		}
	}
	if y.Data[0] == y3.Data[0] {
		t.Error("another seed gave the same u")
	}
}

// Values that are not 8-bit levels are refused with an error naming the data,
// the row, the column and the value.
func TestDequantizeRefusesNon8Bit(t *testing.T) {
	for _, c := range []struct {
		v    float32
		want string
	}{
		{0.5, "0.5"},                // halfway between 127/255 and 128/255
		{1.0/255 + 1e-3, "0.00492"}, // off a level by 1e-3
		{-0.2, "-0.2"},
		{1.5, "1.5"},
		{float32(math.NaN()), "NaN"},
	} {
		x := tensor.New(2, 2)
		x.Data[3] = c.v
		if Is8Bit(x) {
			t.Errorf("%v: Is8Bit", c.v)
		}
		_, err := Dequantize(x, "run.npy", 1)
		if err == nil {
			t.Errorf("%v: no error", c.v)
			continue
		}
		for _, w := range []string{"run.npy", "row 1, value 1", c.want, "(k+u)/256"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not name %q", c.v, err, w)
			}
		}
	}
}

// Bits per dimension of 8-bit data: a uniform density on [0, 1]^d (log p = 0)
// spreads over 256 levels, 8 bits; a density of 256^d puts all its mass in one
// box, 0 bits.
func TestBitsPerDim8(t *testing.T) {
	for _, c := range []struct {
		logp float64
		d    int
		want float64
	}{
		{0, 784, 8},
		{784 * math.Log(256), 784, 0},
		{-10 * math.Ln2, 10, 9},
		{3 * math.Log(16), 3, 4},
	} {
		if got := BitsPerDim8(c.logp, c.d); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("BitsPerDim8(%v, %d) = %v, want %v", c.logp, c.d, got, c.want)
		}
	}
}
