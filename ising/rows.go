package ising

import (
	"fmt"

	"github.com/latent-ml/latent/tensor"
)

// MeasureRows returns the observables (Measure) at temperature T of the L×L
// configurations in the rows of x, one per row in row-major order, with 1 for a
// spin up and 0 for a spin down (the ising data set's encoding, x = (s+1)/2); any
// value above 0.5 counts as up. The energy counts each bond of the periodic
// lattice once (right and down neighbours). It panics if x does not have L²
// columns.
func MeasureRows(x *tensor.Mat, L int, T float64) Observables {
	if L < 2 || x.Cols != L*L {
		panic(fmt.Sprintf("ising: MeasureRows: %d columns for an %d×%d lattice", x.Cols, L, L))
	}
	energy, mag := make([]int, x.Rows), make([]int, x.Rows)
	for n := 0; n < x.Rows; n++ {
		r := x.Row(n)
		spin := func(i, j int) int {
			if r[(i%L)*L+j%L] > 0.5 {
				return 1
			}
			return -1
		}
		e, m := 0, 0
		for i := 0; i < L; i++ {
			for j := 0; j < L; j++ {
				s := spin(i, j)
				e -= s * (spin(i, j+1) + spin(i+1, j))
				m += s
			}
		}
		energy[n], mag[n] = e, m
	}
	return Measure(L*L, T, energy, mag)
}
