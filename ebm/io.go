package ebm

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// meta is what a model file holds besides the tensors.
type meta struct {
	Config  Config     `json:"config"`
	Dim     int        `json:"dim"`
	H       int        `json:"height,omitempty"`
	W       int        `json:"width,omitempty"`
	C       int        `json:"channels,omitempty"`
	Seed    uint64     `json:"seed"`
	Steps   int        `json:"steps"`
	Head    int        `json:"buffer_head"`
	History []EpochLog `json:"history"`
	// Last step's mean energies (Check reads them after a resume too).
	LastPos float64 `json:"last_e_data"`
	LastNeg float64 `json:"last_e_neg"`
}

// Save implements model.Model: the network, Adam's state, the replay buffer and
// its head, and the training stream, so that a resumed run continues bit for bit.
// The data are not copied: write f before training on.
func (m *Model) Save(f *checkpoint.File) error {
	f.Kind = Kind
	if err := f.SetMeta(meta{Config: m.Cfg, Dim: m.dim, H: m.H, W: m.W, C: m.C, Seed: m.Seed, Steps: m.Steps,
		Head: m.Head, History: m.History, LastPos: m.lastPos, LastNeg: m.lastNeg}); err != nil {
		return err
	}
	nn.SaveLayer(f, "net", m.Net.Seq)
	m.opt.Save(f, "adam")
	f.AddF32("buffer", []int{m.Buf.Rows, m.Buf.Cols}, m.Buf.Data[:m.Buf.Rows*m.Buf.Cols])
	return f.AddState("rng", m.RS)
}

// Load reads a model that Save wrote.
func Load(f *checkpoint.File) (*Model, error) {
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if mt.Dim < 1 || mt.Config.Buffer < 1 || mt.Head < 0 || mt.Head >= mt.Config.Buffer || mt.H < 0 || mt.H*mt.W*max(mt.C, 1) > mt.Dim {
		return nil, fmt.Errorf("ebm: bad sizes in the model file (dim %d, buffer %d, head %d)", mt.Dim, mt.Config.Buffer, mt.Head)
	}
	if err := mt.Config.Validate(); err != nil {
		return nil, fmt.Errorf("ebm: the model file's settings: %w", err)
	}
	m := &Model{Cfg: mt.Config, H: mt.H, W: mt.W, C: mt.C, dim: mt.Dim, Seed: mt.Seed, Steps: mt.Steps,
		Head: mt.Head, History: mt.History, lastPos: mt.LastPos, lastNeg: mt.LastNeg}
	m.Net = NewNet(m.dim, m.H, m.W, m.C, m.Cfg.Channels, m.Cfg.Hidden, rng.New(0))
	if err := nn.LoadLayer(f, "net", m.Net.Seq); err != nil {
		return nil, fmt.Errorf("ebm: %w", err)
	}
	m.opt = m.newAdam()
	if err := m.opt.Load(f, "adam", m.Net.Params()); err != nil {
		return nil, fmt.Errorf("ebm: %w", err)
	}
	buf, err := f.F32("buffer", m.Cfg.Buffer*m.dim)
	if err != nil {
		return nil, fmt.Errorf("ebm: %w", err)
	}
	m.Buf = tensor.FromSlice(m.Cfg.Buffer, m.dim, append([]float32(nil), buf...))
	m.RS = new(rng.Stream)
	if err := f.State("rng", m.RS); err != nil {
		return nil, fmt.Errorf("ebm: %w", err)
	}
	return m, nil
}
