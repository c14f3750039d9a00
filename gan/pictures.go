package gan

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// FixedNoise returns the n×Latent batch of z the per-epoch pictures use: the
// same for every epoch of a run (stream 2 of the run's seed), so the pictures
// are comparable.
func (m *Model) FixedNoise(n int) *tensor.Mat {
	z := tensor.New(n, m.Cfg.Latent)
	rng.NewStream(m.Seed, 2).FillNormal(z.Data, 0, 1)
	return z
}

// Pictures implements model.Picturer: samples-NNN.png from the fixed noise
// (one row per class for a conditional GAN, per code for an InfoGAN; the
// moving-average weights), and
// losses.png with the curves of both losses, D(x) and D(G(z)) per epoch.
func (m *Model) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	var out []string
	if m.H > 0 {
		cols := 8
		n := 64
		var labels []int
		var captions []string
		if k := m.Classes + m.Codes; k > 0 {
			cols = 8
			n = cols * k
			labels = make([]int, n)
			captions = make([]string, n)
			for i := range labels {
				labels[i] = i / cols
				captions[i] = strconv.Itoa(labels[i])
				if m.Codes > 0 {
					captions[i] = "c" + captions[i] // a code, not a digit
				}
			}
		}
		x := m.Generate(m.FixedNoise(n), labels)
		p := filepath.Join(dir, fmt.Sprintf("samples-%03d.png", len(m.History)))
		g := viz.Grid{Height: m.H, Width: m.W, Channels: m.C, Cols: cols, Captions: captions}
		if err := g.Save(p, x); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(m.History) > 0 {
		ep := make([]float64, len(m.History))
		var dl, gl, dr, df []float64
		for i, h := range m.History {
			ep[i] = float64(i + 1)
			dl, gl, dr, df = append(dl, h.DLoss), append(gl, h.GLoss), append(dr, h.DReal), append(df, h.DFake)
		}
		p := filepath.Join(dir, "losses.png")
		if err := viz.SaveLinePlot(p, m.Arch+": losses (nats per example) and mean D outputs", "epoch", "",
			viz.Series{Name: "D loss", X: ep, Y: dl}, viz.Series{Name: "G loss", X: ep, Y: gl},
			viz.Series{Name: "D(x)", X: ep, Y: dr}, viz.Series{Name: "D(G(z))", X: ep, Y: df}); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
