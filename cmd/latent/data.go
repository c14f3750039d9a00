package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/viz"
)

// cmdData runs `latent data list | fetch NAME | show SPEC | export SPEC`.
func cmdData(env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("data: missing subcommand (list, fetch NAME, show SPEC --out grid.png, export SPEC --out FILE.npy)")
	}
	switch args[0] {
	case "list":
		return dataList(env, args[1:])
	case "fetch":
		return dataFetch(env, args[1:])
	case "show":
		return dataShow(env, args[1:])
	case "export":
		return dataExport(env, args[1:])
	case "fid":
		return dataFID(env, args[1:])
	case "-h", "--help", "-help", "help":
		printUsage(env.Stdout)
		return nil
	}
	return usagef("data: unknown subcommand %q (list, fetch, show, export)", args[0])
}

// dataRoots returns the folders where named data sets are looked for, in order.
func dataRoots(env *Env) []string {
	var roots []string
	if env.DataDir != "" {
		roots = append(roots, env.DataDir)
	}
	if c, err := dataset.CacheDir(); err == nil {
		roots = append(roots, c)
	}
	return roots
}

// present reports whether f lies in one of roots, under its usual path or its
// base name, compressed or not (the common places; dataset.Load looks in a few more).
func present(f dataset.FileInfo, roots []string) bool {
	base := filepath.Base(filepath.FromSlash(f.Path))
	for _, r := range roots {
		for _, p := range []string{filepath.FromSlash(f.Path), base} {
			for _, q := range []string{p, p + ".gz", strings.TrimSuffix(p, ".gz")} {
				if st, err := os.Stat(filepath.Join(r, q)); err == nil && st.Mode().IsRegular() {
					return true
				}
			}
		}
	}
	return false
}

func dataList(env *Env, args []string) error {
	fs := newFlags("data list")
	if err := parseOnlyFlags(fs, args, "data list"); err != nil {
		return err
	}
	roots := dataRoots(env)
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSPLITS\tDOWNLOAD\tFILES\tDESCRIPTION")
	for _, d := range dataset.List() {
		var size int64
		have := 0
		for _, f := range d.Files {
			size += f.Size
			if present(f, roots) {
				have++
			}
		}
		status := fmt.Sprintf("%d/%d present", have, len(d.Files))
		fmt.Fprintf(w, "%s\t%s\t%.1f MB\t%s\t%s\n", d.Name, strings.Join(d.Splits, ","), float64(size)/1e6, status, d.Description)
	}
	fmt.Fprintln(w, "bars:N\t-\tbuilt in\t-\tall 2^(N+1) bars-and-stripes patterns of an NxN image (bars:4,n=1000 samples them)")
	fmt.Fprintln(w, "ising:L=,T=,n=\t-\tbuilt in\t-\t2-D Ising configurations on an LxL periodic lattice at temperature T (Metropolis + Wolff)")
	fmt.Fprintln(w, "shapes\t-\tbuilt in\t-\t28x28 squares, ellipses and triangles at random position, scale and rotation")
	fmt.Fprintln(w, "FILE\t-\t-\t-\ta .npy, .npz, .csv, .amat or IDX file, or a folder of PNG images")
	if err := w.Flush(); err != nil {
		return err
	}
	where := "the download cache"
	if env.DataDir != "" {
		where = env.DataDir
	}
	progress(env, "looked for files in %s; `latent data fetch NAME` downloads a data set", where)
	return nil
}

func dataFetch(env *Env, args []string) error {
	fs := newFlags("data fetch")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("data fetch: want one data set NAME (see `latent data list`), got %d arguments", len(pos))
	}
	if err := dataset.Fetch(pos[0], dataset.Options{DataDir: env.DataDir, Download: true}, env.Stderr); err != nil {
		return err
	}
	progress(env, "%s: ready", pos[0])
	return nil
}

func dataShow(env *Env, args []string) error {
	fs := newFlags("data show")
	out := fs.String("out", "", "PNG file to write")
	o := viz.ShowOptions{}
	fs.IntVar(&o.N, "n", 64, "number of examples")
	fs.IntVar(&o.Cols, "cols", 0, "tiles per row (0: square)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed for generated data, --binarize stochastic and --shuffle")
	fs.BoolVar(&o.Shuffle, "shuffle", false, "show a random selection instead of the first N")
	binarize := fs.String("binarize", "", "threshold|stochastic")
	fs.BoolVar(&o.Captions, "labels", true, "write each example's label under it")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usagef("data show: want one data SPEC, got %d arguments", len(pos))
	case *out == "":
		return usagef("data show: missing --out FILE.png")
	case !strings.EqualFold(filepath.Ext(*out), ".png"):
		return usagef("--out: %q must end in .png", *out)
	case o.N < 1:
		return usagef("--n: must be >= 1, got %d", o.N)
	case o.Cols < 0:
		return usagef("--cols: must be >= 0, got %d", o.Cols)
	}
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	if *binarize == "dynamic" {
		*binarize = "stochastic"
	}
	d, err := openData(env, pos[0], *binarize, o.Seed)
	if err != nil {
		return err
	}
	_, o.AllN = model.GivenFlags(fs)["n"]
	sh, err := viz.ShowData(*out, d, o)
	if err != nil {
		return fmt.Errorf("data show: %w", err)
	}
	switch {
	case sh.Scatter:
		progress(env, "data show: a scatter of %d of %d 2-D points of %s written to %s", sh.K, d.Len(), d.Name, *out)
	default:
		if sh.Scaled {
			progress(env, "data show: values span [%g, %g]; scaled to [0, 1] for the picture", sh.Lo, sh.Hi)
		}
		if d.Source != "" {
			progress(env, "%s", d.Source)
		}
		progress(env, "data show: %d of %d examples of %s (%dx%dx%d) written to %s", sh.K, d.Len(), d.Name, sh.H, sh.W, sh.C, *out)
	}
	fmt.Fprintln(env.Stdout, *out)
	return nil
}

func dataExport(env *Env, args []string) error {
	fs := newFlags("data export")
	out := fs.String("out", "", ".npy file to write (labels go beside it as FILE.labels.npy)")
	seed := fs.Uint64("seed", 1, "seed for generated data and --binarize stochastic")
	binarize := fs.String("binarize", "", "threshold|stochastic")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("data export: want one data SPEC, got %d arguments", len(pos))
	}
	if *out == "" {
		return usagef("data export: missing --out FILE.npy")
	}
	if filepath.Ext(*out) != ".npy" {
		return usagef("--out: %q must end in .npy", *out)
	}
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	if *binarize == "dynamic" {
		return usagef("--binarize: dynamic binarisation happens during training; use threshold or stochastic")
	}
	d, err := openData(env, pos[0], *binarize, *seed)
	if err != nil {
		return err
	}
	if err := dataset.SaveNPY(*out, d); err != nil {
		return err
	}
	if d.Source != "" {
		progress(env, "%s", d.Source)
	}
	progress(env, "data export: %s: %d examples × %d values written to %s", d.Name, d.Len(), d.Dim(), *out)
	fmt.Fprintln(env.Stdout, *out)
	if d.Labels != nil {
		fmt.Fprintln(env.Stdout, dataset.LabelsPath(*out))
	}
	return nil
}
