package mcmc_test

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/tensor"
)

// HMC on a double well E(x) = (x² − 1)², handed over as an energy and its gradient:
// 100 chains, a warm-up that adapts each chain's step size, then 500 transitions.
// E[x²] = 0.833 by quadrature.
func ExampleHMC() {
	well := mcmc.EnergyTarget(1, func(grad, x []float64) float64 {
		u := x[0]*x[0] - 1
		grad[0] = 4 * u * x[0]
		return u * u
	})
	c, err := mcmc.NewChains(well, tensor.New(100, 1), 0.1, 1)
	if err != nil {
		panic(err)
	}
	mcmc.HMC{Leapfrog: 10, Adapt: &mcmc.StepAdapt{}}.Step(c, 100) // warm-up
	c.ResetCounts()
	var m2 float64
	for range 500 {
		mcmc.HMC{Leapfrog: 10}.Step(c, 1)
		for _, x := range c.X.Data {
			m2 += float64(x) * float64(x) / 50000
		}
	}
	fmt.Printf("E[x²] ≈ %.2f, acceptance rate %.1f\n", m2, c.AcceptRate())
	// Output:
	// E[x²] ≈ 0.83, acceptance rate 0.7
}

// lineDecoder is the decoder of x = z·w + b + N(0, σ² I) for a scalar z: a model
// implements Decoder with one batched pass over rows (here plain loops).
type lineDecoder struct {
	w, b   []float64
	sigma2 float64
}

func (d lineDecoder) LatentDim() int { return 1 }

// LogLik sets log N(x; z·w + b, σ² I) and its derivative Σ_j w_j (x_j − z w_j − b_j)/σ².
func (d lineDecoder) LogLik(grad, z, x *tensor.Mat, ll []float64) {
	for r := range z.Rows {
		zr := float64(z.At(r, 0))
		var s, g float64
		for j, xj := range x.Row(r) {
			e := float64(xj) - zr*d.w[j] - d.b[j]
			s += e * e
			g += d.w[j] * e
		}
		ll[r] = -s/(2*d.sigma2) - float64(len(d.w))/2*math.Log(2*math.Pi*d.sigma2)
		grad.Set(r, 0, float32(g/d.sigma2))
	}
}

// AIS with HMC on a one-dimensional latent line in ℝ², against the closed form
// log N(x; b, w wᵀ + σ² I), and the reverse estimate from the z that made x: an
// upper bound in expectation, here within its standard error of the exact value.
func ExampleAISDecoder() {
	d := lineDecoder{w: []float64{1, -2}, b: []float64{0.5, 0}, sigma2: 0.1}
	z := tensor.FromSlice(1, 1, []float32{0.7})
	x := tensor.FromSlice(1, 2, []float32{1.3, -1.2}) // 0.7·w + b + noise

	// Closed form: C = w wᵀ + σ² I, det C = σ²(σ² + |w|²), C⁻¹ = (I − w wᵀ/(σ² + |w|²))/σ².
	r0, r1, ww := 1.3-0.5, -1.2, 5.0
	rr, rw := r0*r0+r1*r1, r0*1+r1*(-2)
	exact := -0.5 * (2*math.Log(2*math.Pi) + math.Log(0.1*(0.1+ww)) + (rr-rw*rw/(0.1+ww))/0.1)

	cfg := mcmc.DecoderAISConfig{Chains: 64, Steps: 1000, Seed: 1}
	lo, up, err := mcmc.BDMC(d, x, z, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Printf("exact %.2f, AIS %.2f ± %.2f (lower), reverse %.2f ± %.2f (upper)\n",
		exact, lo.LogLik[0], lo.StdErr[0], up.LogLik[0], up.StdErr[0])
	// Output:
	// exact -1.86, AIS -1.86 ± 0.03 (lower), reverse -1.82 ± 0.04 (upper)
}
