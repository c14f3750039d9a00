package model

import (
	"os"

	"github.com/latent-ml/latent/checkpoint"
)

// Inspection is what a model file holds, as `latent inspect` shows it.
type Inspection struct {
	Path     string
	Size     int64 // bytes
	File     *checkpoint.File
	Settings *Settings // nil for a file that records none
	// Summary is the family's Describer output, or one metric "unreadable"
	// with the reason its family could not read the file.
	Summary []Metric
	Stats   []checkpoint.TensorStats
}

// Inspect reads the model file path. A file its family cannot read (or of a
// family this program does not know) is still summarised.
func Inspect(path string) (*Inspection, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	in := &Inspection{Path: path, Size: st.Size(), File: f}
	if Lookup(f.Kind) != nil {
		m, s, err := Load(f)
		if err != nil {
			in.Summary = []Metric{{Name: "unreadable", Value: err.Error()}}
		} else {
			in.Settings = s
			if d, ok := m.(Describer); ok {
				in.Summary = d.Describe()
			}
		}
	}
	in.Stats = make([]checkpoint.TensorStats, len(f.Tensors))
	for i := range f.Tensors {
		in.Stats[i] = f.Tensors[i].Stats()
	}
	return in, nil
}
