package decoder

import (
	"fmt"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/tensor"
)

// A conditional generator G(z, y) takes z with the one-hot label y appended. For
// log p(x | y) the data rows carry their label: x with y appended, so that the
// AIS chains of an example (rows tiled by mcmc.AISDecoder) see its label, and
// condDecoder splits each row again before the Gaussian observation model.

// condGen presents G(z, y) as z ↦ G(z, y_r), y_r the label of row r of the call
// in progress.
type condGen struct {
	g               mcmc.Generator
	latent, classes int
	y               *tensor.Mat // the one-hot labels of the current rows (a view)
	in, dz          *tensor.Mat
}

func (c *condGen) Forward(z *tensor.Mat) *tensor.Mat {
	c.in = tensor.Reuse(c.in, z.Rows, c.latent+c.classes)
	for r := 0; r < z.Rows; r++ {
		row := c.in.Row(r)
		copy(row[:c.latent], z.Row(r))
		copy(row[c.latent:], c.y.Row(r))
	}
	return c.g.Forward(c.in)
}

func (c *condGen) Backward(dy *tensor.Mat) *tensor.Mat {
	g := c.g.Backward(dy)
	c.dz = tensor.Reuse(c.dz, g.Rows, c.latent)
	for r := 0; r < g.Rows; r++ {
		copy(c.dz.Row(r), g.Row(r)[:c.latent])
	}
	return c.dz
}

// condDecoder is N(x; G(z, y), σ² I) on rows [x | y].
type condDecoder struct {
	*mcmc.GaussianDecoder
	gen *condGen
	dim int
}

func (d *condDecoder) LogLik(grad, z, xy *tensor.Mat, ll []float64) {
	d.gen.y = columns(xy, d.dim, d.gen.classes)
	d.GaussianDecoder.LogLik(grad, z, columns(xy, 0, d.dim), ll)
}

// columns returns the view of columns [j, j+n) of m.
func columns(m *tensor.Mat, j, n int) *tensor.Mat {
	if m.Rows == 0 {
		return &tensor.Mat{Cols: n, Stride: m.Stride}
	}
	return &tensor.Mat{Rows: m.Rows, Cols: n, Stride: m.Stride, Data: m.Data[j : (m.Rows-1)*m.Stride+j+n]}
}

// newDecoder returns the observation model for net at σ² and the rows it scores:
// x itself, or for a conditional net x with the one-hot labels appended.
func newDecoder(net Net, sigma2 float64, x *tensor.Mat, labels []int) (mcmc.Decoder, *tensor.Mat, error) {
	if net.Classes == 0 {
		d, err := mcmc.NewGaussianDecoder(net.G, net.Latent, sigma2)
		return d, x, err
	}
	if labels == nil {
		return nil, nil, fmt.Errorf("the model is conditional on labels (log p(x | y)) and the data have none")
	}
	gen := &condGen{g: net.G, latent: net.Latent, classes: net.Classes}
	gd, err := mcmc.NewGaussianDecoder(gen, net.Latent, sigma2)
	if err != nil {
		return nil, nil, err
	}
	xy := tensor.New(x.Rows, x.Cols+net.Classes)
	for r := 0; r < x.Rows; r++ {
		if labels[r] < 0 || labels[r] >= net.Classes {
			return nil, nil, fmt.Errorf("label %d of example %d is outside the model's %d classes", labels[r], r, net.Classes)
		}
		row := xy.Row(r)
		copy(row, x.Row(r))
		row[x.Cols+labels[r]] = 1
	}
	return &condDecoder{GaussianDecoder: gd, gen: gen, dim: x.Cols}, xy, nil
}
