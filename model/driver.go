package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Streams of the driver, derived from the run's seed: the shuffle and the
// dynamic binarisation. Families use other indices for their own streams.
const (
	ShuffleStream  = 1000
	BinarizeStream = 1001
)

// Epoch is one pass over the training data, as the driver hands it to a
// Trainer: the mini-batches in the order of the run's seeded shuffle, each
// binarised afresh when the run uses dynamic binarisation.
type Epoch struct {
	Index int // 0-based number of this epoch
	Total int // epochs the run trains in all
	// Data is the training set (fixed binarisations already applied).
	Data *dataset.Dataset

	ctx     context.Context
	task    string
	batches *dataset.Batches
	dynamic bool
	bin     rng.Stream
	step    int
	idx     []int
}

// Steps returns the number of mini-batches in the epoch.
func (e *Epoch) Steps() int {
	if e.batches == nil {
		return 1
	}
	return e.batches.PerEpoch()
}

// StepIndex returns the 0-based number of the batch Next returned last.
func (e *Epoch) StepIndex() int { return e.step - 1 }

// Next gathers the next mini-batch into dst (reused when its capacity allows)
// and returns it with the rows' indices in Data, or nil at the end of the
// epoch. With dynamic binarisation every value p is replaced by a fresh
// Bernoulli(p) draw. A full-batch trainer gets all the data once.
func (e *Epoch) Next(dst *tensor.Mat) (*tensor.Mat, []int) {
	if e.step > 0 {
		Step(e.ctx, e.task, e.step, e.Steps())
	}
	var idx []int
	if e.batches == nil {
		if e.step > 0 {
			return nil, nil
		}
		if cap(e.idx) < e.Data.Len() {
			e.idx = make([]int, e.Data.Len())
			for i := range e.idx {
				e.idx[i] = i
			}
		}
		idx = e.idx[:e.Data.Len()]
		e.step++
		return e.Data.X, idx
	}
	if idx = e.nextIndices(); idx == nil {
		return nil, nil
	}
	dst = e.Data.Gather(dst, idx)
	if e.dynamic {
		dataset.BinarizeBatch(dst, &e.bin)
	}
	return dst, idx
}

// NextIndices returns the next mini-batch's row indices in Data without
// gathering the rows, or nil at the end of the epoch, for a trainer that keeps
// the training data in a form of its own (an RBM's sparse copy of binary data).
// It panics when the run binarises dynamically (those batches come from Next)
// or trains on all the data at once: both are bugs in a family.
func (e *Epoch) NextIndices() []int {
	if e.dynamic || e.batches == nil {
		panic("model: NextIndices on an epoch that binarises dynamically or has no mini-batches")
	}
	if e.step > 0 {
		Step(e.ctx, e.task, e.step, e.Steps())
	}
	return e.nextIndices()
}

func (e *Epoch) nextIndices() []int {
	idx := e.batches.Next()
	if idx != nil {
		e.step++
	}
	return idx
}

// Dynamic reports whether batches are binarised afresh.
func (e *Epoch) Dynamic() bool { return e.dynamic }

// Err returns an error naming the epoch and the current step (1-based), for a
// family that finds a NaN inside an epoch. Train does not name the epoch again.
func (e *Epoch) Err(format string, args ...any) error {
	return &stepError{fmt.Sprintf("epoch %d, step %d of %d: %s", e.Index+1, e.step, e.Steps(), fmt.Sprintf(format, args...))}
}

// stepError is an error made by Epoch.Err: it already names the epoch.
type stepError struct{ msg string }

func (e *stepError) Error() string { return e.msg }

// TrainOptions are the driver's settings: what `latent train` parses for every family.
type TrainOptions struct {
	Out      string           // model file, written atomically after every epoch ("" writes none)
	Test     *dataset.Dataset // held-out data for a Monitor after every epoch (optional)
	Pictures string           // folder for a Picturer's pictures ("" none)
	// OnEpoch, when set, is called after every epoch, once the model is saved,
	// monitored and pictured (a training report); its error stops training.
	OnEpoch func(ctx context.Context, e EpochInfo) error
}

// EpochInfo is what OnEpoch learns about a finished epoch.
type EpochInfo struct {
	Model     Model     // the model in training (read it, do not train it)
	Settings  *Settings // the run's settings (EpochsDone counts this epoch)
	Stats     Stats
	Test      []Metric // the Monitor's figures on TrainOptions.Test, if any
	Seconds   float64  // training time of this epoch
	Pictures  []string // the Picturer's files of this epoch
	Final     bool     // the last epoch of the run
	Converged bool
}

// Result is what a training run did.
type Result struct {
	EpochsRun    int
	TrainSeconds float64 // time spent in the epochs (not saving, monitoring or pictures)
	Seconds      float64 // the whole run
	// BestEpochSeconds is the shortest time one epoch of this run took (as TrainSeconds).
	BestEpochSeconds float64
	Last             Stats
	Test             []Metric // the Monitor's figures after the last epoch
	Converged        bool
	Pictures         []string
}

// SecondsPerEpoch is TrainSeconds over the epochs run.
func (r Result) SecondsPerEpoch() float64 { return r.TrainSeconds / float64(max(r.EpochsRun, 1)) }

// Train trains t on d from epoch s.EpochsDone to s.Epochs, saving t and s to
// o.Out after every epoch. It owns the shuffle (stream ShuffleStream of
// s.Seed, a fresh order every epoch that depends only on the seed and the
// epoch, so a resumed run sees the same batches) and dynamic binarisation
// (stream BinarizeStream, child epoch). A non-finite loss, a Checker's error or
// a cancelled ctx stops training with an error naming the epoch; the file then
// holds the last good epoch.
func Train(ctx context.Context, t Trainer, d *dataset.Dataset, s *Settings, o TrainOptions) (Result, error) {
	var r Result
	start := time.Now()
	if d.Len() == 0 {
		return r, fmt.Errorf("model: no training examples in %s", s.Data)
	}
	dynamic := s.Binarize == "dynamic"
	var batches *dataset.Batches
	if bs := t.BatchSize(); bs > 0 {
		batches = dataset.NewBatches(d.Len(), bs, rng.NewStream(s.Seed, ShuffleStream))
	} else if dynamic {
		return r, Flagf("binarize", "%s trains on all the data at once and cannot binarise each mini-batch afresh; use threshold or stochastic", s.Model)
	}
	conv, _ := t.(Converger)
	check, _ := t.(Checker)
	mon, _ := t.(Monitor)
	pic, _ := t.(Picturer)
	rep, _ := t.(Reporter)
	for s.EpochsDone < s.Epochs && !s.Converged {
		if err := ctx.Err(); err != nil {
			return r, fmt.Errorf("stopped before epoch %d: %w", s.EpochsDone+1, err)
		}
		e := &Epoch{Index: s.EpochsDone, Total: s.Epochs, Data: d, ctx: ctx, dynamic: dynamic, batches: batches,
			task: fmt.Sprintf("epoch %d/%d", s.EpochsDone+1, s.Epochs)}
		if batches != nil {
			batches.SetEpoch(s.EpochsDone)
		}
		if dynamic {
			e.bin = *rng.NewStream(s.Seed, BinarizeStream).Child(uint64(s.EpochsDone))
		}
		Step(ctx, e.task, 0, e.Steps())
		t0 := time.Now()
		st, err := t.Epoch(ctx, e)
		secs := time.Since(t0).Seconds()
		if err != nil {
			var se *stepError
			if !errors.As(err, &se) {
				err = fmt.Errorf("epoch %d: %w", e.Index+1, err)
			}
			return r, fmt.Errorf("%w; %s", err, keptNote(o.Out, s.EpochsDone))
		}
		Step(ctx, e.task, e.Steps(), e.Steps())
		if rep != nil {
			if err := rep.Report(ctx, &st); err != nil {
				return r, fmt.Errorf("epoch %d: %w", e.Index+1, err)
			}
		}
		if err := checkStats(st); err != nil {
			return r, fmt.Errorf("epoch %d: %w; %s", e.Index+1, err, keptNote(o.Out, s.EpochsDone))
		}
		if check != nil {
			if err := check.Check(); err != nil {
				return r, fmt.Errorf("epoch %d: %w; %s", e.Index+1, err, keptNote(o.Out, s.EpochsDone))
			}
		}
		if r.EpochsRun == 0 || secs < r.BestEpochSeconds {
			r.BestEpochSeconds = secs
		}
		r.EpochsRun++
		r.TrainSeconds += secs
		r.Last = st
		s.EpochsDone++
		if conv != nil && conv.Converged() {
			s.Converged, r.Converged = true, true
		}
		if o.Out != "" {
			if err := save(t, s, o.Out); err != nil {
				return r, err
			}
		}
		line := epochLine(s, st, secs)
		final := s.EpochsDone >= s.Epochs || s.Converged
		if mon != nil && o.Test != nil {
			m, err := mon.Monitor(ctx, o.Test)
			if err != nil {
				return r, fmt.Errorf("epoch %d: --test: %w", e.Index+1, err)
			}
			r.Test = m
			line += "; test " + FormatMetrics(m)
		}
		Logf(ctx, "%s", line)
		if pic != nil && o.Pictures != "" {
			p, err := pic.Pictures(ctx, o.Pictures, d, final, s.Seed)
			if err != nil {
				return r, fmt.Errorf("--pictures: %w", err)
			}
			r.Pictures = p
		}
		if o.OnEpoch != nil {
			ei := EpochInfo{Model: t, Settings: s, Stats: st, Test: r.Test, Seconds: secs, Pictures: r.Pictures, Final: final, Converged: s.Converged}
			if err := o.OnEpoch(ctx, ei); err != nil {
				return r, fmt.Errorf("epoch %d: %w", e.Index+1, err)
			}
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// Save writes t and its settings to path atomically.
func save(t Model, s *Settings, path string) error {
	f, err := File(t, s)
	if err != nil {
		return err
	}
	return checkpoint.Save(path, f)
}

// File returns the model file of t with settings s.
func File(t Model, s *Settings) (*checkpoint.File, error) {
	var f checkpoint.File
	if err := t.Save(&f); err != nil {
		return nil, err
	}
	if f.Kind == "" {
		f.Kind = t.Kind()
	}
	if s != nil {
		if err := s.Write(&f); err != nil {
			return nil, err
		}
	}
	return &f, nil
}

func keptNote(out string, done int) string {
	if out == "" {
		return "nothing was saved"
	}
	if done == 0 {
		return out + " was not written"
	}
	return fmt.Sprintf("%s keeps the model after epoch %d", out, done)
}

// checkStats returns an error when the loss or a float metric is NaN or infinite.
func checkStats(st Stats) error {
	if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
		return fmt.Errorf("the %s is %v: training diverged (lower the learning rate)", lossName(st), st.Loss)
	}
	for _, m := range st.Metrics {
		if v, ok := m.Float(); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			return fmt.Errorf("%s is %v: training diverged (lower the learning rate)", m.Name, v)
		}
	}
	return nil
}

func lossName(st Stats) string {
	if st.LossName != "" {
		return st.LossName
	}
	return "loss"
}

func epochLine(s *Settings, st Stats, secs float64) string {
	line := fmt.Sprintf("epoch %d/%d: %s %.4f", s.EpochsDone, s.Epochs, lossName(st), st.Loss)
	if len(st.Metrics) > 0 {
		line += ", " + FormatMetrics(st.Metrics)
	}
	line += fmt.Sprintf("  %.2fs", secs)
	if s.Converged {
		line += " (converged)"
	}
	return line
}

// FormatMetrics writes metrics as "name value, name value". Values that are not
// numbers, strings, booleans or short vectors (a trace, a table) are left out:
// they are for JSON only.
func FormatMetrics(ms []Metric) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		switch v := m.Value.(type) {
		case float64:
			parts = append(parts, fmt.Sprintf("%s %.4g", m.Name, v))
		case float32, int, int64, uint64, string, bool:
			parts = append(parts, fmt.Sprintf("%s %v", m.Name, v))
		case []float64: // a short vector (swap rates, class fractions) is shown
			if len(v) <= 16 {
				f := make([]string, len(v))
				for i, x := range v {
					f[i] = fmt.Sprintf("%.3g", x)
				}
				parts = append(parts, fmt.Sprintf("%s [%s]", m.Name, strings.Join(f, " ")))
			}
		}
	}
	return strings.Join(parts, ", ")
}
