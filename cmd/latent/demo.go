package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// cmdDemo runs every registered demo step in order: `latent demo [--out DIR] [--seed S]`.
func cmdDemo(env *Env, args []string) error {
	fset := newFlags("demo")
	out := fset.String("out", "demo-out", "folder for the pictures and models")
	seed := fset.Uint64("seed", 1, "random seed")
	if err := parseOnlyFlags(fset, args, "demo"); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("demo: --out: %w", err)
	}
	start := time.Now()
	var written []string
	for _, s := range allDemos() {
		before := snapshot(*out)
		t0 := time.Now()
		progress(env, "demo: %s ...", s.Name)
		if err := s.Run(env, *out, *seed); err != nil {
			return fmt.Errorf("demo: %s: %w", s.Name, err)
		}
		files := changed(before, snapshot(*out))
		progress(env, "demo: %s: %d files in %.1fs", s.Name, len(files), time.Since(t0).Seconds())
		written = append(written, files...)
	}
	fmt.Fprintf(env.Stdout, "latent demo: %d steps, %d files written to %s in %.1fs:\n",
		len(allDemos()), len(written), *out, time.Since(start).Seconds())
	for _, f := range written {
		fmt.Fprintf(env.Stdout, "  %s\n", f)
	}
	return nil
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// snapshot records the regular files under dir.
func snapshot(dir string) map[string]fileStamp {
	m := map[string]fileStamp{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			m[p] = fileStamp{info.Size(), info.ModTime()}
		}
		return nil
	})
	return m
}

// changed lists the files that are new or modified in after, sorted.
func changed(before, after map[string]fileStamp) []string {
	var out []string
	for p, s := range after {
		if b, ok := before[p]; !ok || b != s {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// The built-in data sets' pictures come first (Order 1-9); model families use
// higher Order numbers.
func init() {
	registerDemo(demoStep{Order: 1, Name: "data: bars-and-stripes 4x4", Run: demoBars})
	registerDemo(demoStep{Order: 2, Name: "data: shapes", Run: demoShapes})
	registerDemo(demoStep{Order: 3, Name: "data: Ising configurations", Run: demoIsing})
}

func demoLoad(env *Env, spec string, seed uint64) (*dataset.Dataset, error) {
	return dataset.Load(spec, dataset.Options{DataDir: env.DataDir, Seed: seed})
}

// demoBars draws all 32 bars-and-stripes patterns of a 4×4 image.
func demoBars(env *Env, out string, seed uint64) error {
	d, err := demoLoad(env, "bars:4", seed)
	if err != nil {
		return err
	}
	return viz.Grid{Height: 4, Width: 4, Channels: 1, Cols: 8}.Save(filepath.Join(out, "data-bars.png"), d.X)
}

// demoShapes draws 64 shapes with their class under each.
func demoShapes(env *Env, out string, seed uint64) error {
	d, err := demoLoad(env, "shapes,n=64", seed)
	if err != nil {
		return err
	}
	_, err = viz.ShowData(filepath.Join(out, "data-shapes.png"), d, viz.ShowOptions{N: d.Len(), Cols: 8, Captions: true})
	return err
}

// demoIsing draws 6 configurations of a 32×32 lattice at each of three
// temperatures: below, near and above T_c = 2/ln(1+√2) ≈ 2.269.
func demoIsing(env *Env, out string, seed uint64) error {
	temps := []string{"1.5", "2.27", "3.0"}
	const per = 6
	x := tensor.New(per*len(temps), 32*32)
	var captions []string
	for k, T := range temps {
		d, err := demoLoad(env, fmt.Sprintf("ising:L=32,T=%s,n=%d", T, per), seed)
		if err != nil {
			return err
		}
		if d.Len() != per || d.Dim() != 32*32 {
			return fmt.Errorf("ising data set is %dx%d, want %dx%d", d.Len(), d.Dim(), per, 32*32)
		}
		x.Slice(k*per, (k+1)*per).Copy(d.X)
		for i := 0; i < per; i++ {
			captions = append(captions, "T="+T)
		}
	}
	g := viz.Grid{Height: 32, Width: 32, Channels: 1, Cols: per, Scale: 2, Captions: captions}
	return g.Save(filepath.Join(out, "data-ising.png"), x)
}

// allDemos returns the CLI's own demo steps and those the families registered
// with package model, in order.
func allDemos() []demoStep {
	steps := append([]demoStep(nil), demoSteps...)
	for _, d := range model.Demos() {
		d := d
		steps = append(steps, demoStep{Order: d.Order, Name: d.Name, Run: func(env *Env, out string, seed uint64) error {
			ctx, stop := signalContext(env)
			defer stop()
			return d.Run(ctx, out, seed)
		}})
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].Order < steps[j].Order })
	return steps
}
