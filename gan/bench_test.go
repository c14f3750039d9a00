package gan

import (
	"context"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
)

// BenchmarkDCGANStep is one training step of the DCGAN (width 64, z of 100,
// batch 64 28×28 images): a discriminator step on a real and a generated batch,
// a generator step on a fresh batch of z, and the moving average; the unit
// bench/gan compares with the same step in PyTorch. The step is timed alone
// (Model.step): the end of an epoch also recalibrates the averaged generator's
// BatchNorm statistics, a fixed cost per epoch that a benchmark of one-step
// epochs would count once per step.
func BenchmarkDCGANStep(b *testing.B) {
	d := dataset.Shapes(64, 28, rng.New(1))
	d.Labels, d.NumClasses = nil, 0
	s := model.NewSettings(KindDCGAN, d, "shapes", "", 1, 1<<30)
	cfg := defaults(KindDCGAN)
	cfg.Batch = 64
	m, err := newTrainer(KindDCGAN, *cfg, d, s)
	if err != nil {
		b.Fatal(err)
	}
	s.Epochs = 1
	if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{}); err != nil {
		b.Fatal(err)
	}
	m.step(d.X, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.step(d.X, nil)
	}
}
