package gan

import (
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/internal/alloctest"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
)

// A warm training step allocates nothing: the MLP GAN, and a small DCGAN with
// BatchNorm, an InfoGAN code and continuous codes (skipped under the race
// detector, which makes sync.Pool drop items; the least of 5 trials, see
// alloctest.Min).
func TestWarmStepNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("race detector")
	}
	for _, c := range []struct {
		kind string
		set  func(*Config)
	}{
		{KindMLP, func(c *Config) { c.Latent, c.GHidden, c.DHidden, c.Batch = 4, []int{16}, []int{16}, 16 }},
		{KindDCGAN, func(c *Config) {
			c.Latent, c.Width, c.Batch, c.Info, c.InfoCont, c.FC = 8, 4, 16, 3, 2, 16
		}},
	} {
		d := dataset.Shapes(16, 28, rng.New(1))
		d.Labels, d.NumClasses = nil, 0
		cfg := defaults(c.kind)
		c.set(cfg)
		m, err := newTrainer(c.kind, *cfg, d, model.NewSettings(c.kind, d, "shapes", "", 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		m.step(d.X, nil)
		if n := alloctest.Min(5, 3, func() { m.step(d.X, nil) }); n != 0 {
			t.Errorf("%s step: %v allocations", c.kind, n)
		}
	}
}
