package ebm

import (
	"context"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BenchmarkLangevinStep is one Langevin step (forward and backward of the
// tutorial's network) on a batch of 128 28×28 images.
func BenchmarkLangevinStep(b *testing.B) {
	m, err := New(*DefaultConfig(), 784, 28, 28, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	s := m.Chains(128, false, 1)
	r := rng.New(2)
	m.Langevin(s, 1, r, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Langevin(s, 1, r, nil)
	}
}

// BenchmarkEpoch is one epoch of the tutorial's recipe (batch 128, 60 Langevin
// steps) on 1280 synthetic 28×28 images: 10 training steps.
func BenchmarkEpoch(b *testing.B) {
	d := dataset.Shapes(1280, 28, rng.New(1))
	d.Labels, d.NumClasses = nil, 0
	s := model.NewSettings(Kind, d, "shapes", "", 1, 1<<30)
	tr, err := newModel(DefaultConfig(), d, s)
	if err != nil {
		b.Fatal(err)
	}
	_ = tensor.New
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.Epochs = s.EpochsDone + 1
		if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainStep is one training step of the tutorial's recipe (60 Langevin
// steps on 128 negatives, then one Adam step on 128 + 128 images), 28×28: the
// unit bench/ebm compares with PyTorch.
func BenchmarkTrainStep(b *testing.B) {
	d := dataset.Shapes(128, 28, rng.New(1))
	d.Labels, d.NumClasses = nil, 0
	s := model.NewSettings(Kind, d, "shapes", "", 1, 1<<30)
	tr, err := newModel(DefaultConfig(), d, s)
	if err != nil {
		b.Fatal(err)
	}
	s.Epochs = 1
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.Epochs = s.EpochsDone + 1
		if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
