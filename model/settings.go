package model

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
)

// settingsBlob is the name of the byte blob that holds the Settings in a model file.
const settingsBlob = "latent.settings"

// Settings is what a model file records about the run that made it, beside the
// family's own state: the data, its binarisation, the seed and every flag. It
// holds nothing that depends on the clock, so identical runs write identical
// files.
type Settings struct {
	Model    string `json:"model"`
	Data     string `json:"data"`
	Binarize string `json:"binarize,omitempty"` // "", threshold, stochastic or dynamic
	// Test is the held-out data scored after every epoch (train --test), kept
	// so that a resumed run goes on scoring it.
	Test string `json:"test,omitempty"`
	Seed uint64 `json:"seed"`
	// Epochs is the total asked for; EpochsDone those trained so far.
	Epochs     int `json:"epochs"`
	EpochsDone int `json:"epochs_done"`
	// Rows and Dim are the shape of the training data.
	Rows int `json:"rows"`
	Dim  int `json:"dim"`
	// The image shape of one row (zero when the rows are not images).
	Height   int `json:"height,omitempty"`
	Width    int `json:"width,omitempty"`
	Channels int `json:"channels,omitempty"`
	// Classes and ClassNames describe the labels of the training data.
	Classes    int      `json:"classes,omitempty"`
	ClassNames []string `json:"class_names,omitempty"`
	// Flags holds the effective value of every training flag (defaults
	// included) in its own syntax; Given those set on the command line.
	Flags map[string]string `json:"flags"`
	Given map[string]string `json:"flags_given"`
	// Retuned lists the free settings changed when the run was resumed, in
	// order, as "--lr 0.001 → 0.0001 after epoch 1000".
	Retuned []string `json:"retuned,omitempty"`
	// Converged is set when the trainer finished before Epochs (EM).
	Converged bool `json:"converged,omitempty"`
}

// NewSettings returns the settings of a run on d.
func NewSettings(model string, d *dataset.Dataset, spec, binarize string, seed uint64, epochs int) *Settings {
	s := &Settings{Model: model, Data: spec, Binarize: binarize, Seed: seed, Epochs: epochs,
		Rows: d.Len(), Dim: d.Dim(), Classes: d.NumClasses, ClassNames: d.ClassNames}
	if d.Height > 0 && d.Width > 0 && d.Height*d.Width*max(d.Channels, 1) == d.Dim() {
		s.Height, s.Width, s.Channels = d.Height, d.Width, max(d.Channels, 1)
	}
	return s
}

// Image returns the image shape of the training data, and whether it had one.
func (s *Settings) Image() (h, w, c int, ok bool) {
	if s == nil || s.Height == 0 {
		return 0, 0, 0, false
	}
	return s.Height, s.Width, s.Channels, true
}

// EvalBinarize is how eval prepares data by default: as in training, with
// dynamic binarisation scored on one fixed stochastic draw.
func (s *Settings) EvalBinarize() string {
	if s == nil {
		return ""
	}
	if s.Binarize == "dynamic" {
		return "stochastic"
	}
	return s.Binarize
}

// Write stores s in f.
func (s *Settings) Write(f *checkpoint.File) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("model: settings: %w", err)
	}
	f.AddBytes(settingsBlob, b)
	return nil
}

// readSettings returns the settings stored in f, or nil for files written
// before settings were recorded.
func readSettings(f *checkpoint.File) (*Settings, error) {
	has := false
	for _, t := range f.Tensors {
		has = has || t.Name == settingsBlob
	}
	if !has {
		return nil, nil
	}
	b, err := f.Bytes(settingsBlob)
	if err != nil {
		return nil, err
	}
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("model: the file's settings are unreadable: %w", err)
	}
	return &s, nil
}

// CheckResume returns a FlagError naming the first flag in given (set on the
// command line of a resumed run) whose value differs from the one the file was
// trained with. A resumed run keeps the file's settings so that it continues
// bit for bit; a changed flag would otherwise be ignored without a word. Flags
// in free (the number of epochs, the output file, ...) may change.
func (s *Settings) CheckResume(file string, given map[string]string, free map[string]bool) error {
	names := make([]string, 0, len(given))
	for n := range given {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if free[n] {
			continue
		}
		was, ok := s.Flags[n]
		if !ok || was == given[n] {
			continue
		}
		desc := fmt.Sprintf("with --%s=%s", n, was)
		if was == "" {
			desc = "without --" + n
		}
		return Flagf(n, "%s was trained %s, not --%s=%s, and a resumed run keeps the file's settings (start a new run to change them); its flags: %s",
			file, desc, n, given[n], s.Summary())
	}
	return nil
}

// Summary lists the flags set when the model was trained, data first.
func (s *Settings) Summary() string {
	parts := []string{"--data " + s.Data}
	if s.Binarize != "" {
		parts = append(parts, "--binarize "+s.Binarize)
	}
	var names []string
	for n := range s.Given {
		if n != "data" && n != "binarize" && n != "out" && n != "resume" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		parts = append(parts, "--"+n+" "+s.Given[n])
	}
	return strings.Join(parts, " ")
}
