package ebm

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// SampleConfig holds the settings of `latent sample` for an energy model.
type SampleConfig struct {
	Steps int    `flag:"langevin-steps" help:"Langevin steps of every chain" range:"[0,10000000]"`
	From  string `flag:"from" help:"start the chains from uniform noise, or from random rows of the replay buffer" choices:"noise|buffer"`
}

// DefaultSampleConfig returns 256 steps from noise, as the tutorial's generation.
func DefaultSampleConfig() *SampleConfig { return &SampleConfig{Steps: 256, From: "noise"} }

// Sample implements model.Sampler: o.N chains started from U(0, 1) (or from
// the replay buffer) and moved by Steps steps of the training Langevin dynamics
// (see Langevin), returned in [0, 1].
func (m *Model) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	cfg, _ := o.Family.(*SampleConfig)
	if cfg == nil {
		cfg = DefaultSampleConfig()
	}
	if o.Label >= 0 {
		return nil, model.Flagf("label", "an energy model is not conditional")
	}
	s := m.Chains(o.N, cfg.From == "buffer", o.Seed)
	r := rng.NewStream(o.Seed, 1)
	const chunk = 256
	for i := 0; i < o.N; i += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		j := min(o.N, i+chunk)
		m.Langevin(s.Slice(i, j), cfg.Steps, r, nil)
		model.Step(ctx, "sample", j, o.N)
	}
	return m.dataset(toUnit(s)), nil
}

// Chains returns n starting points in [−1, 1]: uniform noise, or rows of the
// replay buffer drawn with replacement, from seed.
func (m *Model) Chains(n int, buffer bool, seed uint64) *tensor.Mat {
	s := tensor.New(n, m.dim)
	r := rng.NewStream(seed, 0)
	if buffer {
		for i := range n {
			copy(s.Row(i), m.Buf.Row(r.IntN(m.Buf.Rows)))
		}
	} else {
		uniform(s.Data, r)
	}
	return s
}

// toUnit maps s in [−1, 1] to x = (s + 1)/2 in place and returns it.
func toUnit(s *tensor.Mat) *tensor.Mat {
	for i := range s.Rows {
		r := s.Row(i)
		for j, v := range r {
			r[j] = (v + 1) / 2
		}
	}
	return s
}

func (m *Model) dataset(x *tensor.Mat) *dataset.Dataset {
	return &dataset.Dataset{Name: "ebm samples", X: x, Height: m.H, Width: m.W, Channels: m.C}
}

// Pictures implements model.Picturer. For images: chains-NNN.png, 8 Langevin
// chains from uniform noise (fixed seed), one per row, seen every 32 of 256
// steps; buffer-NNN.png, the 64 newest negatives of the replay buffer; and
// energies.png, the mean energies of data and negatives per epoch. For 2-D
// data, samples-NNN.png, a scatter of the data and of 500 samples.
func (m *Model) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	var out []string
	ep := len(m.History)
	if m.H > 0 {
		const chains, every, steps = 8, 32, 256
		s := m.Chains(chains, false, seed+7)
		cols := steps/every + 1
		grid := tensor.New(chains*cols, m.dim)
		put := func(k int) {
			for i := range chains {
				copy(grid.Row(i*cols+k/every), s.Row(i))
			}
		}
		put(0)
		m.Langevin(s, steps, rng.NewStream(seed+7, 1), func(k int) {
			if k%every == 0 {
				put(k)
			}
		})
		captions := make([]string, chains*cols)
		for i := range captions {
			captions[i] = strconv.Itoa((i % cols) * every)
		}
		p := filepath.Join(dir, fmt.Sprintf("chains-%03d.png", ep))
		if err := (viz.Grid{Height: m.H, Width: m.W, Channels: m.C, Cols: cols, Captions: captions}).Save(p, toUnit(grid)); err != nil {
			return nil, err
		}
		out = append(out, p)
		n := min(64, m.Buf.Rows)
		b := tensor.New(n, m.dim)
		for i := range n {
			copy(b.Row(i), m.Buf.Row((m.Head-1-i+2*m.Buf.Rows)%m.Buf.Rows))
		}
		p = filepath.Join(dir, fmt.Sprintf("buffer-%03d.png", ep))
		if err := viz.SaveGrid(p, toUnit(b), m.H, m.W, m.C, 8); err != nil {
			return nil, err
		}
		out = append(out, p)
	} else if m.dim == 2 {
		smp, err := m.Sample(ctx, model.SampleOptions{N: 500, Seed: seed + 7, Label: -1})
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, fmt.Sprintf("samples-%03d.png", ep))
		if err := scatter(p, "ebm: data (0) and Langevin samples from noise (1)", d.X, smp.X, 500); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if ep > 0 {
		x := make([]float64, ep)
		var pos, neg []float64
		for i, h := range m.History {
			x[i] = float64(i + 1)
			pos, neg = append(pos, h.EPos), append(neg, h.ENeg)
		}
		p := filepath.Join(dir, "energies.png")
		if err := viz.SaveLinePlot(p, "ebm: mean energy per epoch", "epoch", "energy",
			viz.Series{Name: "data", X: x, Y: pos}, viz.Series{Name: "negatives", X: x, Y: neg}); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// scatter draws up to n rows of each of two 2-column matrices, labelled 0 and 1.
func scatter(path, title string, a, b *tensor.Mat, n int) error {
	var xs, ys []float64
	var ls []int
	for l, src := range []*tensor.Mat{a, b} {
		for i := range min(n, src.Rows) {
			xs, ys, ls = append(xs, float64(src.At(i, 0))), append(ys, float64(src.At(i, 1))), append(ls, l)
		}
	}
	return viz.SaveScatter(path, title, xs, ys, ls)
}

// Describe implements model.Describer.
func (m *Model) Describe() []model.Metric {
	arch := fmt.Sprintf("dense %d→%d→%d→1, SiLU", m.dim, m.Cfg.Hidden, m.Cfg.Hidden)
	if m.H > 0 {
		c := m.Cfg.Channels
		arch = fmt.Sprintf("conv %d×%d×%d → %d, %d, %d, %d channels → dense %d → 1, SiLU", m.H, m.W, m.C, c/2, c, 2*c, 2*c, 2*c)
	}
	n := 0
	for _, p := range m.Net.Params() {
		n += len(p.W)
	}
	return []model.Metric{{Name: "energy network", Value: arch}, {Name: "parameters", Value: n},
		{Name: "replay buffer", Value: m.Cfg.Buffer}, {Name: "restart", Value: m.Cfg.Restart},
		{Name: "langevin", Value: fmt.Sprintf("%d steps of size %g, noise %g, gradient clamp %g", m.Cfg.Steps, m.Cfg.StepSize, m.Cfg.Noise, m.Cfg.GradClamp)},
		{Name: "training steps", Value: m.Steps}}
}
