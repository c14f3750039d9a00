package diffusion

import (
	"testing"

	"github.com/latent-ml/latent/internal/alloctest"
	"github.com/latent-ml/latent/model"
)

// A warm training step allocates nothing, for both families (skipped under
// the race detector, which makes sync.Pool drop items; the least of 5 trials,
// see alloctest.Min).
func TestWarmStepNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("race detector")
	}
	d := squares(8, 8, 8, 1)
	m, _ := NewGaussModel(tinyGaussConfig(), d, model.NewSettings(KindGaussian, d, "s", "", 1, 1))
	m.step(d.X)
	if n := alloctest.Min(5, 3, func() { m.step(d.X) }); n != 0 {
		t.Errorf("ddpm U-Net step: %v allocations", n)
	}
	b := bars2()
	bm, _ := NewBinaryModel(smallBinaryConfig(), b, model.NewSettings(KindBinary, b, "s", "", 1, 1))
	bm.step(b.X)
	if n := alloctest.Min(5, 3, func() { bm.step(b.X) }); n != 0 {
		t.Errorf("bdiff step: %v allocations", n)
	}
}
