package diffusion

import (
	"context"
	"fmt"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BenchmarkUNetStep: one forward and backward pass of the default U-Net (32
// channels) on 28×28 images, the training-speed figure at batch 128.
// attn=true adds the self-attention block at 7×7 (--attention).
func BenchmarkUNetStep(b *testing.B) {
	for _, c := range []struct {
		batch int
		attn  bool
	}{{16, false}, {128, false}, {128, true}} {
		batch := c.batch
		name := fmt.Sprintf("batch=%d", batch)
		if c.attn {
			name += "/attn=true"
		}
		b.Run(name, func(b *testing.B) {
			s := rng.New(1)
			u := NewUNet(28, 28, 1, 32, s)
			if c.attn {
				u.AddAttention(s)
			}
			x := tensor.New(batch, 784)
			s.FillNormal(x.Data, 0, 1)
			ts := make([]int, batch)
			for i := range ts {
				ts[i] = 1 + s.IntN(1000)
			}
			dy := tensor.New(batch, 784)
			s.FillNormal(dy.Data, 0, 1)
			u.Eps(x, ts) // warm-up: the first step allocates every buffer
			u.Backward(dy)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				u.Eps(x, ts)
				u.Backward(dy)
			}
		})
	}
}

// BenchmarkDDIM: 50 DDIM steps of the default U-Net for 64 images (the
// issue's sampling figure is 1000 images), in inference mode as Generate runs
// it (no convolution keeps anything for a backward pass).
func BenchmarkDDIM(b *testing.B) {
	s := rng.New(2)
	u := NewUNet(28, 28, 1, 32, s)
	u.SetInference(true)
	sc, _ := NewSchedule("linear", 1000)
	g := Gaussian{S: sc}
	x := tensor.New(64, 784)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.FillNormal(x.Data, 0, 1)
		g.DDIM(u, x, 50, 0, nil, nil)
	}
}

// newBenchGauss returns an untrained ddpm with latent's `train ddpm` defaults
// (U-Net of 32 channels, T = 1000, linear schedule, Adam 5e-4, clipping at 1,
// EMA 0.999) at batch size batch, on n 28×28 images of shapes.
func newBenchGauss(b *testing.B, n, batch int) (*GaussModel, *dataset.Dataset, *model.Settings) {
	d := dataset.Shapes(n, 28, rng.New(1))
	d.Labels, d.NumClasses = nil, 0
	s := model.NewSettings(KindGaussian, d, "shapes", "", 1, 1)
	cfg := DefaultGaussConfig()
	cfg.Batch = batch
	m, err := NewGaussModel(*cfg, d, s)
	if err != nil {
		b.Fatal(err)
	}
	return m, d, s
}

// BenchmarkUNetTrainStep is one training step of ddpm at batch 128 as `latent
// train ddpm` takes it (model.Train over a data set of one batch): t and ε
// drawn, x_t, the U-Net forward and backward, L_simple, clipping, Adam and the
// EMA update; the unit bench/diffusion compares with the same step in PyTorch.
// It reports the CPU seconds per step ("cpu-s/op"; 0 where the system cannot
// tell) and the network's parameter count ("params"), which run.sh checks
// against the PyTorch network's.
func BenchmarkUNetTrainStep(b *testing.B) {
	m, d, s := newBenchGauss(b, 128, 128)
	if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for range b.N {
		s.Epochs = s.EpochsDone + 1
		if _, err := model.Train(context.Background(), m, d, s, model.TrainOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(m.parameters()), "params")
}

// BenchmarkDDIM50 is DDIM sampling (S = 50, η = 0) of n images in one batch,
// as `latent sample --n N --steps 50` does it (GaussModel.Generate: EMA
// weights, x̂_0 clipped), reported per image in wall and CPU seconds
// ("s/image", "cpu-s/image"). A warm-up call of one step allocates the
// network's buffers first. n = 1000 (minutes per run) is skipped under
// -short.
func BenchmarkDDIM50(b *testing.B) {
	for _, n := range []int{16, 128, 1000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			if n > 128 && testing.Short() {
				b.Skip("-short: sampling 1000 images takes minutes per run")
			}
			m, _, _ := newBenchGauss(b, 1, 1)
			ctx := context.Background()
			if _, _, err := m.Generate(ctx, n, 1, 0, nil, 0, rng.New(3), 0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for i := range b.N {
				if _, _, err := m.Generate(ctx, n, 50, 0, nil, 0, rng.New(uint64(4+i)), 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*n), "s/image")
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N*n), "cpu-s/image")
			b.ReportMetric(float64(m.parameters()), "params")
		})
	}
}
