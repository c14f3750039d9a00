package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/latent-ml/latent/internal/atomicfile"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// reporter shows a model.Progress on stderr: a bar with rate and ETA when
// stderr is a terminal (github.com/schollz/progressbar), plain lines at most
// every plainEvery otherwise (CI logs, pipes), and with --quiet nothing but
// warnings.
type reporter struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	quiet   bool
	bar     *progressbar.ProgressBar
	task    string
	lastOut time.Time
	started time.Time
}

// isWarning reports whether a log line is a warning, which --quiet still shows.
func isWarning(line string) bool { return strings.Contains(line, "warning") }

// plainEvery is the least time between two plain progress lines.
const plainEvery = 10 * time.Second

func newProgress(env *Env) *reporter {
	r := &reporter{w: env.Stderr, quiet: env.Quiet}
	if f, ok := env.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty = true
	}
	return r
}

func (r *reporter) model() model.Progress {
	return model.Progress{Step: r.step, Log: r.log}
}

func (r *reporter) step(task string, done, total int) {
	if r.quiet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if task != r.task {
		r.endBar()
		r.task, r.started, r.lastOut = task, now, now
		if r.tty && total > 1 {
			r.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(r.w),
				progressbar.OptionSetDescription(task), progressbar.OptionShowCount(),
				progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"),
				progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetWidth(30))
		}
	}
	if r.bar != nil {
		r.bar.Set(done)
		if done >= total {
			r.endBar()
		}
		return
	}
	if !r.tty && done > 0 && done < total && now.Sub(r.lastOut) >= plainEvery {
		r.lastOut = now
		el := now.Sub(r.started).Seconds()
		eta := el / float64(done) * float64(total-done)
		fmt.Fprintf(r.w, "%s: %d/%d (%.0f%%), %.0fs, about %.0fs left\n", task, done, total, 100*float64(done)/float64(total), el, eta)
	}
}

func (r *reporter) endBar() {
	if r.bar != nil {
		r.bar.Finish()
		r.bar = nil
	}
}

func (r *reporter) log(line string) {
	if r.quiet && !isWarning(line) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endBar()
	r.task = ""
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	io.WriteString(r.w, line)
}

func (r *reporter) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endBar()
}

// writeFileAtomic writes b to path atomically.
func writeFileAtomic(path string, b []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// floatCol returns v as a one-column matrix.
func floatCol(v []float64) *tensor.Mat {
	m := tensor.New(len(v), 1)
	for i, x := range v {
		m.Data[i] = float32(x)
	}
	return m
}
