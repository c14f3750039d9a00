package ising

import (
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// MeasureRows of the sampler's own configurations, encoded as the ising data set
// encodes them (up = 1, down = 0), is Measure of their energies and
// magnetisations.
func TestMeasureRowsMatchesSamples(t *testing.T) {
	const L, T = 6, 2.3
	s, err := Sample(L, T, 200, 100, 2, Mixed, rng.New(4))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(s.Len(), L*L)
	for n := 0; n < s.Len(); n++ {
		for i, v := range s.Config(n) {
			if v > 0 {
				x.Set(n, i, 1)
			}
		}
	}
	got, want := MeasureRows(x, L, T), Measure(L*L, T, s.Energy, s.Mag)
	if got != want {
		t.Errorf("MeasureRows %+v, Measure %+v", got, want)
	}
}
