package diffusion

import (
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// A residual block with dropout in training mode against finite differences,
// the mask held fixed (the stream restored before every forward pass), and
// the mask is there: about p of the values after GN₂ are dropped.
func TestResBlockDropoutGrad(t *testing.T) {
	s := rng.New(21)
	b := NewResBlock(3, 4, 4, 6, 5, s)
	randomize(s, b.Params())
	ds := rng.NewStream(5, 2)
	b.Drop = nn.NewDropout(0.3, ds) // training mode
	start := *ds
	x := tensor.New(2, 3*4*4)
	s.FillNormal(x.Data, 0, 1)
	tau := tensor.New(2, 5)
	s.FillNormal(tau.Data, 0, 1)
	dtau := tensor.New(2, 5)
	var dx *tensor.Mat
	f := func() *tensor.Mat { *ds = start; return b.Forward(x, tau) }
	fdNet(t, "ResBlock with dropout", f,
		func(dy *tensor.Mat) { dtau.Zero(); dx = b.Backward(dy, dtau) }, b.Params(),
		[]*tensor.Mat{x, tau}, func() []*tensor.Mat { return []*tensor.Mat{dx, dtau} }, 6)
	ones := tensor.New(2, 3*4*6)
	ones.Fill(1)
	zero := 0
	for _, v := range b.Drop.Forward(ones).Data {
		if v == 0 {
			zero++
		}
	}
	if frac := float64(zero) / (2 * 3 * 4 * 6); frac < 0.15 || frac > 0.45 {
		t.Errorf("dropout 0.3 dropped %.2f of the values", frac)
	}
}

// Out of training (sampling, the bound) a U-Net with dropout gives the same
// bits as one without; in training it gives other values, and the masks
// depend on the stream alone.
func TestUNetDropoutModes(t *testing.T) {
	x := tensor.New(3, 8*8)
	rng.New(3).FillNormal(x.Data, 0, 1)
	ts := []int{1, 20, 300}
	eps := func(p float64, train bool, seed uint64) []float32 {
		u := NewUNet(8, 8, 1, 4, rng.New(7))
		randomize(rng.New(8), u.Params())
		rng.New(9).FillNormal(u.Out.W.W, 0, 0.3)
		u.SetDropout(p, rng.NewStream(seed, 2))
		u.SetTraining(train)
		return append([]float32(nil), u.Eps(x, ts).Data...)
	}
	same := func(a, b []float32) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	plain := eps(0, true, 1)
	if !same(plain, eps(0.2, false, 1)) {
		t.Error("dropout in evaluation mode changed the output")
	}
	on := eps(0.2, true, 1)
	if same(plain, on) {
		t.Error("dropout in training mode left the output unchanged")
	}
	if !same(on, eps(0.2, true, 1)) {
		t.Error("the same stream gave other masks")
	}
	if same(on, eps(0.2, true, 2)) {
		t.Error("another stream gave the same masks")
	}
}

// Training with dropout resumes bit for bit (the dropout stream is saved), for
// both families, and --dropout on an MLP is an error naming the flag.
func TestDropoutResumeAndBadInput(t *testing.T) {
	d := dataset.BarsAndStripes(4)
	cfg := smallBinaryConfig()
	cfg.Arch, cfg.Channels, cfg.Batch, cfg.EMA, cfg.Dropout = "unet", 4, 10, 0.9, 0.2
	m := binaryResumed(t, cfg, d, 3).(*BinaryModel)
	if !m.dropOn || m.net == nil || m.net.Down0.Drop == nil || m.net.Down0.Drop.Training() {
		t.Errorf("loaded bdiff model: dropout on %v, in training mode after a step", m.dropOn)
	}

	g := squares(24, 8, 8, 1)
	gc := tinyGaussConfig()
	gc.Dropout = 0.1
	gaussResumed(t, gc, g, t.TempDir())

	cfg = smallBinaryConfig()
	cfg.Dropout = 0.1
	_, err := NewBinaryModel(cfg, d, model.NewSettings(KindBinary, d, "bars:4", "", 1, 1))
	if err == nil || !contains(err.Error(), "--dropout") {
		t.Errorf("--dropout with the MLP: %v", err)
	}
	if err := cfg.Validate(); err == nil || !contains(err.Error(), "--dropout") {
		t.Errorf("Validate: --dropout with the MLP: %v", err)
	}
}
