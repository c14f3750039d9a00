// Command latent trains, samples and evaluates latent-variable generative models.
//
//	latent demo [--out DIR] [--seed S]
//	latent train MODEL --data SPEC [model flags] [--epochs N] [--seed S] --out FILE
//	latent sample --model FILE --n N --out samples.png|samples.npy [--seed S]
//	latent eval --model FILE --data SPEC [--n N] [--iw-k K] [--json]
//	latent data list | fetch NAME | show SPEC --out grid.png | export SPEC --out FILE.npy
//	latent inspect FILE
//
// Run `latent help` for the details. Every failure prints one line
// `latent: ...` on stderr and exits 1 (2 for a usage error).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/model"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError marks a mistake in the command line; main exits 2 for it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// run is the whole command: it parses args (without the program name), runs the
// subcommand and returns the exit status. It never panics.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "latent: internal error: %s\n", oneLine(fmt.Sprint(r)))
			code = 1
		}
	}()
	env := &Env{Stdout: stdout, Stderr: stderr, DataDir: os.Getenv("LATENT_DATA")}
	args, err := globalFlags(env, args)
	if err == nil {
		var stop func() error
		if stop, err = startProfile(env); err == nil {
			err = dispatch(env, args)
			if perr := stop(); err == nil {
				err = perr
			}
		}
	}
	if err == nil {
		return 0
	}
	var help *helpRequest
	if errors.As(err, &help) {
		printHelp(stdout, help.fs)
		return 0
	}
	if errors.Is(err, flag.ErrHelp) { // a subcommand's -h that printed its own usage
		return 0
	}
	fmt.Fprintf(stderr, "latent: %s\n", oneLine(strings.TrimPrefix(err.Error(), "latent: ")))
	if isUsage(err) {
		return 2
	}
	return 1
}

// isUsage reports whether err is a command-line mistake: a usageError or one of
// the flag package's parse errors.
func isUsage(err error) bool {
	var u *usageError
	if errors.As(err, &u) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"flag provided but not defined", "flag needs an argument", "invalid value", "invalid boolean value", "bad flag syntax"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "; ")
}

// globalFlags removes --quiet, --data-dir DIR and --cpuprofile FILE (or
// --name=VALUE, anywhere before a "--") from args and stores them in env.
func globalFlags(env *Env, args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "quiet" || name == "q") && !hasVal {
			env.Quiet = true
			continue
		}
		var dst *string
		what := ""
		switch {
		case !strings.HasPrefix(a, "-"):
		case name == "data-dir":
			dst, what = &env.DataDir, "directory"
		case name == "cpuprofile":
			dst, what = &env.CPUProfile, "file"
		}
		if dst == nil {
			out = append(out, a)
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, usagef("--%s: needs a %s", name, what)
			}
			i++
			val = args[i]
		}
		if val == "" {
			return nil, usagef("--%s: empty %s name", name, what)
		}
		*dst = val
	}
	return out, nil
}

// startProfile starts a CPU profile into env.CPUProfile (--cpuprofile) when one
// is asked for and returns the function that stops it and closes the file.
func startProfile(env *Env) (stop func() error, err error) {
	if env.CPUProfile == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(env.CPUProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", env.CPUProfile, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		return nil
	}, nil
}

func dispatch(env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("no command given; try `latent help`")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			return helpTopic(env, rest[0])
		}
		printUsage(env.Stdout)
		return nil
	case "version", "-version", "--version":
		fmt.Fprintf(env.Stdout, "latent %s (model file format %d, %s, %s/%s)\n",
			checkpoint.LatentVersion, checkpoint.FormatVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "demo":
		return cmdDemo(env, rest)
	case "train":
		return cmdTrain(env, rest)
	case "sample", "eval":
		return cmdModelFile(env, cmd, rest)
	case "data":
		return cmdData(env, rest)
	case "inspect":
		return cmdInspect(env, rest)
	case "transform":
		return cmdTransform(env, rest)
	case "compare":
		return cmdCompare(env, rest)
	case "serve":
		return cmdServe(env, rest)
	case "sweep":
		return cmdSweep(env, rest)
	}
	return usagef("unknown command %q (commands: demo, train, sample, eval, compare, serve, transform, data, inspect, sweep, help, version)", cmd)
}

// knownModels lists the registered MODEL names for error messages.
func knownModels() string {
	return "known: " + model.Names()
}

func cmdTrain(env *Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			printUsage(env.Stdout)
			return nil
		}
		return usagef("train: missing MODEL (%s)", knownModels())
	}
	fam := model.Lookup(args[0])
	if fam == nil || fam.Name != args[0] {
		return usagef("train: unknown MODEL %q (%s)", args[0], knownModels())
	}
	return cmdTrainFamily(env, fam, args[1:])
}

// modelFlag returns the value of --model (or --model=FILE, -model) in args.
func modelFlag(args []string) (string, error) {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "model" {
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return "", usagef("--model: needs a model file")
			}
			val = args[i+1]
		}
		if val == "" {
			return "", usagef("--model: empty file name")
		}
		return val, nil
	}
	return "", usagef("missing --model FILE (a model file written by `latent train`)")
}

// cmdModelFile runs sample or eval: it reads the kind of the --model file and
// hands the arguments to the family that wrote it.
func cmdModelFile(env *Env, cmd string, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			modelFileUsage(env, cmd, args)
			return nil
		}
	}
	path, err := modelFlag(args)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	kind, err := checkpoint.PeekKind(path)
	if err != nil {
		return err
	}
	fam := model.Lookup(kind)
	if fam == nil {
		return fmt.Errorf("%s: %s holds a %q model, which this latent cannot read (%s)", cmd, path, kind, knownModels())
	}
	if cmd == "eval" {
		return cmdEvalFamily(env, fam, args)
	}
	return cmdSampleFamily(env, fam, args)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `latent trains, samples and evaluates latent-variable generative models.

Usage:
  latent demo [--out DIR] [--seed S]       run every built-in demo, write pictures to DIR (demo-out)
  latent train MODEL --data SPEC [flags] --out FILE
                                           train a model and save it (atomically) to FILE
  latent sample --model FILE --n N --out samples.png|samples.npy [--seed S]
  latent eval --model FILE --data SPEC [--n N] [--iw-k K] [--json]
  latent data list                         named data sets and whether their files are present
  latent data fetch NAME                   download a named data set into the cache
  latent data show SPEC --out grid.png [--n 64] [--cols C] [--seed S] [--binarize MODE]
  latent data export SPEC --out FILE.npy [--binarize MODE]   (labels go to FILE.labels.npy)
  latent inspect FILE                      show a model file: kind, version, metadata, tensors
  latent compare FILE... --data SPEC [--json|--markdown] [--html OUT]
                                           score several model files on the same data, one table
  latent serve DIR... [--addr 127.0.0.1:6006]
                                           serve training reports (train --report DIR), live
  latent sweep FILE --local N | --slurm [--submit]   many runs of a sweep file; sweep collect DIR
  latent version

Global flags:
  --data-dir DIR     folder of already downloaded data files (default: $LATENT_DATA, then the cache)
  --cpuprofile FILE  write a CPU profile of the command (go tool pprof FILE)
  --quiet            no progress bars or lines on stderr

SPEC is a data set name with optional split and options, or a file:
  mnist, mnist:test, fashion-mnist, binarized-mnist:valid, optdigits, bars:4,
  ising:L=16,T=2.27,n=20000, shapes, path/to/file.npy|.npz|.csv

MODEL:
`)
	for _, line := range familyHelp() {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintln(w, "  (latent train MODEL -h lists a family's flags)")
	fmt.Fprintln(w, "\nEvery failure prints one line `latent: ...` on stderr and exits non-zero.")
}

// helpTopic prints `latent help TOPIC`: a command's -h, a family's flags, or data specs.
func helpTopic(env *Env, topic string) error {
	switch topic {
	case "data", "spec", "specs":
		fmt.Fprint(env.Stdout, specHelp)
		return nil
	case "train", "sample", "eval", "inspect", "transform", "demo", "compare", "serve", "sweep":
		return dispatch(env, []string{topic, "-h"})
	}
	if fam := model.Lookup(topic); fam != nil {
		fmt.Fprint(env.Stdout, trainFamilyUsage(fam))
		return nil
	}
	return usagef("help: no topic %q (try a command, a MODEL, or data)", topic)
}
