package mcmc

import (
	"errors"
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
