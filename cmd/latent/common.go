package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
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
// floats cannot be written as JSON: pass them through jsonFloat first.
func printJSON(env *Env, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("writing JSON result: %w", err)
	}
	b = append(b, '\n')
	_, err = env.Stdout.Write(b)
	return err
}

// jsonFloat returns x, or nil (JSON null) when x is NaN or infinite.
func jsonFloat(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

// progress prints one line of progress for humans on stderr.
func progress(env *Env, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
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
				return nil, err
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
