package model

import (
	"context"
	"fmt"
)

// Progress receives what long work reports. Either callback may be nil.
type Progress struct {
	// Step reports that done of total units of task are finished (total 0:
	// unknown). A task starts with done = 0 and ends with done = total.
	Step func(task string, done, total int)
	// Log receives a finished line (an epoch's summary).
	Log func(line string)
}

type progressKey struct{}

// WithProgress returns ctx carrying p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

func progressOf(ctx context.Context) Progress {
	if ctx == nil {
		return Progress{}
	}
	p, _ := ctx.Value(progressKey{}).(Progress)
	return p
}

// Step reports progress of task on ctx's Progress, if any.
func Step(ctx context.Context, task string, done, total int) {
	if p := progressOf(ctx); p.Step != nil {
		p.Step(task, done, total)
	}
}

// Logf sends a line to ctx's Progress, if any.
func Logf(ctx context.Context, format string, args ...any) {
	if p := progressOf(ctx); p.Log != nil {
		p.Log(fmt.Sprintf(format, args...))
	}
}
