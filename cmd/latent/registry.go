package main

import (
	"io"
	"sort"
)

// Env is what every command gets: where to print, and where pre-downloaded data lives.
type Env struct {
	Stdout, Stderr io.Writer
	DataDir        string // --data-dir or LATENT_DATA; "" means the download cache
	Quiet          bool   // --quiet: no progress bars or lines
	CPUProfile     string // --cpuprofile: write a CPU profile of the command here
}

// demoStep is one part of `latent demo`; steps run in order of Order.
type demoStep struct {
	Order int
	Name  string
	Run   func(env *Env, outDir string, seed uint64) error
}

var demoSteps []demoStep

func registerDemo(s demoStep) {
	demoSteps = append(demoSteps, s)
	sort.SliceStable(demoSteps, func(i, j int) bool { return demoSteps[i].Order < demoSteps[j].Order })
}
