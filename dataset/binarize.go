package dataset

import (
	"fmt"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Binarize turns data in [0, 1] into binary data in place:
//
//	"threshold":  x ← 1 if x > 0.5, else 0
//	"stochastic": x ← 1 with probability x (one fixed draw from rng.New(seed),
//	              as Salakhutdinov & Murray's binarised MNIST)
//	"" or "none": no change
//
// "dynamic" (a fresh draw for every mini-batch) is not a property of the data
// set: models call BinarizeBatch on each batch instead, and Binarize returns an
// error for it. Values outside [0, 1] are an error; d is then unchanged.
func Binarize(d *Dataset, mode string, seed uint64) error {
	switch mode {
	case "", "none":
		return nil
	case "threshold", "stochastic":
	case "dynamic":
		return fmt.Errorf("dataset: binarize %q: dynamic binarisation draws afresh for each mini-batch; call BinarizeBatch on the batches", mode)
	default:
		return fmt.Errorf("dataset: binarize %q: want threshold, stochastic or dynamic", mode)
	}
	if err := CheckUnit(d); err != nil {
		return err
	}
	if mode == "threshold" {
		for i := 0; i < d.X.Rows; i++ {
			r := d.X.Row(i)
			for j, v := range r {
				if v > 0.5 {
					r[j] = 1
				} else {
					r[j] = 0
				}
			}
		}
	} else {
		s := rng.New(seed)
		for i := 0; i < d.X.Rows; i++ {
			r := d.X.Row(i)
			s.FillBernoulli(r, r)
		}
	}
	d.Binary = true
	return nil
}

// CheckUnit reports an error when a value of d.X lies outside [0, 1].
func CheckUnit(d *Dataset) error {
	for i := 0; i < d.X.Rows; i++ {
		for j, v := range d.X.Row(i) {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("dataset: %s: value %v at row %d, column %d is outside [0, 1] (scale the data first, e.g. scale=max)",
					d.Name, v, i, j)
			}
		}
	}
	return nil
}

// BinarizeBatch replaces every value p of m (in [0, 1]) by a fresh Bernoulli(p)
// draw from s, in place: dynamic binarisation, called on each mini-batch.
func BinarizeBatch(m *tensor.Mat, s *rng.Stream) {
	for i := 0; i < m.Rows; i++ {
		r := m.Row(i)
		s.FillBernoulli(r, r)
	}
}
