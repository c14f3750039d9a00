package vae

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// Pictures: these return matrices of decoder means, one image per row, ready for
// viz.SaveGrid (values in [0, 1] for a Bernoulli decoder).

// Traversals returns, for each latent dimension d (one grid row each), the decoder
// means along h_d = −span … span in steps equal steps, the other coordinates held at
// base (the zero vector when base is nil): a (Latent·steps, Dim) matrix. y is the
// conditioning vector (one row) for cvae, else nil.
func (m *Model) Traversals(base []float32, steps int, span float64, y *tensor.Mat) *tensor.Mat {
	D := m.Config.Latent
	if steps < 2 || (base != nil && len(base) != D) {
		panic(fmt.Sprintf("vae: Traversals: steps %d, len(base) %d, latent %d", steps, len(base), D))
	}
	h := tensor.New(D*steps, D)
	for d := 0; d < D; d++ {
		for i := 0; i < steps; i++ {
			r := h.Row(d*steps + i)
			copy(r, base)
			r[d] = float32(-span + 2*span*float64(i)/float64(steps-1))
		}
	}
	return m.Decode(nil, h, repeatY(y, h.Rows))
}

// Manifold returns the decoder means on an n×n grid of a 2-D latent space, at the
// normal quantiles h = (Φ⁻¹(u), Φ⁻¹(v)) of u, v evenly spaced in [0.05, 0.95]
// (the picture of Kingma & Welling 2014, fig. 4, and the Keras VAE example), row by
// row from top (large h₂) to bottom. It panics unless Latent == 2.
func (m *Model) Manifold(n int, y *tensor.Mat) *tensor.Mat {
	if m.Config.Latent != 2 || n < 2 {
		panic(fmt.Sprintf("vae: Manifold needs a 2-D latent space and n >= 2 (latent %d, n %d)", m.Config.Latent, n))
	}
	q := make([]float64, n)
	for i := range q {
		q[i] = NormalQuantile(0.05 + 0.9*float64(i)/float64(n-1))
	}
	h := tensor.New(n*n, 2)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			h.Set(r*n+c, 0, float32(q[c]))
			h.Set(r*n+c, 1, float32(q[n-1-r]))
		}
	}
	return m.Decode(nil, h, repeatY(y, h.Rows))
}

// NormalQuantile returns Φ⁻¹(p) = √2·erfinv(2p − 1), the standard normal quantile.
func NormalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// repeatY returns y's first row repeated n times (nil for nil).
func repeatY(y *tensor.Mat, n int) *tensor.Mat {
	if y == nil {
		return nil
	}
	out := tensor.New(n, y.Cols)
	for i := 0; i < n; i++ {
		copy(out.Row(i), y.Row(0))
	}
	return out
}

// Pictures implements model.Picturer. After every epoch it writes, for image
// data:
//
//   - samples.png: the decoder means of 100 codes h ~ N(0, I) (stream 3 of
//     seed: the same codes every epoch, so the pictures are comparable), a
//     cvae's captioned with the class they were drawn for (classes in turn);
//   - reconstructions.png: the first 50 examples of d, 10 per row, each row of
//     examples (captioned "data") above the row of their reconstructions
//     Decode(μ(x)) (captioned "recon").
//
// After the last epoch it adds the pictures of the latent space (see
// latentPictures): traversals.png and, for a 2-D latent space, manifold.png and
// latent-scatter.png. It returns the paths written.
func (t *Trainer) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	m := t.Model
	h, w, c, ok := m.image()
	if !ok {
		return nil, nil
	}
	var paths []string
	if m.Variational() {
		y, labels := m.labelRows(100, -1)
		g := viz.Grid{Height: h, Width: w, Channels: c, Cols: 10}
		if labels != nil {
			g.Captions = make([]string, len(labels))
			for i, l := range labels {
				g.Captions[i] = labelText(d, l)
			}
		}
		p := filepath.Join(dir, "samples.png")
		if err := g.Save(p, m.Sample(nil, 100, y, rng.NewStream(seed, 3))); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	p := filepath.Join(dir, "reconstructions.png")
	if err := saveReconstructions(p, m, d, min(50, d.Len())); err != nil {
		return nil, err
	}
	paths = append(paths, p)
	if !final {
		return paths, nil
	}
	more, err := latentPictures(dir, "", m, d)
	return append(paths, more...), err
}

// saveReconstructions writes the first n examples of d, 10 per grid row, each
// row of examples above the row of their reconstructions, captioned "data" and
// "recon".
func saveReconstructions(path string, m *Model, d *dataset.Dataset, n int) error {
	h, w, c, _ := m.image()
	x := d.X.Slice(0, n)
	y := m.labelsOf(d, 0, n)
	rec := m.Reconstruct(nil, x, y)
	const per = 10
	rows := (n + per - 1) / per
	both := tensor.New(2*rows*per, m.Dim) // (2·rows·10, Dim): data rows above reconstruction rows
	captions := make([]string, both.Rows)
	for i := range captions {
		captions[i] = "data"
		if (i/per)%2 == 1 {
			captions[i] = "recon"
		}
	}
	for i := 0; i < n; i++ {
		r := (i/per)*2*per + i%per
		copy(both.Row(r), x.Row(i))
		copy(both.Row(r+per), rec.Row(i))
	}
	// Tiles past the n-th example of the last row stay blank and uncaptioned.
	for i := n % per; n%per != 0 && i < per; i++ {
		r := (rows-1)*2*per + i
		captions[r], captions[r+per] = "", ""
	}
	return viz.Grid{Height: h, Width: w, Channels: c, Cols: per, Captions: captions}.Save(path, both)
}

// labelsOf returns the one-hot labels of examples [b0, b1) of d for a cvae, else nil.
func (m *Model) labelsOf(d *dataset.Dataset, b0, b1 int) *tensor.Mat {
	if m.Config.Kind != KindCVAE {
		return nil
	}
	idx := make([]int, b1-b0)
	for i := range idx {
		idx[i] = b0 + i
	}
	return OneHot(nil, d.Labels, idx, m.Config.CondDim)
}

// labelText names class l: its name in d when the names are short, else its number.
func labelText(d *dataset.Dataset, l int) string {
	short := d != nil && len(d.ClassNames) > 0
	if short {
		for _, n := range d.ClassNames {
			short = short && len(n) <= 8
		}
	}
	if short && l >= 0 && l < len(d.ClassNames) {
		return d.ClassNames[l]
	}
	return strconv.Itoa(l)
}

// traversalSteps and traversalSpan set the traversal pictures: 11 values of
// each latent coordinate from −3 to 3.
const (
	traversalSteps = 11
	traversalSpan  = 3.0
)

// latentPictures writes prefix+"traversals.png" (one grid row per latent
// dimension j: the decoder means at h_j = −3 … 3, the other coordinates 0, each
// tile captioned "zj=value"; a cvae's for class 0) and, for a 2-D latent space,
// prefix+"manifold.png" (Manifold on a 20×20 grid) and
// prefix+"latent-scatter.png" (the codes μ(x) of up to 5000 examples of d,
// coloured by label). It returns the paths written.
func latentPictures(dir, prefix string, m *Model, d *dataset.Dataset) ([]string, error) {
	h, w, c, ok := m.image()
	if !ok {
		return nil, nil
	}
	y1, _ := m.labelRows(1, 0)
	tv := m.Traversals(nil, traversalSteps, traversalSpan, y1)
	captions := make([]string, tv.Rows)
	for j := 0; j < m.Config.Latent; j++ {
		for i := 0; i < traversalSteps; i++ {
			v := -traversalSpan + 2*traversalSpan*float64(i)/float64(traversalSteps-1)
			captions[j*traversalSteps+i] = fmt.Sprintf("z%d=%.1f", j+1, v)
		}
	}
	p := filepath.Join(dir, prefix+"traversals.png")
	if err := (viz.Grid{Height: h, Width: w, Channels: c, Cols: traversalSteps, Captions: captions}).Save(p, tv); err != nil {
		return nil, err
	}
	paths := []string{p}
	if m.Config.Latent != 2 {
		return paths, nil
	}
	const n = 20
	p = filepath.Join(dir, prefix+"manifold.png")
	if err := (viz.Grid{Height: h, Width: w, Channels: c, Cols: n}).Save(p, m.Manifold(n, y1)); err != nil {
		return nil, err
	}
	paths = append(paths, p)
	k := min(5000, d.Len())
	mu, _ := m.Encode(nil, nil, d.X.Slice(0, k), m.labelsOf(d, 0, k))
	xs, ys := make([]float64, k), make([]float64, k)
	for i := 0; i < k; i++ {
		xs[i], ys[i] = float64(mu.At(i, 0)), float64(mu.At(i, 1))
	}
	var labels []int
	if d.Labels != nil {
		labels = d.Labels[:k]
	}
	p = filepath.Join(dir, prefix+"latent-scatter.png")
	if err := viz.SaveScatter(p, "codes mu(x) by label", xs, ys, labels); err != nil {
		return nil, err
	}
	return append(paths, p), nil
}
