package rbm

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
)

// fileVersion is the version of the rbm/grbm model-file layout: 2 adds the
// constant columns a Gaussian RBM leaves out (keep, fill) and drops the
// trainer's own shuffle and data hash (the driver shuffles, and records the
// data in model.Settings). Version 1 files load as models; their training
// state does not resume.
const fileVersion = 2

type fileMeta struct {
	Version    int               `json:"version"`
	Visible    string            `json:"visible"`
	NumVisible int               `json:"num_visible"`
	NumHidden  int               `json:"num_hidden"`
	DataDim    int               `json:"data_dim,omitempty"` // when columns are left out (Keep)
	Keep       []int             `json:"keep,omitempty"`
	Height     int               `json:"height,omitempty"`
	Width      int               `json:"width,omitempty"`
	Channels   int               `json:"channels,omitempty"`
	Info       map[string]string `json:"info,omitempty"`
	Trainer    *trainerMeta      `json:"trainer,omitempty"`
}

type trainerMeta struct {
	Config       Config `json:"config"`
	Epoch        int    `json:"epoch"`
	Step         int    `json:"step"`
	PictureSteps int    `json:"picture_steps,omitempty"`
}

func (m *RBM) meta(info map[string]string) fileMeta {
	meta := fileMeta{Version: fileVersion, Visible: m.Visible.String(), NumVisible: m.NumVisible(), NumHidden: m.NumHidden(),
		Keep: m.Keep, Height: m.Height, Width: m.Width, Channels: m.Channels, Info: info}
	if m.Keep != nil {
		meta.DataDim = m.DataDim()
	}
	return meta
}

// Save writes the model into f (Kind "rbm" or "grbm"); info is free-form provenance
// (data spec, command line) kept in the metadata. Tensors are not copied.
func (m *RBM) Save(f *checkpoint.File, info map[string]string) error {
	f.Kind = m.Kind()
	f.Tensors = nil
	if err := f.SetMeta(m.meta(info)); err != nil {
		return err
	}
	m.addTensors(f)
	return nil
}

func (m *RBM) addTensors(f *checkpoint.File) {
	nv, nh := m.NumVisible(), m.NumHidden()
	f.AddF32("W", []int{nv, nh}, flat(m.W))
	f.AddF32("b", []int{nv}, m.B)
	f.AddF32("c", []int{nh}, m.C)
	if m.Visible == Gaussian {
		f.AddF32("log_sigma", []int{nv}, m.LogSigma)
		f.AddF32("mean", []int{nv}, m.Mean)
		f.AddF32("std", []int{nv}, m.Std)
		if m.Keep != nil {
			f.AddF32("fill", []int{len(m.Fill)}, m.Fill)
		}
	}
}

// Load reads a model written by Save or Trainer.Save (the training state, if any, is
// ignored), copying the tensors. It returns an error for another kind of file or
// missing or mis-sized tensors.
func Load(f *checkpoint.File) (*RBM, error) {
	m, _, err := load(f)
	return m, err
}

// Info returns the provenance map stored with the model in f (nil when absent).
func Info(f *checkpoint.File) map[string]string {
	var meta fileMeta
	if f.GetMeta(&meta) != nil {
		return nil
	}
	return meta.Info
}

func load(f *checkpoint.File) (*RBM, *fileMeta, error) {
	if f.Kind != "rbm" && f.Kind != "grbm" {
		return nil, nil, fmt.Errorf("rbm: model file holds a %q model, not an rbm or grbm", f.Kind)
	}
	var meta fileMeta
	if err := f.GetMeta(&meta); err != nil {
		return nil, nil, err
	}
	if meta.Version < 1 || meta.Version > fileVersion {
		return nil, nil, fmt.Errorf("rbm: model file version %d, this build reads versions 1 to %d", meta.Version, fileVersion)
	}
	vis := Bernoulli
	if meta.Visible == "gaussian" {
		vis = Gaussian
	} else if meta.Visible != "bernoulli" {
		return nil, nil, fmt.Errorf("rbm: model file has unknown visible units %q", meta.Visible)
	}
	if (vis == Gaussian) != (f.Kind == "grbm") {
		return nil, nil, fmt.Errorf("rbm: model file kind %q does not match %s visible units", f.Kind, meta.Visible)
	}
	m, err := New(vis, meta.NumVisible, meta.NumHidden)
	if err != nil {
		return nil, nil, err
	}
	m.Height, m.Width, m.Channels = meta.Height, meta.Width, meta.Channels
	nv, nh := meta.NumVisible, meta.NumHidden
	get := func(dst []float32, name string) error {
		src, err := f.F32(name, len(dst))
		if err == nil {
			copy(dst, src)
		}
		return err
	}
	w, err := f.F32("W", nv*nh)
	if err != nil {
		return nil, nil, err
	}
	setFlat(m.W, w)
	for _, p := range []struct {
		dst  []float32
		name string
	}{{m.B, "b"}, {m.C, "c"}, {m.LogSigma, "log_sigma"}, {m.Mean, "mean"}, {m.Std, "std"}} {
		if p.dst == nil {
			continue
		}
		if err := get(p.dst, p.name); err != nil {
			return nil, nil, err
		}
	}
	if meta.Keep != nil {
		if err := m.loadKeep(f, &meta); err != nil {
			return nil, nil, err
		}
	}
	return m, &meta, nil
}

// loadKeep restores the columns a Gaussian RBM leaves out, checking that Keep
// lists NumVisible increasing columns of the data.
func (m *RBM) loadKeep(f *checkpoint.File, meta *fileMeta) error {
	if m.Visible != Gaussian || len(meta.Keep) != m.NumVisible() || meta.DataDim <= m.NumVisible() {
		return fmt.Errorf("rbm: model file lists %d kept columns of %d for %d %s visible units", len(meta.Keep), meta.DataDim, m.NumVisible(), m.Visible)
	}
	for i, c := range meta.Keep {
		if c < 0 || c >= meta.DataDim || (i > 0 && c <= meta.Keep[i-1]) {
			return fmt.Errorf("rbm: model file's kept column %d is %d (data have %d)", i, c, meta.DataDim)
		}
	}
	fill, err := f.F32("fill", meta.DataDim)
	if err != nil {
		return err
	}
	m.Keep, m.Fill = append([]int(nil), meta.Keep...), append([]float32(nil), fill...)
	return nil
}

// Save implements model.Model: the model and the whole training state:
// parameters, velocities, persistent chains (and their energies), every random
// stream, epoch, step and settings. LoadTrainer continues from it bit for bit.
// Nothing in it depends on the clock, so identical runs write identical files.
func (t *Trainer) Save(f *checkpoint.File) error {
	m := t.Model
	f.Kind = m.Kind()
	f.Tensors = nil
	nv, nh := m.NumVisible(), m.NumHidden()
	meta := m.meta(nil)
	meta.Trainer = &trainerMeta{Config: t.cfg, Epoch: t.epoch, Step: t.step, PictureSteps: t.pictureSteps}
	if err := f.SetMeta(meta); err != nil {
		return err
	}
	m.addTensors(f)
	f.AddF32("train/vW", []int{nv, nh}, flat(t.vW))
	f.AddF32("train/vb", []int{nv}, t.vB)
	f.AddF32("train/vc", []int{nh}, t.vC)
	if t.vS != nil {
		f.AddF32("train/vs", []int{nv}, t.vS)
	}
	if t.offV != nil {
		f.AddF64("train/offset_v", []int{nv}, t.offV)
		f.AddF64("train/offset_h", []int{nh}, t.offH)
	}
	for r := range t.chainV {
		B := t.cfg.BatchSize
		f.AddF32(fmt.Sprintf("train/chain_v/%d", r), []int{B, nv}, t.chainV[r].Data[:B*nv])
		f.AddF32(fmt.Sprintf("train/chain_h/%d", r), []int{B, nh}, t.chainH[r].Data[:B*nh])
		f.AddF64(fmt.Sprintf("train/chain_e/%d", r), []int{B}, t.chainE[r])
	}
	add := func(name string, s *rng.Stream) error { return f.AddState(name, s) }
	if err := add("train/rng/swap", t.swap); err != nil {
		return err
	}
	if err := add("train/rng/sampler", t.sampler); err != nil {
		return err
	}
	for i, s := range t.streams {
		if err := add(fmt.Sprintf("train/rng/row/%d", i), s); err != nil {
			return err
		}
	}
	return nil
}

// LoadTrainer restores a trainer saved by Trainer.Save, to continue training
// (model.Train with the file's Settings). A file without training state (RBM.Save,
// or a version-1 file) is an error.
func LoadTrainer(f *checkpoint.File) (*Trainer, error) {
	m, meta, err := load(f)
	if err != nil {
		return nil, err
	}
	if meta.Trainer == nil || meta.Version < 2 {
		return nil, fmt.Errorf("rbm: model file has no training state to resume")
	}
	tm := meta.Trainer
	t, err := NewTrainer(m, tm.Config)
	if err != nil {
		return nil, err
	}
	t.epoch, t.step, t.pictureSteps = tm.Epoch, tm.Step, tm.PictureSteps
	nv, nh := m.NumVisible(), m.NumHidden()
	get := func(dst []float32, name string) error {
		src, err := f.F32(name, len(dst))
		if err == nil {
			copy(dst, src)
		}
		return err
	}
	vw, err := f.F32("train/vW", nv*nh)
	if err != nil {
		return nil, err
	}
	setFlat(t.vW, vw)
	if err := get(t.vB, "train/vb"); err != nil {
		return nil, err
	}
	if err := get(t.vC, "train/vc"); err != nil {
		return nil, err
	}
	if t.vS != nil {
		if err := get(t.vS, "train/vs"); err != nil {
			return nil, err
		}
	}
	if t.cfg.Center > 0 && f.Has("train/offset_v") { // none before the first step
		ov, err := f.F64("train/offset_v", nv)
		if err != nil {
			return nil, err
		}
		oh, err := f.F64("train/offset_h", nh)
		if err != nil {
			return nil, err
		}
		t.offV, t.offH = append([]float64(nil), ov...), append([]float64(nil), oh...)
	}
	B := t.cfg.BatchSize
	for r := range t.chainV {
		if err := get(t.chainV[r].Data[:B*nv], fmt.Sprintf("train/chain_v/%d", r)); err != nil {
			return nil, err
		}
		if err := get(t.chainH[r].Data[:B*nh], fmt.Sprintf("train/chain_h/%d", r)); err != nil {
			return nil, err
		}
		e, err := f.F64(fmt.Sprintf("train/chain_e/%d", r), B)
		if err != nil {
			return nil, err
		}
		copy(t.chainE[r], e)
	}
	restore := func(name string, s *rng.Stream) error { return f.State(name, s) }
	if err := restore("train/rng/swap", t.swap); err != nil {
		return nil, err
	}
	if err := restore("train/rng/sampler", t.sampler); err != nil {
		return nil, err
	}
	for i, s := range t.streams {
		if err := restore(fmt.Sprintf("train/rng/row/%d", i), s); err != nil {
			return nil, err
		}
	}
	return t, nil
}
