package mixture

import (
	"context"
	"flag"
	"io"
	"path/filepath"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func init() {
	model.RegisterDemo(model.Demo{Order: 60, Name: "gmm on three 2-D blobs", Run: demoGMM})
}

// demoBlobs returns 1200 points of three elongated 2-D Gaussian blobs (400 each,
// labelled), drawn from stream 60 of seed.
func demoBlobs(seed uint64) *dataset.Dataset {
	s := rng.NewStream(seed, 60)
	centres := [][2]float64{{-3, 0}, {2, 2}, {1.5, -2.5}}
	chol := [][3]float64{{1.2, 0.6, 0.5}, {0.8, -0.4, 1.0}, {1.5, 0, 0.4}} // L = [[a 0] [b c]]
	const per = 400
	x := tensor.New(3*per, 2)
	truth := make([]int, x.Rows)
	for i := 0; i < x.Rows; i++ {
		c := i / per
		z0, z1 := s.NormFloat64(), s.NormFloat64()
		l := chol[c]
		x.Set(i, 0, float32(centres[c][0]+l[0]*z0))
		x.Set(i, 1, float32(centres[c][1]+l[1]*z0+l[2]*z1))
		truth[i] = c
	}
	return &dataset.Dataset{Name: "demo: three 2-D blobs", X: x, Labels: truth, NumClasses: 3}
}

// demoGMM fits a 3-component full-covariance GMM (k-means++ seeds only, so that
// EM has work to do) to three 2-D blobs with the training driver, and writes
// the model, the free-energy trace and the points by component with the
// fitted means and 2σ ellipses.
func demoGMM(ctx context.Context, dir string, seed uint64) error {
	d := demoBlobs(seed)
	cfg := DefaultGMM()
	cfg.Components, cfg.Tol, cfg.InitIters = 3, 1e-6, 0
	fs := flag.NewFlagSet("train gmm", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	model.Bind(fs, cfg)
	s := model.NewSettings(KindGaussian, d, d.Name, "", seed, 200)
	s.Flags = model.FlagValues(fs)
	s.Given = map[string]string{"components": "3", "tol": "1e-06", "init-iters": "0"}
	t, err := newGMM(cfg, d, s)
	if err != nil {
		return err
	}
	// The driver's epoch lines would be one per EM iteration: train quietly.
	quiet := model.WithProgress(ctx, model.Progress{})
	if _, err := model.Train(quiet, t, d, s, model.TrainOptions{Out: filepath.Join(dir, "gmm-blobs.model")}); err != nil {
		return err
	}
	m := t.(*Mixture)
	res := m.Result()
	if err := PlotFreeEnergy(filepath.Join(dir, "gmm-blobs-free-energy.png"), "gmm: free energy per EM iteration", res.History); err != nil {
		return err
	}
	g := m.Gaussian()
	if err := SaveComponents(filepath.Join(dir, "gmm-blobs-components.png"),
		"GMM (K=3, full): predicted component, means, 2-sigma ellipses", g, d.X); err != nil {
		return err
	}
	model.Logf(ctx, "gmm: %d EM iterations (converged %v), log-likelihood %.4f nats/point, BIC %.1f",
		res.Iterations, res.Converged, res.LogLikelihood, g.BIC(d.X))
	return nil
}
