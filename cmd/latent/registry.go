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
}

// modelCmd is one model family's part of the CLI. Each family registers itself from
// its own file (rbm.go, vae.go, mixture.go, ...) in an init function.
type modelCmd struct {
	Names []string // MODEL names for `latent train MODEL` and checkpoint kinds it reads
	Usage string   // one line per MODEL for help text
	// Train parses the flags after `latent train MODEL` and trains.
	Train func(env *Env, model string, args []string) error
	// Sample and Eval get all flags after the subcommand, --model included; main
	// picks the family from the model file's kind.
	Sample func(env *Env, kind string, args []string) error
	Eval   func(env *Env, kind string, args []string) error
}

var models = map[string]*modelCmd{}

func register(m *modelCmd) {
	for _, n := range m.Names {
		models[n] = m
	}
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
