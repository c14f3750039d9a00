package gan

import (
	"context"
	"math"
	"path/filepath"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

func init() {
	model.RegisterDemo(model.Demo{Order: 70, Name: "gan: a mixture of 8 Gaussians on a ring", Run: demoRing})
}

// Ring returns n points of a mixture of 8 Gaussians (standard deviation sd) on
// a circle of radius 0.35 around (0.5, 0.5), labelled by component, and the
// centres: the standard test of mode collapse (Metz et al. 2017), placed inside
// [0, 1]² where the generator's sigmoid output lives.
func Ring(n int, sd float64, s *rng.Stream) (*dataset.Dataset, [][2]float64) {
	centres := make([][2]float64, 8)
	for k := range centres {
		a := 2 * math.Pi * float64(k) / 8
		centres[k] = [2]float64{0.5 + 0.35*math.Cos(a), 0.5 + 0.35*math.Sin(a)}
	}
	x := tensor.New(n, 2)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		k := s.IntN(8)
		c := centres[k]
		x.Set(i, 0, float32(c[0]+sd*s.NormFloat64()))
		x.Set(i, 1, float32(c[1]+sd*s.NormFloat64()))
		labels[i] = k
	}
	return &dataset.Dataset{Name: "ring", X: x, Labels: labels, NumClasses: 8}, centres
}

// demoRing trains a small GAN on the ring and draws its samples beside the data.
func demoRing(ctx context.Context, dir string, seed uint64) error {
	d, centres := Ring(4000, 0.02, rng.NewStream(seed, 50))
	d.Labels, d.NumClasses = nil, 0
	cfg := *defaults(KindMLP)
	cfg.Latent, cfg.GHidden, cfg.DHidden, cfg.Batch, cfg.LR, cfg.EMA, cfg.GNorm = 8, []int{64, 64}, []int{64, 64}, 100, 1e-3, 0.99, false
	s := model.NewSettings(KindMLP, d, "ring", "", seed, 120)
	m, err := newTrainer(KindMLP, cfg, d, s)
	if err != nil {
		return err
	}
	if _, err := model.Train(ctx, m, d, s, model.TrainOptions{}); err != nil {
		return err
	}
	out, err := m.Sample(ctx, model.SampleOptions{N: 2000, Seed: seed, Label: -1})
	if err != nil {
		return err
	}
	xs, ys := make([]float64, 0, 4000), make([]float64, 0, 4000)
	labels := make([]int, 0, 4000)
	counts := make([]int, 8)
	for k, src := range []*tensor.Mat{d.X, out.X} {
		for i := 0; i < src.Rows; i++ {
			x, y := float64(src.At(i, 0)), float64(src.At(i, 1))
			xs, ys, labels = append(xs, x), append(ys, y), append(labels, k)
			if k == 1 {
				best, bd := 0, math.Inf(1)
				for j, c := range centres {
					if dd := math.Hypot(x-c[0], y-c[1]); dd < bd {
						best, bd = j, dd
					}
				}
				counts[best]++
			}
		}
	}
	model.Logf(ctx, "gan ring (8 modes, 120 epochs): samples per mode %v (250 each if perfect, 2000 samples); data 0, samples 1 in gan-ring.png", counts)
	return viz.SaveScatter(filepath.Join(dir, "gan-ring.png"), "8-Gaussian ring: data (0) and GAN samples (1)", xs, ys, labels)
}
