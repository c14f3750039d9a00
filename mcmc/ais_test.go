package mcmc

import (
	"errors"
	"math"
	"testing"
)

// Progress counts every intermediate distribution, and Stop ends a run at the
// first distribution after which it returns an error, which comes back; a run
// with both set and never stopped gives the same estimate as one without.
func TestAISProgressAndStop(t *testing.T) {
	m := randomBipartite(6, 4, 0.5, 1)
	betas := AISBetas(40)
	plain, err := AIS(m, AISConfig{Chains: 8, Betas: betas, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var last, calls int
	watched, err := AIS(m, AISConfig{Chains: 8, Betas: betas, Seed: 3,
		Progress: func(done, total int) {
			if total != len(betas)-1 || done != last+1 {
				t.Errorf("progress %d of %d after %d", done, total, last)
			}
			last = done
		},
		Stop: func() error { calls++; return nil }})
	if err != nil || watched.LogZ != plain.LogZ || last != len(betas)-1 || calls != len(betas)-2 {
		t.Errorf("log Z %v (plain %v), %v; progress reached %d, Stop called %d times", watched.LogZ, plain.LogZ, err, last, calls)
	}
	stopErr := errors.New("stopped")
	calls = 0
	_, err = AIS(m, AISConfig{Chains: 8, Betas: betas, Seed: 3, Stop: func() error {
		if calls++; calls == 5 {
			return stopErr
		}
		return nil
	}})
	if err != stopErr || calls != 5 {
		t.Errorf("error %v after %d calls of Stop, want %v after 5", err, calls, stopErr)
	}
}

// LogWeights on weights whose summaries are known by hand.
func TestLogWeights(t *testing.T) {
	lm, se, ess := LogWeights([]float64{-3, -3, -3, -3})
	if math.Abs(lm+3) > 1e-12 || se != 0 || math.Abs(ess-4) > 1e-12 {
		t.Errorf("equal weights: log mean %g, se %g, ess %g", lm, se, ess)
	}
	// Weights 1, 2, 3 (logs 0, log 2, log 3): mean 2, ESS 36/14, se of log mean
	// sd(r)/(√3 mean(r)) with r = w/3: sd of (1,2,3)/3 is 1/3, mean 2/3.
	lm, se, ess = LogWeights([]float64{0, math.Log(2), math.Log(3)})
	if math.Abs(lm-math.Log(2)) > 1e-12 || math.Abs(ess-36.0/14) > 1e-12 || math.Abs(se-(1.0/3)/(math.Sqrt(3)*2.0/3)) > 1e-12 {
		t.Errorf("weights 1, 2, 3: log mean %g, se %g, ess %g", lm, se, ess)
	}
	if _, _, ess = LogWeights([]float64{0, -800, -900}); math.Abs(ess-1) > 1e-12 {
		t.Errorf("one weight carries all: ess %g", ess)
	}
}
