package mcmc_test

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/mcmc"
)

// A physicist's energy: the double well E(x) = (x² − 1)² on ℝ. AIS from N(0, 1)
// with HMC transitions estimates its log Z; quadrature gives 0.6799.
func ExampleAISEnergy() {
	e := func(grad, x []float64) float64 {
		u := x[0]*x[0] - 1
		grad[0] = 4 * u * x[0]
		return u * u
	}
	r, err := mcmc.AISEnergy(mcmc.EnergyTarget(1, e), mcmc.EnergyAISConfig{Chains: 200, Steps: 200, Leapfrog: 5, Seed: 1})
	if err != nil {
		panic(err)
	}
	var z float64 // the midpoint rule on [−4, 4]
	for i := range 80000 {
		x := -4 + (float64(i)+0.5)*1e-4
		z += math.Exp(-(x*x - 1) * (x*x - 1))
	}
	fmt.Printf("AIS log Z within 3 standard errors of quadrature's %.4f: %v\n", math.Log(z*1e-4), math.Abs(r.LogZ-math.Log(z*1e-4)) < 3*r.StdErr)
	// Output: AIS log Z within 3 standard errors of quadrature's 0.6799: true
}
