package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Param is one trainable array: its value W and the gradient G of the loss with
// respect to it, set by the owning layer's Backward.
type Param struct {
	Name  string
	Shape []int
	W, G  []float32
}

// NewParam returns a zeroed parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("nn: NewParam %s: negative dimension in %v", name, shape))
		}
		n *= d
	}
	return &Param{Name: name, Shape: append([]int(nil), shape...), W: make([]float32, n), G: make([]float32, n)}
}

// Mat returns W viewed as a rows×cols matrix (rows*cols must equal len(W)).
func (p *Param) Mat(rows, cols int) *tensor.Mat { return tensor.FromSlice(rows, cols, p.W) }

// GradMat returns G viewed as a rows×cols matrix.
func (p *Param) GradMat(rows, cols int) *tensor.Mat { return tensor.FromSlice(rows, cols, p.G) }

// Init names a weight initialisation scheme.
type Init int

const (
	// Glorot draws W ~ U(−a, a) with a = √(6/(fanIn+fanOut)) and sets the bias to 0
	// (Glorot & Bengio 2010, eq. 16; Keras' default).
	Glorot Init = iota
	// He draws W ~ N(0, 2/fanIn) and sets the bias to 0 (He et al. 2015, for ReLU).
	He
	// LeCunUniform draws W and the bias ~ U(−a, a) with a = 1/√fanIn: PyTorch's default
	// for nn.Linear and nn.Conv2d (kaiming_uniform with a = √5).
	LeCunUniform
)

// String returns the scheme's name.
func (in Init) String() string {
	switch in {
	case Glorot:
		return "glorot"
	case He:
		return "he"
	case LeCunUniform:
		return "lecun-uniform"
	}
	return fmt.Sprintf("Init(%d)", int(in))
}

// ParseInit parses "glorot", "he" or "lecun-uniform".
func ParseInit(s string) (Init, error) {
	for _, in := range []Init{Glorot, He, LeCunUniform} {
		if in.String() == s {
			return in, nil
		}
	}
	return 0, fmt.Errorf("nn: unknown initialisation %q (want glorot, he or lecun-uniform)", s)
}

// initWeights fills w and b according to in, drawing from s.
func initWeights(w, b []float32, fanIn, fanOut int, in Init, s *rng.Stream) {
	if s == nil {
		panic("nn: nil random stream for weight initialisation")
	}
	switch in {
	case Glorot:
		a := float32(math.Sqrt(6 / float64(fanIn+fanOut)))
		for i := range w {
			w[i] = a * (2*s.Float32() - 1)
		}
		clear(b)
	case He:
		s.FillNormal(w, 0, float32(math.Sqrt(2/float64(fanIn))))
		clear(b)
	case LeCunUniform:
		a := float32(1 / math.Sqrt(float64(fanIn)))
		for i := range w {
			w[i] = a * (2*s.Float32() - 1)
		}
		for i := range b {
			b[i] = a * (2*s.Float32() - 1)
		}
	default:
		panic(fmt.Sprintf("nn: unknown initialisation %d", int(in)))
	}
}
