package nn

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
)

// Trainable is a layer that behaves differently in training and in evaluation:
// BatchNorm (batch statistics or running statistics) and Dropout (random mask or
// identity). Such layers start in training mode, as PyTorch modules do.
type Trainable interface {
	SetTraining(on bool)
}

// SetTraining puts l in training (on) or evaluation (!on) mode if it is
// Trainable, and does nothing otherwise. A Sequential forwards the switch to
// every layer it holds, nested stacks included.
func SetTraining(l Layer, on bool) {
	if t, ok := l.(Trainable); ok {
		t.SetTraining(on)
	}
}

// SetTraining switches every layer of s (see the function SetTraining).
func (s *Sequential) SetTraining(on bool) {
	for _, l := range s.Layers {
		SetTraining(l, on)
	}
}

// SetParamGrad turns the parameter gradients of l's dense and convolutional
// layers on or off (nested stacks included): with them off, Backward computes only
// ∂L/∂x and leaves every W.G and B.G as it was. Langevin dynamics and HMC on a
// network's input (deep energy models) need ∂E/∂x alone, and skip one GEMM per
// layer this way.
func SetParamGrad(l Layer, on bool) {
	switch l := l.(type) {
	case *Sequential:
		for _, c := range l.Layers {
			SetParamGrad(c, on)
		}
	case *Linear:
		l.NoParamGrad = !on
	case *Conv2D:
		l.NoParamGrad = !on
	case *ConvTranspose2D:
		l.NoParamGrad = !on
	case *SpectralNorm:
		SetParamGrad(l.Inner, on)
	}
}

// Buffered is a layer with state that is not trained by gradient but belongs in a
// model file, such as BatchNorm's running mean and variance. Buffers are Params
// whose G is nil: optimisers must never see them (they are not in Params), and
// SaveParams and LoadParams store them like any parameter.
type Buffered interface {
	Buffers() []*Param
}

// NewBuffer returns a zeroed non-trainable array of the given shape (G is nil).
func NewBuffer(name string, shape ...int) *Param {
	p := NewParam(name, shape...)
	p.G = nil
	return p
}

// Buffers returns l's buffers if it is Buffered, else nil. A Sequential returns
// those of all its layers, in layer order.
func Buffers(l Layer) []*Param {
	if b, ok := l.(Buffered); ok {
		return b.Buffers()
	}
	return nil
}

// Buffers returns the buffers of all layers of s, in layer order.
func (s *Sequential) Buffers() []*Param {
	var bs []*Param
	for _, l := range s.Layers {
		bs = append(bs, Buffers(l)...)
	}
	return bs
}

// SaveLayer adds everything l needs in a model file: its parameters as
// prefix.k.name (as SaveParams) and its buffers as prefix.buf.k.name. As with
// SaveParams the data are not copied: save f before changing the layer.
func SaveLayer(f *checkpoint.File, prefix string, l Layer) {
	SaveParams(f, prefix, l.Params())
	SaveParams(f, prefix+".buf", Buffers(l))
}

// LoadLayer restores what SaveLayer wrote into l, which must have the same
// architecture.
func LoadLayer(f *checkpoint.File, prefix string, l Layer) error {
	if err := LoadParams(f, prefix, l.Params()); err != nil {
		return fmt.Errorf("nn: loading %s: %w", prefix, err)
	}
	if err := LoadParams(f, prefix+".buf", Buffers(l)); err != nil {
		return fmt.Errorf("nn: loading %s buffers: %w", prefix, err)
	}
	return nil
}
