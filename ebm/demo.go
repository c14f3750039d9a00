package ebm

import (
	"context"
	"math"
	"path/filepath"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func init() {
	model.RegisterDemo(model.Demo{Order: 85, Name: "ebm: a deep energy on a 2-D ring, log Z by AIS against quadrature", Run: demo})
}

// Ring returns n points of a mixture of 8 Gaussians (standard deviation sd) on a
// circle of radius 0.3 around (0.5, 0.5), inside [0, 1]² (clamped).
func Ring(n int, sd float64, s *rng.Stream) *dataset.Dataset {
	x := tensor.New(n, 2)
	for i := range n {
		a := 2 * math.Pi * float64(s.IntN(8)) / 8
		x.Set(i, 0, float32(min(max(0.5+0.3*math.Cos(a)+sd*s.NormFloat64(), 0), 1)))
		x.Set(i, 1, float32(min(max(0.5+0.3*math.Sin(a)+sd*s.NormFloat64(), 0), 1)))
	}
	return &dataset.Dataset{Name: "ring", X: x}
}

// demoConfig is the demo's setting: a small dense energy and unadjusted
// Langevin (no gradient clamp, noise √(2ε)).
func demoConfig() Config {
	c := *DefaultConfig()
	c.Hidden, c.Batch, c.Buffer, c.LR, c.Beta1 = 32, 100, 1000, 5e-3, 0.5
	c.StepSize, c.Noise, c.GradClamp, c.Steps, c.DataNoise, c.Alpha, c.Clip = 1e-3, math.Sqrt(2e-3), 0, 30, 0, 1e-3, 0
	return c
}

// QuadratureLogZ returns log ∫_[0,1]² exp(−E(x)) dx of a model of 2-D data by the
// midpoint rule on a g×g grid.
func (m *Model) QuadratureLogZ(g int) float64 {
	grid := tensor.New(g*g, 2)
	for i := range g {
		for j := range g {
			grid.Set(i*g+j, 0, float32((float64(i)+0.5)/float64(g)))
			grid.Set(i*g+j, 1, float32((float64(j)+0.5)/float64(g)))
		}
	}
	e := m.Energy(grid)
	lo := math.Inf(1)
	for _, v := range e {
		lo = min(lo, v)
	}
	var z float64
	for _, v := range e {
		z += math.Exp(lo - v)
	}
	return math.Log(z/float64(g*g)) - lo
}

// demo trains the energy on the ring, draws Langevin samples beside the data,
// and scores held-out points with log Z by AIS, checked against quadrature.
func demo(ctx context.Context, dir string, seed uint64) error {
	d := Ring(2000, 0.04, rng.NewStream(seed, 60))
	test := Ring(1000, 0.04, rng.NewStream(seed, 61))
	s := model.NewSettings(Kind, d, "ring", "", seed, 20)
	m, err := New(demoConfig(), 2, 0, 0, 0, seed)
	if err != nil {
		return err
	}
	if _, err := model.Train(ctx, m, d, s, model.TrainOptions{}); err != nil {
		return err
	}
	smp, err := m.Sample(ctx, model.SampleOptions{N: 1000, Seed: seed, Label: -1, Family: &SampleConfig{Steps: 500, From: "noise"}})
	if err != nil {
		return err
	}
	if err := scatter(filepath.Join(dir, "ebm-ring.png"), "2-D ring: data (0) and ebm Langevin samples from noise (1)", d.X, smp.X, 1000); err != nil {
		return err
	}
	est, err := m.Score(ctx, test, model.ScoreOptions{Seed: seed, Family: &EvalConfig{Chains: 64, Steps: 300, Leapfrog: 5, Base: "standard"}})
	if err != nil {
		return err
	}
	q := m.QuadratureLogZ(400)
	var lz, se float64
	for _, x := range est.Extra {
		switch x.Name {
		case "log_z":
			lz = x.Value.(float64)
		case "log_z_stderr":
			se = x.Value.(float64)
		}
	}
	model.Logf(ctx, "ebm on a 2-D ring (20 epochs): log Z by AIS %.3f ± %.3f, by quadrature %.3f; test log p(x) %.3f nats (the true mixture %.3f, uniform on the box 0); samples in ebm-ring.png",
		lz, se, q, est.LogLik, ringLogProb(test.X, 0.04))
	return nil
}

// ringLogProb returns the mean log density of the rows of x under the ring's
// mixture of 8 Gaussians of standard deviation sd (clamping ignored).
func ringLogProb(x *tensor.Mat, sd float64) float64 {
	var sum float64
	for i := range x.Rows {
		u, v := float64(x.At(i, 0)), float64(x.At(i, 1))
		var p float64
		for k := range 8 {
			a := 2 * math.Pi * float64(k) / 8
			du, dv := u-0.5-0.3*math.Cos(a), v-0.5-0.3*math.Sin(a)
			p += math.Exp(-(du*du+dv*dv)/(2*sd*sd)) / (8 * 2 * math.Pi * sd * sd)
		}
		sum += math.Log(p)
	}
	return sum / float64(x.Rows)
}
