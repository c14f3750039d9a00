package rbm

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// fileVersion is the version of the rbm/grbm model-file layout.
const fileVersion = 1

type fileMeta struct {
	Version    int               `json:"version"`
	Visible    string            `json:"visible"`
	NumVisible int               `json:"num_visible"`
	NumHidden  int               `json:"num_hidden"`
	Height     int               `json:"height,omitempty"`
	Width      int               `json:"width,omitempty"`
	Channels   int               `json:"channels,omitempty"`
	Info       map[string]string `json:"info,omitempty"`
	Trainer    *trainerMeta      `json:"trainer,omitempty"`
}

type trainerMeta struct {
	Config   Config `json:"config"`
	Epoch    int    `json:"epoch"`
	Step     int    `json:"step"`
	DataRows int    `json:"data_rows"`
	DataHash uint64 `json:"data_hash"`
}

// Save writes the model into f (Kind "rbm" or "grbm"); info is free-form provenance
// (data spec, command line) kept in the metadata. Tensors are not copied.
func (m *RBM) Save(f *checkpoint.File, info map[string]string) error {
	f.Kind = m.Kind()
	f.Tensors = nil
	nv, nh := m.NumVisible(), m.NumHidden()
	if err := f.SetMeta(fileMeta{Version: fileVersion, Visible: m.Visible.String(), NumVisible: nv, NumHidden: nh,
		Height: m.Height, Width: m.Width, Channels: m.Channels, Info: info}); err != nil {
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
	if meta.Version != fileVersion {
		return nil, nil, fmt.Errorf("rbm: model file version %d, this build reads version %d", meta.Version, fileVersion)
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
	return m, &meta, nil
}

// Save writes the model and the whole training state into f: parameters, velocities,
// persistent chains (and their energies), every random stream, epoch and step, and the
// settings. LoadTrainer continues from it bit for bit.
func (t *Trainer) Save(f *checkpoint.File, info map[string]string) error {
	m := t.Model
	f.Kind = m.Kind()
	f.Tensors = nil
	nv, nh := m.NumVisible(), m.NumHidden()
	meta := fileMeta{Version: fileVersion, Visible: m.Visible.String(), NumVisible: nv, NumHidden: nh,
		Height: m.Height, Width: m.Width, Channels: m.Channels, Info: info,
		Trainer: &trainerMeta{Config: t.cfg, Epoch: t.epoch, Step: t.step, DataRows: t.data.Rows, DataHash: t.dataHash}}
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
	for r := range t.chainV {
		B := t.cfg.BatchSize
		f.AddF32(fmt.Sprintf("train/chain_v/%d", r), []int{B, nv}, t.chainV[r].Data[:B*nv])
		f.AddF32(fmt.Sprintf("train/chain_h/%d", r), []int{B, nh}, t.chainH[r].Data[:B*nh])
		f.AddF64(fmt.Sprintf("train/chain_e/%d", r), []int{B}, t.chainE[r])
	}
	add := func(name string, s *rng.Stream) error {
		b, err := s.MarshalBinary()
		if err != nil {
			return fmt.Errorf("rbm: saving random stream %s: %w", name, err)
		}
		f.AddBytes(name, b)
		return nil
	}
	if err := add("train/rng/shuffle", t.shuffle); err != nil {
		return err
	}
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

// LoadTrainer restores a trainer saved by Trainer.Save, to continue training on the
// same data (checked by size and hash: other data is an error). epochs > 0 sets the
// run's total number of epochs (a LinearDecay schedule stretches with it); 0 keeps the
// saved one. Every other setting comes from the file.
func LoadTrainer(f *checkpoint.File, data *tensor.Mat, epochs int) (*Trainer, error) {
	m, meta, err := load(f)
	if err != nil {
		return nil, err
	}
	if meta.Trainer == nil {
		return nil, fmt.Errorf("rbm: model file has no training state to resume")
	}
	tm := meta.Trainer
	cfg := tm.Config
	if epochs > 0 {
		cfg.Epochs = epochs
	}
	if data.Rows != tm.DataRows || data.Cols != m.NumVisible() || hashMat(data) != tm.DataHash {
		return nil, fmt.Errorf("rbm: resume: the training data (%d×%d) differ from the data the model was trained on (%d×%d)", data.Rows, data.Cols, tm.DataRows, m.NumVisible())
	}
	t, err := NewTrainer(m, data, cfg)
	if err != nil {
		return nil, err
	}
	t.epoch, t.step = tm.Epoch, tm.Step
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
	restore := func(name string, s *rng.Stream) error {
		b, err := f.Bytes(name)
		if err != nil {
			return err
		}
		if err := s.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("rbm: random stream %s: %w", name, err)
		}
		return nil
	}
	if err := restore("train/rng/shuffle", t.shuffle); err != nil {
		return nil, err
	}
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
