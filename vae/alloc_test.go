package vae

import (
	"runtime"
	"testing"

	"github.com/latent-ml/latent/internal/alloctest"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// A warm training step (gradient and Adam update) on a batch large enough that every
// layer, loss and kernel runs in parallel pieces does not allocate, with two workers.
func TestWarmStepAllocsTwoWorkers(t *testing.T) {
	defer tensor.SetWorkers(0)
	tensor.SetWorkers(2)
	for _, cfg := range []Config{
		{Latent: 50, Hidden: []int{200, 200}, Activation: "tanh"},
		{Kind: KindConvVAE, Latent: 2, Height: 28, Width: 28, Channels: 1},
	} {
		tr, err := NewTrainer(cfg, 784, TrainConfig{})
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.New(128, 784)
		rng.New(1).FillUniform(x.Data)
		s := rng.New(2)
		step := func() {
			tr.Model.Grad(x, nil, s)
			tr.Adam.Step(tr.params)
		}
		// Two warm-up steps: with two workers the first may not have borrowed as
		// many scratch buffers at once as a step can (nn's free list then holds
		// every one). A collection now, not during the measured steps, where it
		// would empty the sync.Pools of job descriptors and count their refills.
		step()
		step()
		runtime.GC()
		if a := alloctest.Min(5, 2, step); a != 0 {
			t.Errorf("%+v: %.1f allocations per warm step with 2 workers (the least of 5 trials)", cfg, a)
		}
	}
}
