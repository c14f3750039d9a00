package rbm

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// MaxFilters is the most filters SaveFilters draws.
const MaxFilters = 256

// Filters returns the weights of the first n hidden units (all of them when n ≤ 0
// or larger), one per row: row j is column j of W laid over the data's columns (0 in
// any a Gaussian RBM leaves out), min-max scaled to [0, 1] (0.5 for a unit with all
// weights equal). Drawn as images, they are the features the hidden units detect.
func (m *RBM) Filters(n int) *tensor.Mat {
	nh := m.NumHidden()
	if n <= 0 || n > nh {
		n = nh
	}
	x := tensor.New(n, m.DataDim())
	for j := 0; j < n; j++ {
		r := x.Row(j)
		for i := 0; i < m.NumVisible(); i++ {
			r[m.column(i)] = m.W.At(i, j)
		}
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range r {
			lo, hi = min(lo, v), max(hi, v)
		}
		for i := range r {
			if hi > lo {
				r[i] = (r[i] - lo) / (hi - lo)
			} else {
				r[i] = 0.5
			}
		}
	}
	return x
}

// SaveFilters writes the first MaxFilters Filters as a PNG grid of the model's
// image shape (Height, Width, Channels); a model of data without one is an error.
func (m *RBM) SaveFilters(path string) error {
	if m.Height == 0 {
		return fmt.Errorf("rbm: the model's data had no image shape to draw its filters in")
	}
	return viz.Grid{Height: m.Height, Width: m.Width, Channels: max(m.Channels, 1)}.Save(path, m.Filters(MaxFilters))
}

// ChainSteps returns the numbers of Gibbs steps at which SaveChains draws its
// chains: 1, 10, 100, ... below steps, then steps.
func ChainSteps(steps int) []int {
	var out []int
	for k := 1; k < steps; k *= 10 {
		out = append(out, k)
	}
	return append(out, steps)
}

// SaveChains writes a PNG of independent block-Gibbs chains, one per column, each
// started from its own row of start (data units) and drawing from its own random
// stream: the first row of the picture shows the starts (captioned "data"), each
// further row the means E[x | h] after the number of steps in its caption
// (ChainSteps(steps)), so that the picture says how far the chains mixed. Values
// are mapped from [lo, hi] to the picture's [0, 1] (for a Bernoulli RBM, 0 and 1).
// A model without an image shape is an error.
func (m *RBM) SaveChains(path string, start *tensor.Mat, steps int, seed uint64, lo, hi float32) error {
	if m.Height == 0 {
		return fmt.Errorf("rbm: the model's data had no image shape to draw samples in")
	}
	if steps < 1 || start.Rows < 1 {
		return fmt.Errorf("rbm: SaveChains needs at least one chain and one step, got %d and %d", start.Rows, steps)
	}
	m.checkData(start)
	n, stages := start.Rows, ChainSteps(steps)
	pic := tensor.New(n*(len(stages)+1), m.DataDim())
	pic.Slice(0, n).Copy(start)
	captions := make([]string, 0, pic.Rows)
	for i := 0; i < n; i++ {
		captions = append(captions, "data")
	}
	v, done := start, 0
	for k, s := range stages {
		var mu *tensor.Mat
		v, mu = m.Sample(SampleConfig{N: n, Steps: s - done, Seed: rng.NewStream(seed, uint64(k)).Uint64(), Init: v})
		done = s
		pic.Slice((k+1)*n, (k+2)*n).Copy(mu)
		word := "steps"
		if s == 1 {
			word = "step"
		}
		for i := 0; i < n; i++ {
			captions = append(captions, fmt.Sprintf("%d %s", s, word))
		}
	}
	if lo != 0 || hi != 1 {
		scale := float32(1)
		if hi > lo {
			scale = 1 / (hi - lo)
		}
		for i := range pic.Data {
			pic.Data[i] = (pic.Data[i] - lo) * scale
		}
	}
	g := viz.Grid{Height: m.Height, Width: m.Width, Channels: max(m.Channels, 1), Cols: n, Captions: captions}
	return g.Save(path, pic)
}
