package model

import (
	"context"
	"sort"
)

// Demo is one step of `latent demo`: a small run on generated data that
// writes pictures (and models) into a folder.
type Demo struct {
	Order int    // steps run in increasing Order
	Name  string // what it shows
	// Run writes its files into dir and reports through ctx's Progress.
	Run func(ctx context.Context, dir string, seed uint64) error
}

var demos []Demo

// RegisterDemo adds a demo step; families call it from init.
func RegisterDemo(d Demo) {
	mu.Lock()
	defer mu.Unlock()
	demos = append(demos, d)
	sort.SliceStable(demos, func(i, j int) bool { return demos[i].Order < demos[j].Order })
}

// Demos returns the registered demo steps in order.
func Demos() []Demo {
	mu.RLock()
	defer mu.RUnlock()
	return append([]Demo(nil), demos...)
}

// HideDemos unregisters the demo steps whose Order is at least from and returns
// a function that registers them again: a test of `latent demo` runs the
// built-in steps alone (the families test theirs in their own packages).
func HideDemos(from int) (restore func()) {
	mu.Lock()
	defer mu.Unlock()
	saved := demos
	var kept []Demo
	for _, d := range demos {
		if d.Order < from {
			kept = append(kept, d)
		}
	}
	demos = kept
	return func() {
		mu.Lock()
		defer mu.Unlock()
		demos = saved
	}
}
