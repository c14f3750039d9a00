package diffusion

import (
	"fmt"

	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// timeMLP is a network of a noisy row x_t and its step t: the row (as
// a·x + b) and the sinusoidal embedding of t side by side (and, when
// conditional, the one-hot label with a last "no label" class), through
// hidden SiLU layers, to D outputs:
//
//	[a·x_t + b | emb(t) | onehot(y)] → Linear → SiLU → … → Linear → D
type timeMLP struct {
	D, TimeDim, Classes int
	Net                 *nn.Sequential

	in, emb *tensor.Mat
	labels  []int
}

func newTimeMLP(d, timeDim, classes int, hidden []int, s *rng.Stream) *timeMLP {
	m := &timeMLP{D: d, TimeDim: timeDim, Classes: classes, Net: nn.NewSequential()}
	in := d + timeDim
	if classes > 0 {
		in += classes + 1
	}
	for k, h := range hidden {
		l := nn.NewLinear(in, h, nn.He, s)
		l.NoInputGrad = k == 0
		m.Net.Layers = append(m.Net.Layers, l, nn.SiLU())
		in = h
	}
	out := nn.NewLinear(in, d, nn.Glorot, s)
	out.NoInputGrad = len(hidden) == 0
	m.Net.Layers = append(m.Net.Layers, out)
	return m
}

// Forward returns the outputs (n × D) for the rows of x at steps t, the row
// entering as a·x + b. It panics if len(t) != x.Rows or x.Cols != D.
func (m *timeMLP) Forward(x *tensor.Mat, t []int, a, b float32) *tensor.Mat {
	if len(t) != x.Rows || x.Cols != m.D {
		panic(fmt.Sprintf("diffusion: network of %d values: input %d×%d with %d steps", m.D, x.Rows, x.Cols, len(t)))
	}
	m.emb = nn.TimeEmbedding(m.emb, t, m.TimeDim)
	w := m.D + m.TimeDim
	if m.Classes > 0 {
		if len(m.labels) != x.Rows {
			panic(fmt.Sprintf("diffusion: conditional network: %d labels for %d rows", len(m.labels), x.Rows))
		}
		w += m.Classes + 1
	}
	m.in = tensor.Reuse(m.in, x.Rows, w)
	for i := 0; i < x.Rows; i++ {
		r, xr := m.in.Row(i), x.Row(i)
		for j, v := range xr {
			r[j] = a*v + b
		}
		copy(r[m.D:], m.emb.Row(i))
		if m.Classes > 0 {
			oh := r[m.D+m.TimeDim:]
			clear(oh)
			oh[m.labels[i]] = 1
		}
	}
	return m.Net.Forward(m.in)
}

// SetLabels sets the labels of the next Forward calls (Classes: none).
func (m *timeMLP) SetLabels(labels []int) { m.labels = labels }

// Backward sets the parameters' gradients for ∂L/∂output dy.
func (m *timeMLP) Backward(dy *tensor.Mat) { m.Net.Backward(dy) }

// Params returns the parameters in layer order.
func (m *timeMLP) Params() []*nn.Param { return m.Net.Params() }
