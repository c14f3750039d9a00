package diffusion

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// chainGrid writes frames snapshots of n chains (frame k of chain i in row
// k·n + i) as a grid: one row per chain, x_T on the left, x_0 on the right.
func chainGrid(path string, chain *tensor.Mat, n, frames, h, w, c int) error {
	rows := min(n, 8)
	out := tensor.New(rows*frames, chain.Cols)
	for i := range rows {
		for k := range frames {
			copy(out.Row(i*frames+k), chain.Row(k*n+i))
		}
	}
	return viz.Grid{Height: h, Width: w, Channels: c, Cols: frames}.Save(path, out)
}

func (m *GaussModel) saveChain(path string, chain *tensor.Mat, n, frames int) error {
	if m.H == 0 {
		return fmt.Errorf("the reverse process is pictured for images; the data are rows of %d values", m.dim)
	}
	return chainGrid(path, chain, n, frames, m.H, m.W, m.C)
}

// Pictures implements model.Picturer: samples-NNN.png from a fixed noise
// batch (stream 2 of the run's seed; DDIM with 50 steps, η = 0, so the
// pictures of successive epochs are comparable), after the last epoch
// chain.png, the reverse process x_T → x_0 of 8 ancestral samples, and
// loss.png, the training loss per epoch.
func (m *GaussModel) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	var out []string
	if m.H > 0 {
		n := 64
		var labels []int
		if m.Classes > 0 { // one row of 8 per class
			n = 8 * m.Classes
			labels = make([]int, n)
			for i := range labels {
				labels[i] = i / 8
			}
		}
		x, _, err := m.Generate(ctx, n, min(50, m.Diff.S.T), 0, labels, 0, rng.NewStream(m.Seed, 2), 0)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, fmt.Sprintf("samples-%03d.png", len(m.History)))
		if err := (viz.Grid{Height: m.H, Width: m.W, Channels: m.C, Cols: 8}).Save(p, x); err != nil {
			return nil, err
		}
		out = append(out, p)
		if final {
			const frames = 10
			var l8 []int
			if m.Classes > 0 {
				l8 = make([]int, 8)
				for i := range l8 {
					l8[i] = i % m.Classes
				}
			}
			_, chain, err := m.Generate(ctx, 8, 0, 0, l8, 0, rng.NewStream(m.Seed, 3), frames)
			if err != nil {
				return nil, err
			}
			p := filepath.Join(dir, "chain.png")
			if err := m.saveChain(p, chain, 8, frames); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if p, err := lossPlot(dir, KindGaussian+": L_simple (mse of ε per value)", "mse", m.History); err != nil {
		return nil, err
	} else if p != "" {
		out = append(out, p)
	}
	return out, nil
}

// Pictures implements model.Picturer: samples-NNN.png from a fixed seed
// (stream 2 of the run's seed), after the last epoch chain.png, the reverse
// process of 8 samples (each frame the network's guess p̃(x_0 = 1 | x_t)),
// and loss.png, the training estimate of the bound per epoch.
func (m *BinaryModel) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	var out []string
	if m.H > 0 {
		x, _ := m.sampleChain(ctx, 64, rng.NewStream(m.Seed, 2), 0)
		p := filepath.Join(dir, fmt.Sprintf("samples-%03d.png", len(m.History)))
		if err := (viz.Grid{Height: m.H, Width: m.W, Channels: m.C, Cols: 8}).Save(p, x); err != nil {
			return nil, err
		}
		out = append(out, p)
		if final {
			const frames = 10
			_, chain := m.sampleChain(ctx, 8, rng.NewStream(m.Seed, 3), frames)
			p := filepath.Join(dir, "chain.png")
			if err := chainGrid(p, chain, 8, frames, m.H, m.W, m.C); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if p, err := lossPlot(dir, KindBinary+": training estimate of −bound (nats per example)", "-vlb", m.History); err != nil {
		return nil, err
	} else if p != "" {
		out = append(out, p)
	}
	return out, nil
}

// lossPlot writes loss.png of the per-epoch history (none before two epochs).
func lossPlot(dir, title, name string, h []float64) (string, error) {
	if len(h) < 2 {
		return "", nil
	}
	ep := make([]float64, len(h))
	for i := range ep {
		ep[i] = float64(i + 1)
	}
	p := filepath.Join(dir, "loss.png")
	return p, viz.SaveLinePlot(p, title, "epoch", "", viz.Series{Name: name, X: ep, Y: h})
}
