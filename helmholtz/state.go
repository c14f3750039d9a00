package helmholtz

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
)

// Kind is the checkpoint kind of a Helmholtz machine.
const Kind = "helmholtz"

type meta struct {
	Sizes []int        `json:"sizes"`
	Train *TrainConfig `json:"train,omitempty"`
}

// Save writes the machine into f (Kind "helmholtz"): its layer sizes and
// parameters. Tensor data is not copied.
func (m *Machine) Save(f *checkpoint.File) error {
	f.Kind = Kind
	if err := f.SetMeta(meta{Sizes: m.Sizes}); err != nil {
		return err
	}
	m.addTensors(f, "")
	return nil
}

func (m *Machine) addTensors(f *checkpoint.File, prefix string) {
	names := paramNames(m.Layers())
	for i, p := range m.params() {
		f.AddF32(prefix+names[i], []int{len(p)}, p)
	}
}

// Load reads a machine written by Save or Trainer.Save.
func Load(f *checkpoint.File) (*Machine, error) {
	if f.Kind != Kind {
		return nil, fmt.Errorf("helmholtz: model file kind is %q, want %q", f.Kind, Kind)
	}
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if len(mt.Sizes) < 2 {
		return nil, fmt.Errorf("helmholtz: model file has layer sizes %v", mt.Sizes)
	}
	for _, n := range mt.Sizes {
		if n < 1 || n > 1<<24 {
			return nil, fmt.Errorf("helmholtz: model file has layer sizes %v", mt.Sizes)
		}
	}
	m := New(mt.Sizes, rng.New(0))
	if err := m.readTensors(f, ""); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Machine) readTensors(f *checkpoint.File, prefix string) error {
	names := paramNames(m.Layers())
	for i, p := range m.params() {
		v, err := f.F32(prefix+names[i], len(p))
		if err != nil {
			return err
		}
		copy(p, v)
	}
	return nil
}

// Save implements model.Model: the machine and the whole training state
// (settings, Adam's step count and moments, the random stream, the bound of
// every epoch) into f.
func (t *Trainer) Save(f *checkpoint.File) error {
	f.Kind = Kind
	cfg := t.Cfg
	if err := f.SetMeta(meta{Sizes: t.M.Sizes, Train: &cfg}); err != nil {
		return err
	}
	t.M.addTensors(f, "")
	t.Opt.Save(f, "adam")
	if err := f.AddState("rng", t.S); err != nil {
		return err
	}
	f.AddF64("train.bounds", []int{len(t.Bounds)}, t.Bounds)
	return nil
}

// LoadTrainer restores a trainer saved by Trainer.Save. A file written by
// Machine.Save, or by a latent before the training state took this form, gives
// a trainer with the default settings and no optimiser state: it evaluates and
// samples, and training it starts Adam afresh.
func LoadTrainer(f *checkpoint.File) (*Trainer, error) {
	m, err := Load(f)
	if err != nil {
		return nil, err
	}
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	cfg := WakeSleep()
	if mt.Train != nil {
		cfg = *mt.Train
	}
	t, err := NewTrainer(m, cfg)
	if err != nil {
		return nil, fmt.Errorf("helmholtz: the file's training settings: %w", err)
	}
	if !has(f, "adam.t") {
		return t, nil
	}
	if err := t.Opt.Load(f, "adam", t.params); err != nil {
		return nil, err
	}
	if err := f.State("rng", t.S); err != nil {
		return nil, err
	}
	for _, tt := range f.Tensors {
		if tt.Name == "train.bounds" && tt.F64 != nil {
			t.Bounds = append([]float64(nil), tt.F64...)
		}
	}
	return t, nil
}

func has(f *checkpoint.File, name string) bool {
	for _, t := range f.Tensors {
		if t.Name == name {
			return true
		}
	}
	return false
}
