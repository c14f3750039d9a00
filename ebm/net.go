package ebm

import (
	"fmt"

	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Net is the energy network F(s; θ) of inputs s ∈ [−1, 1]^d, the model's energy
// being E(x) = F(2x − 1). For images of H×W×C it is the tutorial's network
// (Lippe, tutorial 8, CNNModel): with c = Channels,
//
//	conv 5×5 stride 2 pad 4 → c/2,  SiLU
//	conv 3×3 stride 2 pad 1 → c,    SiLU
//	conv 3×3 stride 2 pad 1 → 2c,   SiLU
//	conv 3×3 stride 2 pad 1 → 2c,   SiLU
//	flatten, dense → 2c, SiLU, dense → 1
//
// (SiLU, x·σ(x), is the tutorial's Swish); for rows that are not images, two dense
// SiLU layers of Hidden units and a dense layer to the scalar. The layers' own
// backward passes give both ∇_θ F and ∇_s F.
type Net struct {
	Seq *nn.Sequential
	dim int
	dy  *tensor.Mat
	e   []float32
}

// NewNet returns the network for rows of dim values, images of h×w×c when h > 0,
// initialised as PyTorch's default (nn.LeCunUniform) from s. It panics on bad sizes.
func NewNet(dim, h, w, c, channels, hidden int, s *rng.Stream) *Net {
	var layers []nn.Layer
	if h > 0 {
		if h*w*c != dim || channels < 2 {
			panic(fmt.Sprintf("ebm: NewNet: %d×%d×%d images for %d values, %d channels", h, w, c, dim, channels))
		}
		ch := []int{channels / 2, channels, 2 * channels, 2 * channels}
		inH, inW, inC := h, w, c
		for i, oc := range ch {
			g := nn.ConvGeom{InH: inH, InW: inW, InC: inC, OutC: oc, K: 3, Stride: 2, Pad: 1}
			if i == 0 {
				g.K, g.Pad = 5, 4
			}
			layers = append(layers, nn.NewConv2D(g, nn.LeCunUniform, s), nn.SiLU())
			inH, inW, inC = g.OutH(), g.OutW(), oc
		}
		flat := inH * inW * inC
		layers = append(layers, nn.Flatten(inH, inW, inC), nn.NewLinear(flat, 2*channels, nn.LeCunUniform, s), nn.SiLU(),
			nn.NewLinear(2*channels, 1, nn.LeCunUniform, s))
	} else {
		if dim < 1 || hidden < 1 {
			panic(fmt.Sprintf("ebm: NewNet: %d values, %d hidden units", dim, hidden))
		}
		layers = []nn.Layer{nn.NewLinear(dim, hidden, nn.LeCunUniform, s), nn.SiLU(),
			nn.NewLinear(hidden, hidden, nn.LeCunUniform, s), nn.SiLU(), nn.NewLinear(hidden, 1, nn.LeCunUniform, s)}
	}
	return &Net{Seq: nn.NewSequential(layers...), dim: dim}
}

// Params returns the trainable parameters.
func (n *Net) Params() []*nn.Param { return n.Seq.Params() }

// Forward returns F(s_i) for every row of s (batch, d), in a buffer owned by n
// and valid until the next Forward. It panics if s.Cols != d.
func (n *Net) Forward(s *tensor.Mat) []float32 {
	if s.Cols != n.dim {
		panic(fmt.Sprintf("ebm: Net: rows of %d values, want %d", s.Cols, n.dim))
	}
	y := n.Seq.Forward(s) // (batch, 1)
	if cap(n.e) < s.Rows {
		n.e = make([]float32, s.Rows)
	}
	n.e = n.e[:s.Rows]
	for i := range n.e {
		n.e[i] = y.At(i, 0)
	}
	return n.e
}

// InputGrad, after Forward(s), returns ∂/∂s Σ_i w_i F(s_i) as Backward does,
// without computing (or touching) the parameters' gradients: Langevin dynamics
// and AIS need the input gradient alone.
func (n *Net) InputGrad(w []float32) *tensor.Mat {
	nn.SetParamGrad(n.Seq, false)
	defer nn.SetParamGrad(n.Seq, true)
	return n.Backward(w)
}

// Backward, after Forward(s), sets every parameter's gradient to
//
//	∂/∂θ Σ_i w_i F(s_i)
//
// and returns ∂/∂s of the same sum (batch, d), row i being w_i ∇_s F(s_i), in a
// buffer owned by the network. It panics if len(w) is not the batch size.
func (n *Net) Backward(w []float32) *tensor.Mat {
	n.dy = tensor.Reuse(n.dy, len(w), 1)
	copy(n.dy.Data, w) // (batch, 1) is contiguous
	return n.Seq.Backward(n.dy)
}
