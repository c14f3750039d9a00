package mixture

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// PlotFreeEnergy draws the trace of F as a PNG line plot: F after every E-step at
// its iteration, after every M-step half an iteration later.
func PlotFreeEnergy(path, title string, history []Step) error {
	var e, m viz.Series
	e.Name, m.Name = "after E-step (KL = 0)", "after M-step (old Q, new G)"
	for _, h := range history {
		if h.Phase == "E" {
			e.X = append(e.X, float64(h.Iter))
			e.Y = append(e.Y, h.F)
		} else {
			m.X = append(m.X, float64(h.Iter)+0.5)
			m.Y = append(m.Y, h.F)
		}
	}
	return viz.SaveLinePlot(path, title, "iteration", "F (nats/example)", e, m)
}

// Ellipses returns, for a mixture in 2 dimensions, each component's mean and
// covariance as an ellipse of Mahalanobis radius 2 (2σ, which holds 1 − e⁻² ≈ 86%
// of a 2-D Gaussian's mass), labelled with its component. It panics unless D = 2.
func (g *GaussianMixture) Ellipses() []viz.Ellipse {
	if g.D != 2 {
		panic(fmt.Sprintf("mixture: Ellipses of a %d-dimensional mixture", g.D))
	}
	out := make([]viz.Ellipse, g.K)
	for c := range out {
		var cv [3]float64
		switch g.Covariance {
		case Full:
			s := g.Covariances[c*4 : c*4+4]
			cv = [3]float64{s[0], s[1], s[3]}
		case Tied:
			s := g.Covariances
			cv = [3]float64{s[0], s[1], s[3]}
		case Diag:
			cv = [3]float64{g.Covariances[2*c], 0, g.Covariances[2*c+1]}
		case Spherical:
			cv = [3]float64{g.Covariances[c], 0, g.Covariances[c]}
		}
		out[c] = viz.Ellipse{Mean: [2]float64{g.Means[2*c], g.Means[2*c+1]}, Cov: cv, Radius: 2, Label: c}
	}
	return out
}

// SaveComponents draws the rows of x (2 columns) coloured by their most probable
// component under g, with every component's mean and 2σ ellipse, as a PNG.
func SaveComponents(path, title string, g *GaussianMixture, x *tensor.Mat) error {
	if x.Cols != 2 || g.D != 2 {
		return fmt.Errorf("mixture: a component scatter needs 2-D data and model, got %d and %d", x.Cols, g.D)
	}
	pred := g.Predict(x)
	xs, ys := make([]float64, x.Rows), make([]float64, x.Rows)
	for i := range xs {
		xs[i], ys[i] = float64(x.At(i, 0)), float64(x.At(i, 1))
	}
	return viz.SaveScatterEllipses(path, title, xs, ys, pred, g.Ellipses())
}

// Pictures implements model.Picturer. It writes free-energy.png (the kept
// restart's trace of F); for a Gaussian mixture of 2-D data, components.png
// (the points by component, the means and 2σ ellipses); and for image data,
// means.png (the component means, or a Bernoulli mixture's probabilities, each
// captioned with its weight in percent).
func (m *Mixture) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	if len(m.restarts) == 0 {
		return nil, nil
	}
	var out []string
	r := m.restarts[m.best]
	p := filepath.Join(dir, "free-energy.png")
	title := fmt.Sprintf("%s (K=%d): free energy per EM iteration", m.kind, m.flags().Components)
	if len(m.restarts) > 1 {
		title += fmt.Sprintf(", restart %d", m.best+1)
	}
	if err := PlotFreeEnergy(p, title, r.run.History); err != nil {
		return out, err
	}
	out = append(out, p)
	if g, ok := r.m.(*GaussianMixture); ok && m.PCA == nil && g.D == 2 && d.Dim() == 2 {
		p := filepath.Join(dir, "components.png")
		title := fmt.Sprintf("gmm (K=%d, %s): components, means, 2-sigma ellipses", g.K, g.Covariance)
		if err := SaveComponents(p, title, g, d.X); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	if h, w, c := d.Height, d.Width, max(d.Channels, 1); h > 0 && w > 0 && h*w*c == m.dim && (c == 1 || c == 3) {
		var img *tensor.Mat
		var weights []float64
		switch g := r.m.(type) {
		case *GaussianMixture:
			img, weights = tensor.New(g.K, g.D), g.Weights
			for i, v := range g.Means {
				img.Data[i] = float32(v)
			}
			if m.PCA != nil {
				img = m.PCA.Inverse(img)
			}
		case *BernoulliMixture:
			img, weights = tensor.New(g.K, g.D), g.Weights
			for i, v := range g.Probs {
				img.Data[i] = float32(v)
			}
		}
		captions := make([]string, len(weights))
		for i, w := range weights { // in percent, at most 4 characters under a 28-pixel tile
			captions[i] = fmt.Sprintf("%.1f%%", 100*w)
			if w >= 0.0995 {
				captions[i] = fmt.Sprintf("%.0f%%", 100*w)
			}
		}
		p := filepath.Join(dir, "means.png")
		if err := (viz.Grid{Height: h, Width: w, Channels: c, Captions: captions}).Save(p, img); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}
