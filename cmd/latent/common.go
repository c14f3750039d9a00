package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/latent-ml/latent/dataset"
)

// openData loads the data set spec (see dataset.Load) from env.DataDir (or the
// cache; it never downloads: `latent data fetch` does) and applies binarize:
// "" or "none" leaves the data as it is, "threshold" and "stochastic" binarise
// it in place (stochastic: one fixed draw from seed), and "dynamic" also leaves
// it as it is: the training loop draws a fresh binarisation of every
// mini-batch with dataset.BinarizeBatch.
func openData(env *Env, spec, binarize string, seed uint64) (*dataset.Dataset, error) {
	switch binarize {
	case "", "none", "dynamic", "threshold", "stochastic":
	default:
		return nil, usagef("--binarize: must be threshold, stochastic or dynamic, got %q", binarize)
	}
	if spec == "" {
		return nil, usagef("--data: missing data spec (e.g. mnist, bars:4, ising:L=16,T=2.27,n=20000, or a file)")
	}
	d, err := dataset.Load(spec, dataset.Options{DataDir: env.DataDir, Seed: seed})
	if err != nil {
		return nil, err
	}
	if binarize == "threshold" || binarize == "stochastic" {
		if err := dataset.Binarize(d, binarize, seed); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// printJSON writes v as one JSON object on one line of stdout. Non-finite
// floats cannot be written as JSON: pass them through model.JSONFloat first.
func printJSON(env *Env, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("writing JSON result: %w", err)
	}
	b = append(b, '\n')
	_, err = env.Stdout.Write(b)
	return err
}

// progress prints one line of progress for humans on stderr (with --quiet,
// warnings only).
func progress(env *Env, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if env.Quiet && !isWarning(s) {
		return
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	io.WriteString(env.Stderr, s)
}

// newFlags returns a flag set for a subcommand that reports errors instead of
// printing them or exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args with fs and makes a parse error a usage error that
// names the command. Positional arguments may come before or after flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, &helpRequest{fs}
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseOnlyFlags parses args into fs and rejects positional arguments, naming the
// command what ("train rbm", "eval") in the error.
func parseOnlyFlags(fs *flag.FlagSet, args []string, what string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", what, pos[0])
	}
	return nil
}

// checkOutFile checks, before any work is done, that path (the value of flag
// name) can be written as a file: it is not a folder and its folder exists. A
// long training run must not end in "cannot write the model".
func checkOutFile(name, path string) error {
	if path == "" {
		return usagef("%s: missing file name", name)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("%s: %s is a folder, want a file name", name, path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err != nil && os.IsNotExist(err):
		return fmt.Errorf("%s: %s: folder %s does not exist", name, path, dir)
	case err != nil:
		return fmt.Errorf("%s: %s: %w", name, path, err)
	case !st.IsDir():
		return fmt.Errorf("%s: %s: %s is not a folder", name, path, dir)
	}
	return nil
}

// checkSampleArgs checks the --n and --out flags of `latent sample`.
func checkSampleArgs(n int, out string) error {
	if n < 1 {
		return usagef("--n: must be >= 1, got %d", n)
	}
	if out == "" {
		return usagef("--out: missing samples.png or samples.npy")
	}
	if ext := strings.ToLower(filepath.Ext(out)); ext != ".png" && ext != ".npy" {
		return usagef("--out: must end in .png or .npy, got %q", out)
	}
	return checkOutFile("--out", out)
}

// sampleArgs holds the flags every family's `latent sample` takes. Register
// them with sampleFlags, add the family's own flags to fs, then call parse.
type sampleArgs struct {
	Model, Out string
	Pictures   string
	N          int
	Seed       uint64
	Force      bool
}

func sampleFlags(fs *flag.FlagSet) *sampleArgs {
	a := &sampleArgs{}
	fs.StringVar(&a.Model, "model", "", "model file")
	fs.IntVar(&a.N, "n", 64, "number of samples")
	fs.StringVar(&a.Out, "out", "", "samples.png or samples.npy")
	fs.Uint64Var(&a.Seed, "seed", 1, "random seed")
	fs.StringVar(&a.Pictures, "pictures", "", "also write the family's pictures of the model into this folder, as train --pictures does after the last epoch (filters, samples, ...; reads the training data named in the file)")
	return a
}

// parse parses args with fs and checks --n and --out (before the model is read).
func (a *sampleArgs) parse(fs *flag.FlagSet, args []string) error {
	if err := parseOnlyFlags(fs, args, "sample"); err != nil {
		return err
	}
	return checkSampleArgs(a.N, a.Out)
}

// evalArgs holds the flags every family's `latent eval` takes. --n and --limit
// are two names for the same thing: score only the first N examples.
type evalArgs struct {
	Model, Data, Binarize string
	Per, FID              string
	FIDN                  int
	SkipLL                bool
	Limit                 int
	Seed                  uint64
	JSON, Force           bool
	// Dequantize: score at dataset.Dequantize's y = (k + u)/256 (families
	// without a dequantize flag of their own that score continuous data).
	Dequantize bool
}

func evalFlags(fs *flag.FlagSet) *evalArgs {
	a := &evalArgs{}
	fs.StringVar(&a.Model, "model", "", "model file")
	fs.StringVar(&a.Data, "data", "", "data SPEC to score")
	fs.StringVar(&a.Binarize, "binarize", "", "threshold or stochastic (default: as in training)")
	fs.IntVar(&a.Limit, "n", 0, "score only the first N examples (0: all)")
	fs.IntVar(&a.Limit, "limit", 0, "the same as --n")
	fs.Uint64Var(&a.Seed, "seed", 1, "random seed")
	fs.BoolVar(&a.JSON, "json", false, "print one JSON object on stdout")
	fs.BoolVar(&a.Force, "force", false, "overwrite an existing output data file")
	return a
}

// parse parses args with fs and checks the common flags.
func (a *evalArgs) parse(fs *flag.FlagSet, args []string) error {
	if err := parseOnlyFlags(fs, args, "eval"); err != nil {
		return err
	}
	if a.Limit < 0 {
		return usagef("--n: must be >= 0, got %d", a.Limit)
	}
	switch a.Binarize {
	case "", "none", "threshold", "stochastic":
	case "dynamic":
		return usagef("--binarize: eval scores fixed data; use threshold or stochastic, got dynamic")
	default:
		return usagef("--binarize: must be threshold or stochastic, got %q", a.Binarize)
	}
	return nil
}
