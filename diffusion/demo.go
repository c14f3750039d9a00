package diffusion

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
	model.RegisterDemo(model.Demo{Order: 80, Name: "diffusion: binary diffusion on 4×4 bars and stripes, Gaussian diffusion on a 2-D ring", Run: demo})
}

// Ring8 returns n points of a mixture of 8 Gaussians (standard deviation sd)
// on a circle of radius 0.35 around (0.5, 0.5): 2-D data inside [0, 1]².
func Ring8(n int, sd float64, s *rng.Stream) *dataset.Dataset {
	x := tensor.New(n, 2)
	for i := range n {
		a := 2 * math.Pi * float64(s.IntN(8)) / 8
		x.Set(i, 0, float32(0.5+0.35*math.Cos(a)+sd*s.NormFloat64()))
		x.Set(i, 1, float32(0.5+0.35*math.Sin(a)+sd*s.NormFloat64()))
	}
	return &dataset.Dataset{Name: "ring", X: x}
}

func demo(ctx context.Context, dir string, seed uint64) error {
	if err := demoBars(ctx, dir, seed); err != nil {
		return err
	}
	return demoRing(ctx, dir, seed)
}

// demoBars trains binary diffusion on the 30 patterns of 4×4 bars and
// stripes and reports its bound beside the data's entropy, with pictures of
// samples and of the reverse process.
func demoBars(ctx context.Context, dir string, seed uint64) error {
	d := dataset.BarsAndStripes(4)
	cfg := *DefaultBinaryConfig()
	cfg.T, cfg.Hidden, cfg.TimeDim, cfg.Batch, cfg.LR, cfg.EMA = 50, []int{128, 128}, 16, 30, 2e-3, 0.99
	cfg.NoSkip = true // on 30 patterns and 300 steps the plain network fits faster
	s := model.NewSettings(KindBinary, d, "bars:4", "", seed, 300)
	m, err := NewBinaryModel(cfg, d, s)
	if err != nil {
		return err
	}
	if _, err := model.Train(ctx, m, d, s, model.TrainOptions{}); err != nil {
		return err
	}
	est, err := m.Score(ctx, d, model.ScoreOptions{Seed: seed})
	if err != nil {
		return err
	}
	x, chain := m.sampleChain(ctx, 64, rng.NewStream(seed, 60), 0)
	_, chain = m.sampleChain(ctx, 8, rng.NewStream(seed, 61), 10)
	valid := 0
	for i := 0; i < x.Rows; i++ {
		if isBarsOrStripes(x.Row(i), 4) {
			valid++
		}
	}
	model.Logf(ctx, "bdiff on bars:4 (T = 50, 300 epochs): bound %.3f ± %.3f nats (log p of the data: %.3f), %d of 64 samples are bars or stripes; bdiff-bars-samples.png, bdiff-bars-chain.png",
		est.LogLik, est.StdErr, -math.Log(30), valid)
	if err := (viz.Grid{Height: 4, Width: 4, Channels: 1, Cols: 8}).Save(filepath.Join(dir, "bdiff-bars-samples.png"), x); err != nil {
		return err
	}
	return chainGrid(filepath.Join(dir, "bdiff-bars-chain.png"), chain, 8, 10, 4, 4, 1)
}

// isBarsOrStripes reports whether an n×n binary image has constant columns
// or constant rows.
func isBarsOrStripes(x []float32, n int) bool {
	cols, rows := true, true
	for i := range n {
		for j := range n {
			cols = cols && x[i*n+j] == x[j]
			rows = rows && x[i*n+j] == x[i*n]
		}
	}
	return cols || rows
}

// demoRing trains Gaussian diffusion with an MLP on 8 Gaussians on a ring and
// draws DDIM samples beside the data.
func demoRing(ctx context.Context, dir string, seed uint64) error {
	const sd = 0.04
	d := Ring8(1000, sd, rng.NewStream(seed, 62))
	cfg := *DefaultGaussConfig()
	cfg.T, cfg.Hidden, cfg.Batch, cfg.LR, cfg.EMA = 100, []int{128, 128, 128}, 100, 3e-3, 0.99
	s := model.NewSettings(KindGaussian, d, "ring", "", seed, 200)
	m, err := NewGaussModel(cfg, d, s)
	if err != nil {
		return err
	}
	if _, err := model.Train(ctx, m, d, s, model.TrainOptions{}); err != nil {
		return err
	}
	out, _, err := m.Generate(ctx, 2000, 0, 0, nil, 0, rng.NewStream(seed, 63), 0)
	if err != nil {
		return err
	}
	xs, ys, labels := make([]float64, 0, 4000), make([]float64, 0, 4000), make([]int, 0, 4000)
	near := 0
	for k, src := range []*tensor.Mat{d.X, out} {
		for i := 0; i < src.Rows; i++ {
			x, y := float64(src.At(i, 0)), float64(src.At(i, 1))
			xs, ys, labels = append(xs, x), append(ys, y), append(labels, k)
			if k == 1 && ringModeDist(x, y) < 3*sd {
				near++
			}
		}
	}
	model.Logf(ctx, "ddpm on an 8-Gaussian ring (T = 100, MLP, 200 epochs): %d of 2000 ancestral samples within 3σ of a mode (98.9%% of the data's); data 0, samples 1 in ddpm-ring.png", near)
	return viz.SaveScatter(filepath.Join(dir, "ddpm-ring.png"), "8-Gaussian ring: data (0) and DDPM samples (1)", xs, ys, labels)
}

// ringModeDist returns the distance from (x, y) to the nearest centre of Ring8.
func ringModeDist(x, y float64) float64 {
	best := math.Inf(1)
	for k := range 8 {
		a := 2 * math.Pi * float64(k) / 8
		best = min(best, math.Hypot(x-0.5-0.35*math.Cos(a), y-0.5-0.35*math.Sin(a)))
	}
	return best
}
