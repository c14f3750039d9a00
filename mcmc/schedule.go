package mcmc

import (
	"fmt"
	"math"
)

// SigmoidBetas returns the sigmoidal annealing schedule of Grosse, Ghahramani &
// Adams (2015), "Sandwiching the marginal likelihood using bidirectional Monte
// Carlo", section 6.2, which Wu et al. (2017) use for decoder-based models: with
// K = steps transitions and t_k = rad·(2k/K − 1), k = 0…K,
//
//	β_k = (σ(t_k) − σ(−rad)) / (σ(rad) − σ(−rad)),   σ the logistic sigmoid,
//
// so β_0 = 0, β_K = 1 and the distributions crowd near both ends. Their code uses
// rad = 4. It panics if steps < 1 or rad is not positive and finite.
func SigmoidBetas(steps int, rad float64) []float64 {
	if steps < 1 || !(rad > 0) || math.IsInf(rad, 0) {
		panic(fmt.Sprintf("mcmc: SigmoidBetas: need steps >= 1 and rad > 0, got %d, %g", steps, rad))
	}
	sig := func(t float64) float64 { return 1 / (1 + math.Exp(-t)) }
	lo, hi := sig(-rad), sig(rad)
	b := make([]float64, steps+1)
	for k := range b {
		t := rad * (2*float64(k)/float64(steps) - 1)
		b[k] = (sig(t) - lo) / (hi - lo)
	}
	b[0], b[steps] = 0, 1
	return b
}

// GeometricBetas returns β_0 = 0 and β_k = min^((K−k)/(K−1)), k = 1…K, K = steps: the
// nonzero temperatures evenly spaced in log β from min to 1, as in Neal (2001),
// section 6. It panics if steps < 2 or min is not in (0, 1).
func GeometricBetas(steps int, min float64) []float64 {
	if steps < 2 || !(min > 0 && min < 1) {
		panic(fmt.Sprintf("mcmc: GeometricBetas: need steps >= 2 and 0 < min < 1, got %d, %g", steps, min))
	}
	b := make([]float64, steps+1)
	lm := math.Log(min)
	for k := 1; k <= steps; k++ {
		b[k] = math.Exp(lm * float64(steps-k) / float64(steps-1))
	}
	b[steps] = 1
	return b
}

// LinearBetas returns β_k = k/K, k = 0…K, K = steps. It panics if steps < 1.
func LinearBetas(steps int) []float64 {
	if steps < 1 {
		panic(fmt.Sprintf("mcmc: LinearBetas: need steps >= 1, got %d", steps))
	}
	b := make([]float64, steps+1)
	for k := range b {
		b[k] = float64(k) / float64(steps)
	}
	return b
}

// checkBetas returns an error unless betas runs from 0 to 1, strictly increasing,
// with at least 2 values.
func checkBetas(betas []float64) error {
	if len(betas) < 2 || betas[0] != 0 || betas[len(betas)-1] != 1 {
		return fmt.Errorf("mcmc: AIS betas must run from 0 to 1 with at least 2 values, got %d values", len(betas))
	}
	for k := 1; k < len(betas); k++ {
		if !(betas[k] > betas[k-1]) {
			return fmt.Errorf("mcmc: AIS betas must increase: betas[%d]=%g after %g", k, betas[k], betas[k-1])
		}
	}
	return nil
}
