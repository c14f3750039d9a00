package helmholtz

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
)

// Kind is the checkpoint kind of a Helmholtz machine.
const Kind = "helmholtz"

type meta struct {
	Sizes []int       `json:"sizes"`
	Train TrainConfig `json:"train"`
	Epoch int         `json:"epoch"`
	Step  int         `json:"step"`
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

// Save writes the machine and the full training state (settings, epoch, step, Adam
// moments, random stream) into f.
func (t *Trainer) Save(f *checkpoint.File) error {
	f.Kind = Kind
	if err := f.SetMeta(meta{Sizes: t.M.Sizes, Train: t.Cfg, Epoch: t.Epoch, Step: t.Step}); err != nil {
		return err
	}
	t.M.addTensors(f, "")
	names := paramNames(t.M.Layers())
	for i := range t.mom {
		f.AddF32("adam.m."+names[i], []int{len(t.mom[i])}, t.mom[i])
		f.AddF32("adam.v."+names[i], []int{len(t.vel[i])}, t.vel[i])
	}
	st, err := t.S.MarshalBinary()
	if err != nil {
		return err
	}
	f.AddBytes("rng", st)
	return nil
}

// LoadTrainer restores a trainer saved by Trainer.Save. The settings are those
// saved; the caller may change Cfg.LR or Cfg.Batch afterwards (the run is then no
// longer a bit-identical continuation).
func LoadTrainer(f *checkpoint.File) (*Trainer, error) {
	m, err := Load(f)
	if err != nil {
		return nil, err
	}
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	t, err := NewTrainer(m, mt.Train)
	if err != nil {
		return nil, fmt.Errorf("helmholtz: model file has no training state: %w", err)
	}
	t.Epoch, t.Step = mt.Epoch, mt.Step
	names := paramNames(m.Layers())
	for i := range t.mom {
		if t.mom[i], err = f.F32("adam.m."+names[i], len(t.mom[i])); err != nil {
			return nil, err
		}
		if t.vel[i], err = f.F32("adam.v."+names[i], len(t.vel[i])); err != nil {
			return nil, err
		}
		t.mom[i] = append([]float32(nil), t.mom[i]...)
		t.vel[i] = append([]float32(nil), t.vel[i]...)
	}
	st, err := f.Bytes("rng")
	if err != nil {
		return nil, err
	}
	if err := t.S.UnmarshalBinary(st); err != nil {
		return nil, err
	}
	return t, nil
}
