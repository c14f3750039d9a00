package mcmc_test

import (
	"fmt"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/tensor"
)

// A 2×1 RBM: log Z by enumeration, and the free energy of one visible state
// (checked by hand: log Σ_{v,h} e^{−E} = 2.703067, F(1,0) = −0.5 − softplus(1.25)).
func ExampleExactLogZ() {
	m := mcmc.Bipartite{
		W: tensor.FromSlice(2, 1, []float32{1, -1}),
		B: []float32{0.5, 0},
		C: []float32{0.25},
	}
	lz, err := mcmc.ExactLogZ(m)
	if err != nil {
		panic(err)
	}
	fmt.Printf("log Z = %.6f\n", lz)
	fmt.Printf("F(1,0) = %.6f\n", m.FreeEnergy([]float32{1, 0}))
	// Output:
	// log Z = 2.703067
	// F(1,0) = -2.001929
}
