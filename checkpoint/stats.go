package checkpoint

import "math"

// TensorStats summarises one tensor of a file: its type, shape, number of
// values and, over its finite values, their range, mean and standard deviation.
type TensorStats struct {
	Name  string   `json:"name"`
	DType string   `json:"dtype"` // f32, f64 or bytes
	Shape []int    `json:"shape"`
	N     int      `json:"n"` // values, or bytes of a byte blob
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Mean  *float64 `json:"mean,omitempty"`
	Std   *float64 `json:"std,omitempty"`
	NaN   int      `json:"nan,omitempty"` // count of NaN or infinite values
}

// Stats summarises t (the moments accumulate in float64).
func (t *Tensor) Stats() TensorStats {
	s := TensorStats{Name: t.Name, Shape: t.Shape}
	var n int
	var at func(i int) float64
	switch {
	case t.F32 != nil:
		s.DType, n = "f32", len(t.F32)
		at = func(i int) float64 { return float64(t.F32[i]) }
	case t.F64 != nil:
		s.DType, n = "f64", len(t.F64)
		at = func(i int) float64 { return t.F64[i] }
	default:
		s.DType, s.N = "bytes", len(t.Bytes)
		return s
	}
	s.N = n
	lo, hi := math.Inf(1), math.Inf(-1)
	var sum, sum2 float64
	k := 0
	for i := 0; i < n; i++ {
		v := at(i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.NaN++
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
		sum += v
		sum2 += v * v
		k++
	}
	if k > 0 {
		mean := sum / float64(k)
		std := math.Sqrt(math.Max(0, sum2/float64(k)-mean*mean))
		s.Min, s.Max, s.Mean, s.Std = &lo, &hi, &mean, &std
	}
	return s
}
