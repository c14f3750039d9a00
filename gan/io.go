package gan

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
)

// meta is what a model file holds besides the tensors.
type meta struct {
	Arch    string     `json:"arch"`
	Config  Config     `json:"config"`
	Dim     int        `json:"dim"`
	H       int        `json:"height,omitempty"`
	W       int        `json:"width,omitempty"`
	C       int        `json:"channels,omitempty"`
	Classes int        `json:"classes,omitempty"`
	Codes   int        `json:"codes,omitempty"`
	Seed    uint64     `json:"seed"`
	History []EpochLog `json:"history"`
	Steps   int        `json:"steps"`
}

// Save implements model.Model: both networks, the generator's moving average,
// both optimisers and the noise stream, so a resumed run continues bit for bit.
func (m *Model) Save(f *checkpoint.File) error {
	f.Kind = m.Arch
	if err := f.SetMeta(meta{Arch: m.Arch, Config: m.Cfg, Dim: m.dim, H: m.H, W: m.W, C: m.C,
		Classes: m.Classes, Codes: m.Codes, Seed: m.Seed, History: m.History, Steps: m.Steps}); err != nil {
		return err
	}
	nn.SaveLayer(f, "G", m.G)
	nn.SaveLayer(f, "D", m.D)
	m.EMA.Save(f, "ema")
	for k, st := range m.EMAStats {
		f.AddF32(emaStatsKey(k), []int{len(st)}, st)
	}
	m.gOpt.Save(f, "adamG")
	m.dOpt.Save(f, "adamD")
	if err := f.AddState("noise", &m.Noise); err != nil {
		return err
	}
	if m.Cfg.DDropout > 0 {
		return f.AddState("dropout", &m.Drop)
	}
	return nil
}

// Load reads a GAN from a model file.
func Load(f *checkpoint.File) (*Model, error) {
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if mt.Dim < 1 || mt.Config.Latent < 1 || mt.Classes < 0 || mt.Codes < 0 || mt.Codes > 1000 || (mt.Codes > 0 && mt.Classes > 0) {
		return nil, fmt.Errorf("gan: bad sizes in the file (dim %d, latent %d)", mt.Dim, mt.Config.Latent)
	}
	if mt.Config.Loss == "" {
		mt.Config.Loss = "bce" // files from before --loss
	}
	m := &Model{Arch: mt.Arch, Cfg: mt.Config, dim: mt.Dim, H: mt.H, W: mt.W, C: mt.C, Classes: mt.Classes, Codes: mt.Codes,
		Seed: mt.Seed, History: mt.History, Steps: mt.Steps}
	if err := m.build(rng.New(0)); err != nil {
		return nil, err
	}
	if err := nn.LoadLayer(f, "G", m.G); err != nil {
		return nil, err
	}
	if err := nn.LoadLayer(f, "D", m.D); err != nil {
		return nil, err
	}
	if err := m.EMA.Load(f, "ema"); err != nil {
		return nil, err
	}
	recal := false
	for k, st := range m.EMAStats {
		if !f.Has(emaStatsKey(k)) {
			recal = true // a file from before session 18: computed below
			continue
		}
		w, err := f.F32(emaStatsKey(k), len(st))
		if err != nil {
			return nil, err
		}
		copy(st, w)
	}
	m.initOpt()
	if err := m.gOpt.Load(f, "adamG", m.G.Params()); err != nil {
		return nil, err
	}
	if err := m.dOpt.Load(f, "adamD", m.D.Params()); err != nil {
		return nil, err
	}
	if err := f.State("noise", &m.Noise); err != nil {
		return nil, err
	}
	if m.Cfg.DDropout > 0 {
		if err := f.State("dropout", &m.Drop); err != nil {
			return nil, err
		}
	}
	if recal {
		m.recalibrate()
	}
	return m, nil
}

// emaStatsKey names the k-th BatchNorm buffer of the averaged generator.
func emaStatsKey(k int) string { return fmt.Sprintf("ema_bn.%d", k) }
