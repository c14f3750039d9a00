package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/latent-ml/latent/model"
)

// File names inside a report folder.
const (
	PageFile   = "index.html"  // the page
	RunFile    = "run.json"    // the run's settings and every epoch's figures
	StatusFile = "status.json" // a few bytes the page polls to refresh itself
	EpochsDir  = "epochs"      // epochs/0001/… : each epoch's pictures
)

// Run is what a report folder records: the settings, every epoch's figures
// and, once training has ended, the final evaluation. It is RunFile's JSON.
type Run struct {
	Settings *model.Settings `json:"settings"`
	Epochs   []EpochRecord   `json:"epochs"`
	Final    []Figure        `json:"final,omitempty"`
	Done     bool            `json:"done"`
}

// EpochRecord is one epoch's figures.
type EpochRecord struct {
	Epoch     int      `json:"epoch"` // 1-based
	LossName  string   `json:"loss_name"`
	Loss      float64  `json:"loss"`
	Metrics   []Figure `json:"metrics,omitempty"` // training figures
	Test      []Figure `json:"test,omitempty"`    // held-out figures (train --test)
	Seconds   float64  `json:"seconds"`
	Pictures  []string `json:"pictures,omitempty"` // paths relative to the report folder
	Converged bool     `json:"converged,omitempty"`
}

// Figure is a named number (or, in Final, a short text).
type Figure struct {
	Name  string   `json:"name"`
	Value *float64 `json:"value"` // nil: not a finite number
	Text  string   `json:"text,omitempty"`
}

// figures keeps the numeric metrics of ms (and, with text, the others as text).
func figures(ms []model.Metric, text bool) []Figure {
	var out []Figure
	for _, m := range ms {
		if v, ok := m.Float(); ok {
			f := Figure{Name: m.Name}
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				f.Value = &v
			}
			out = append(out, f)
			continue
		}
		if text {
			switch v := m.Value.(type) {
			case string, bool, int64, uint64:
				out = append(out, Figure{Name: m.Name, Text: fmt.Sprint(v)})
			}
		}
	}
	return out
}

// ReadRun reads the RunFile of the report folder dir. Its error says plainly
// when dir is missing or is not a report folder.
func ReadRun(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such folder", dir)
		}
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a folder", dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, RunFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: not a training report (it has no %s; latent train --report %s writes one)", dir, RunFile, dir)
	}
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: unreadable %s: %w", dir, RunFile, err)
	}
	return &r, nil
}

// Series returns, for every curve of the run, its (epoch, value) points, keyed
// by the curve's name ("train loss", "train recon", "test elbo", "seconds per
// epoch"), and the names in the order they first appear.
func (r *Run) Series() (map[string][2][]float64, []string) {
	out := map[string][2][]float64{}
	var order []string
	add := func(name string, x float64, v *float64) {
		if _, ok := out[name]; !ok {
			order = append(order, name)
		}
		y := math.NaN()
		if v != nil {
			y = *v
		}
		s := out[name]
		s[0], s[1] = append(s[0], x), append(s[1], y)
		out[name] = s
	}
	for _, e := range r.Epochs {
		x := float64(e.Epoch)
		loss := e.Loss
		name := e.LossName
		if name == "" {
			name = "loss"
		}
		add("train "+name, x, &loss)
		for _, m := range e.Metrics {
			add("train "+m.Name, x, m.Value)
		}
		for _, m := range e.Test {
			add("test "+m.Name, x, m.Value)
		}
		secs := e.Seconds
		add("seconds per epoch", x, &secs)
	}
	return out, order
}
