package model

import (
	"fmt"
	"slices"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
)

// DriverFlags are the flags of a training command that belong to the driver, not
// to a family: they are not recorded among a run's flags and may change when a
// run is resumed.
var DriverFlags = []string{"data", "test", "epochs", "out", "resume", "json", "pictures", "force", "report"}

// CheckData checks d, named spec and prepared with binarize (a --binarize value),
// against what the family can model. Errors name the data or the flag.
func (f *Family) CheckData(d *dataset.Dataset, spec, binarize string) error {
	n := f.Needs
	if n.Binary && binarize == "dynamic" {
		if err := dataset.CheckUnit(d); err != nil {
			return fmt.Errorf("--binarize dynamic: %w", err)
		}
	} else if n.Binary && !d.Binary && !dataset.IsBinary(d.X) {
		return fmt.Errorf("--data %s: %s models binary data and these values are not all 0 or 1; add --binarize threshold, stochastic or dynamic", spec, f.Name)
	}
	if n.Labels && d.Labels == nil {
		return fmt.Errorf("--data %s: %s needs labels, and this data set has none", spec, f.Name)
	}
	if n.Image && !(d.Height > 0 && d.Width > 0 && d.Height*d.Width*max(d.Channels, 1) == d.Dim()) {
		return fmt.Errorf("--data %s: %s needs image data; rows have %d values and no image shape", spec, f.Name, d.Dim())
	}
	return nil
}

// RunOptions describe a new training run: the data's spec and binarisation, the
// seed, the epochs asked for, and the command line's flags (every flag's value,
// and those given), which the model file records.
type RunOptions struct {
	Data, Binarize string
	Seed           uint64
	Epochs         int
	Flags, Given   map[string]string
}

// NewRun makes a new model of family f on d with config cfg: it validates cfg,
// checks the data and the memory the family says it needs, and records the
// run's settings. A *FlagError names the flag at fault.
func NewRun(f *Family, cfg any, d *dataset.Dataset, o RunOptions) (Trainer, *Settings, error) {
	if err := Validate(cfg); err != nil {
		return nil, nil, err
	}
	if err := f.CheckData(d, o.Data, o.Binarize); err != nil {
		return nil, nil, err
	}
	if f.Memory != nil {
		if b, fl := f.Memory(cfg, d.Len(), d.Dim()); b > 0 {
			if err := CheckMemory(fl, b); err != nil {
				return nil, nil, err
			}
		}
	}
	s := NewSettings(f.Name, d, o.Data, o.Binarize, o.Seed, o.Epochs)
	s.Flags, s.Given = copyFlags(o.Flags), copyFlags(o.Given)
	t, err := f.New(cfg, d, s)
	if err != nil {
		if IsFlagError(err) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("--data %s: %w", o.Data, err)
	}
	return t, s, nil
}

// copyFlags returns flags without the driver's.
func copyFlags(flags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range flags {
		out[k] = v
	}
	for _, k := range DriverFlags {
		delete(out, k)
	}
	return out
}

// Resume reads the model file path to train it further as a model of family f:
// it checks the file's family and that the flags given on this command line
// (name → value) agree with those it was trained with, except the driver's
// and cfg's resume:"free" ones. Errors about the command line are *FlagErrors.
func Resume(path string, f *Family, cfg any, given map[string]string) (Trainer, *Settings, error) {
	file, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if file.Kind != f.Name {
		return nil, nil, Flagf("resume", "%s holds a %s model, not %s", path, file.Kind, f.Name)
	}
	m, s, err := Load(file)
	if err != nil {
		return nil, nil, fmt.Errorf("--resume %s: %w", path, err)
	}
	if s == nil {
		return nil, nil, fmt.Errorf("--resume %s: the file records no training settings (written by an older latent); start a new run", path)
	}
	free := FreeFlags(cfg)
	for _, k := range DriverFlags {
		free[k] = true
	}
	if err := s.CheckResume(path, given, free); err != nil {
		return nil, nil, err
	}
	t, ok := m.(Trainer)
	if !ok {
		return nil, nil, fmt.Errorf("--resume %s: a %s model cannot be trained further", path, f.Name)
	}
	if err := retune(path, t, s, cfg, given, free); err != nil {
		return nil, nil, err
	}
	return t, s, nil
}

// Retuner is a Trainer whose config has resume:"free" fields (the learning rate,
// say): settings a resumed run may change on purpose, as one lowers the rate for
// the last epochs of a long run.
type Retuner interface {
	// Retune takes the fields named (by flag) in changed from cfg, parsed from
	// the resumed command line, for the rest of the run.
	Retune(cfg any, changed []string) error
}

// retune applies the family's free flags given on a resumed command line that
// differ from the file's, and records each change in s.Flags (the values in
// force) and s.Retuned; s.Given keeps the first command line.
func retune(path string, t Trainer, s *Settings, cfg any, given map[string]string, free map[string]bool) error {
	var changed []string
	for _, k := range sortedKeys(given) {
		if free[k] && !slices.Contains(DriverFlags, k) && s.Flags[k] != given[k] {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	r, ok := t.(Retuner)
	if !ok {
		return Flagf(changed[0], "%s: a %s model keeps its --%s when resumed", path, s.Model, changed[0])
	}
	if err := r.Retune(cfg, changed); err != nil {
		return err
	}
	for _, k := range changed {
		s.Retuned = append(s.Retuned, fmt.Sprintf("--%s %s → %s after epoch %d", k, s.Flags[k], given[k], s.EpochsDone))
		s.Flags[k] = given[k]
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ContinueOn prepares s, read from file by Resume, for more training on d (named
// spec), up to epochs in all when epochs > 0. It reports whether d is other data
// than the run's so far (then s records it), and refuses data of another width and
// a run with nothing left to do.
func (s *Settings) ContinueOn(file, spec string, d *dataset.Dataset, epochs int) (switched bool, err error) {
	if d.Dim() != s.Dim {
		return false, fmt.Errorf("--data %s: rows have %d values; %s was trained on %s", spec, d.Dim(), file, s.Describe())
	}
	if spec != s.Data {
		s.Data, s.Rows, switched = spec, d.Len(), true
	}
	if epochs > 0 {
		s.Epochs = epochs
	}
	if s.EpochsDone >= s.Epochs || s.Converged {
		why := fmt.Sprintf("it has trained %d of %d epochs; give a larger --epochs to go on", s.EpochsDone, s.Epochs)
		if s.Converged {
			why = fmt.Sprintf("it converged after %d epochs", s.EpochsDone)
		}
		return switched, Flagf("resume", "%s: nothing to do: %s", file, why)
	}
	return switched, nil
}

// Describe names the training data of s with its shape and binarisation, as in
// "mnist (60000×784, --binarize dynamic)".
func (s *Settings) Describe() string {
	b := ""
	if s.Binarize != "" {
		b = ", --binarize " + s.Binarize
	}
	return fmt.Sprintf("%s (%d×%d%s)", s.Data, s.Rows, s.Dim, b)
}
