package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/latent-ml/latent/internal/atomicfile"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/viz"
)

// SampleSeed seeds the sample grid a Recorder draws for a model without
// pictures of its own: the same draw every epoch, so grids are comparable.
const SampleSeed = 20260101

// Recorder writes a training report into a folder, rewritten after every
// epoch: RunFile, the page and StatusFile, each replaced atomically (in that
// order), so that a reader sees the old report or the new one, never half of
// one. Its Epoch method is a model.TrainOptions.OnEpoch.
type Recorder struct {
	Dir string
	run Run
}

// NewRecorder returns a Recorder writing into dir, which it makes. A report
// already in dir is continued (a resumed run): its epochs after
// s.EpochsDone are dropped.
func NewRecorder(dir string, s *model.Settings) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Join(dir, EpochsDir), 0o755); err != nil {
		return nil, fmt.Errorf("--report: %w", err)
	}
	r := &Recorder{Dir: dir, run: Run{Settings: s}}
	if old, err := ReadRun(dir); err == nil && old.Settings != nil && s != nil &&
		old.Settings.Model == s.Model && old.Settings.Seed == s.Seed {
		for _, e := range old.Epochs {
			if e.Epoch <= s.EpochsDone {
				r.run.Epochs = append(r.run.Epochs, e)
			}
		}
	}
	return r, r.write()
}

// Run returns what the report holds so far.
func (r *Recorder) Run() *Run { return &r.run }

// Epoch records a finished epoch: its figures, a copy of its pictures under
// epochs/NNNN/ (or, for a model with none, a grid of samples when the data
// are images), and rewrites the report.
func (r *Recorder) Epoch(ctx context.Context, e model.EpochInfo) error {
	n := e.Settings.EpochsDone
	rec := EpochRecord{Epoch: n, LossName: e.Stats.LossName, Loss: e.Stats.Loss, Seconds: e.Seconds,
		Metrics: figures(e.Stats.Metrics, false), Test: figures(e.Test, false), Converged: e.Converged}
	if rec.LossName == "" {
		rec.LossName = "loss"
	}
	r.run.Settings = e.Settings
	sub := filepath.Join(EpochsDir, fmt.Sprintf("%04d", n))
	if err := os.MkdirAll(filepath.Join(r.Dir, sub), 0o755); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	for _, p := range e.Pictures {
		ext := strings.ToLower(filepath.Ext(p))
		if ext != ".png" && ext != ".svg" && ext != ".jpg" && ext != ".gif" {
			continue
		}
		rel := filepath.Join(sub, filepath.Base(p))
		if err := copyFile(filepath.Join(r.Dir, rel), p); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		rec.Pictures = append(rec.Pictures, filepath.ToSlash(rel))
	}
	if !hasSamples(rec.Pictures) {
		if sm, ok := e.Model.(model.Sampler); ok {
			if h, w, c, ok := e.Settings.Image(); ok {
				d, err := sm.Sample(ctx, model.SampleOptions{N: 64, Seed: SampleSeed, Label: -1})
				if err != nil {
					return fmt.Errorf("--report: samples: %w", err)
				}
				rel := filepath.ToSlash(filepath.Join(sub, "samples.png"))
				if err := (viz.Grid{Height: h, Width: w, Channels: c, Cols: 8}).Save(filepath.Join(r.Dir, rel), d.X); err != nil {
					return fmt.Errorf("--report: %w", err)
				}
				rec.Pictures = append(rec.Pictures, rel)
			}
		}
	}
	for len(r.run.Epochs) > 0 && r.run.Epochs[len(r.run.Epochs)-1].Epoch >= n {
		r.run.Epochs = r.run.Epochs[:len(r.run.Epochs)-1]
	}
	r.run.Epochs = append(r.run.Epochs, rec)
	r.run.Done = false
	return r.write()
}

// Finish records the run's end and its final evaluation (the last epoch's
// held-out figures, the time, the convergence, and any further figures).
func (r *Recorder) Finish(res model.Result, extra ...model.Metric) error {
	var fin []model.Metric
	fin = append(fin, model.Metric{Name: "epochs run", Value: res.EpochsRun},
		model.Metric{Name: "training seconds", Value: res.TrainSeconds},
		model.Metric{Name: "seconds per epoch", Value: res.SecondsPerEpoch()},
		model.Metric{Name: "final " + lossOr(res.Last.LossName), Value: res.Last.Loss})
	for _, m := range res.Last.Metrics {
		fin = append(fin, model.Metric{Name: "final " + m.Name, Value: m.Value})
	}
	for _, m := range res.Test {
		fin = append(fin, model.Metric{Name: "test " + m.Name, Value: m.Value})
	}
	if res.Converged {
		fin = append(fin, model.Metric{Name: "converged", Value: true})
	}
	fin = append(fin, extra...)
	r.run.Final = figures(fin, true)
	r.run.Done = true
	return r.write()
}

func lossOr(s string) string {
	if s == "" {
		return "loss"
	}
	return s
}

// write replaces RunFile, the page and StatusFile, in that order.
func (r *Recorder) write() error {
	b, err := json.MarshalIndent(&r.run, "", " ")
	if err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	if err := writeFile(filepath.Join(r.Dir, RunFile), b); err != nil {
		return err
	}
	page, err := Page(&r.run, r.Dir)
	if err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	if err := writeFile(filepath.Join(r.Dir, PageFile), page); err != nil {
		return err
	}
	st, _ := json.Marshal(r.run.Status())
	return writeFile(filepath.Join(r.Dir, StatusFile), st)
}

// Status is StatusFile's content: the page reloads when Etag changes.
type Status struct {
	Epoch int    `json:"epoch"`
	Total int    `json:"total"`
	Done  bool   `json:"done"`
	Etag  string `json:"etag"`
}

// Status returns the run's Status.
func (r *Run) Status() Status {
	s := Status{Done: r.Done}
	if r.Settings != nil {
		s.Total = r.Settings.Epochs
	}
	if n := len(r.Epochs); n > 0 {
		s.Epoch = r.Epochs[n-1].Epoch
	}
	s.Etag = fmt.Sprintf("e%d-n%d-d%v", s.Epoch, len(r.Epochs), r.Done)
	return s
}

func writeFile(path string, b []byte) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	return nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Write(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// hasSamples reports whether one of the pictures is a sample grid.
func hasSamples(pics []string) bool {
	for _, p := range pics {
		if strings.Contains(strings.ToLower(filepath.Base(p)), "sample") {
			return true
		}
	}
	return false
}
