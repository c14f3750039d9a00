package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/latent-ml/latent/sweep"
)

func init() {
	synopses["sweep"] = `latent sweep FILE (--local N | --slurm [--submit]) [--dir DIR]

Run the runs of a sweep file (TOML: steps, latent subcommands with {placeholders},
and axes: lists or ranges, zipped or crossed) in one sweep folder, DIR (default: the
file's name, in the current folder). --local N runs them here, N at a time; --slurm
writes DIR/sweep.sbatch, a job array of one task per run, and --submit hands it to
sbatch. Runs that finished are not run again: running a sweep again resumes it.

  latent sweep collect DIR [--format md|csv|json] [--columns PATTERNS] [--plot COLUMNS --x AXIS]

writes DIR/results.md, .csv and .json (every run's settings and its steps' --json
results), DIR/ising.png for an Ising scan, and DIR/plot.png for --plot.`
	synopses["sweep collect"] = synopses["sweep"]
}

func cmdSweep(env *Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "collect":
			return cmdSweepCollect(env, args[1:])
		case "exec":
			return cmdSweepExec(env, args[1:])
		}
	}
	fs := newFlags("sweep")
	local := fs.Int("local", 0, "run the runs on this machine, `N` at a time")
	slurm := fs.Bool("slurm", false, "write an sbatch job array script, DIR/sweep.sbatch")
	submit := fs.Bool("submit", false, "with --slurm: submit the script with sbatch and print the job id")
	dir := fs.String("dir", "", "the sweep folder (default: the sweep file's name without extension)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sweep: want one sweep FILE (or sweep collect DIR), got %d arguments", len(pos))
	}
	switch {
	case *local < 0:
		return usagef("--local: want 1 or more runs at a time, got %d", *local)
	case *local > 0 && *slurm:
		return usagef("sweep: give --local N or --slurm, not both")
	case *local == 0 && !*slurm:
		return usagef("sweep: give --local N (run here, N at a time) or --slurm (write a job array script)")
	case *submit && !*slurm:
		return usagef("--submit goes with --slurm")
	}
	f, err := sweep.ReadFile(pos[0])
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = f.Name
	}
	sw, err := sweep.Plan(f, *dir)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sweep: cannot find the latent executable: %v", err)
	}
	if *slurm {
		return sweepSlurm(env, sw, exe, *submit)
	}
	return sweepLocal(env, sw, exe, *local)
}

func sweepLocal(env *Env, sw *sweep.Sweep, exe string, n int) error {
	unlock, err := sw.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	total := len(sw.Runs)
	done := 0
	for i := range sw.Runs {
		if sw.Status(i).State == sweep.Done {
			done++
		}
	}
	progress(env, "sweep %s: %d runs in %s: %d done before, %d to run, %d at a time", sw.Name, total, sw.Dir, done, total-done, n)
	finished := done
	sum, err := sw.Local(ctx, n, sweep.ChildProcess(exe, nil, sweep.ProcsPerRun(n)), func(e sweep.Event) {
		switch e.State {
		case sweep.Pending:
			if !env.Quiet {
				progress(env, "run %d (%s): started", e.Index, e.Label)
			}
		case sweep.Done:
			finished++
			progress(env, "run %d (%s): done in %.1fs [%d/%d]", e.Index, e.Label, e.Seconds, finished, total)
		case sweep.Failed:
			progress(env, "run %d (%s): FAILED: %v", e.Index, e.Label, e.Err)
		}
	})
	if err != nil {
		return fmt.Errorf("sweep: stopped (%v); the finished runs are kept: run the sweep again to resume", err)
	}
	for _, f := range sum.Failed {
		progress(env, "failed: run %d (%s): %s", f.Index, f.Label, f.Err)
	}
	if len(sum.Failed) > 0 {
		return fmt.Errorf("sweep: %d of %d runs failed (listed above; each run's stepN.err in %s/runs holds its output); run the sweep again to retry them",
			len(sum.Failed), total, sw.Dir)
	}
	fmt.Fprintf(env.Stdout, "%s: %d runs done (%d now, %d before); collect with: latent sweep collect %s\n", sw.Name, total, sum.Done, sum.Skipped, sw.Dir)
	return nil
}

func sweepSlurm(env *Env, sw *sweep.Sweep, exe string, submit bool) error {
	path, todo, err := sw.WriteSlurm(exe)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		fmt.Fprintf(env.Stdout, "%s: all %d runs are done; nothing to submit\n", sw.Name, len(sw.Runs))
		return nil
	}
	wrote := fmt.Sprintf("sweep %s: wrote %s: a job array of %d of %d runs (the others are done)", sw.Name, path, len(todo), len(sw.Runs))
	if !submit {
		progress(env, "%s", wrote)
		fmt.Fprintf(env.Stdout, "%s\n", path)
		progress(env, "submit it with: sbatch %s", path)
		return nil
	}
	id, err := sweep.Submit(context.Background(), os.Getenv("LATENT_SBATCH"), path)
	if err != nil {
		return err
	}
	progress(env, "%s", wrote)
	progress(env, "submitted job %s; when it is done: latent sweep collect %s", id, sw.Dir)
	fmt.Fprintln(env.Stdout, id)
	return nil
}

// cmdSweepExec runs one run of a planned sweep: what each Slurm array task does.
func cmdSweepExec(env *Env, args []string) error {
	fs := newFlags("sweep exec")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("sweep exec: want DIR INDEX")
	}
	sw, err := sweep.Open(pos[0])
	if err != nil {
		return err
	}
	i, err := strconv.Atoi(pos[1])
	if err != nil || i < 0 || i >= len(sw.Runs) {
		return usagef("sweep exec: INDEX %q: want a run number in [0, %d]", pos[1], len(sw.Runs)-1)
	}
	if sw.Status(i).State == sweep.Done {
		progress(env, "run %d (%s): done already", i, sw.Runs[i].Label())
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sweep: cannot find the latent executable: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sw.RunOne(ctx, i, sweep.ChildProcess(exe, nil, 0)); err != nil {
		return fmt.Errorf("run %d (%s): %v", i, sw.Runs[i].Label(), err)
	}
	progress(env, "run %d (%s): done", i, sw.Runs[i].Label())
	return nil
}

func cmdSweepCollect(env *Env, args []string) error {
	fs := newFlags("sweep collect")
	format := fs.String("format", "md", "the table printed on stdout: md, csv or json")
	columns := fs.String("columns", "", "result columns printed on stdout, comma-separated patterns (e.g. 'eval.ising.*.energy,eval.log_likelihood'); default all; the results files hold all")
	plotCols := fs.String("plot", "", "result columns to plot against --x, comma-separated; written to DIR/plot.png")
	x := fs.String("x", "", "the axis (or column) on --plot's x axis (default: the first axis that varies)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sweep collect: want one sweep folder DIR")
	}
	switch *format {
	case "md", "markdown", "csv", "json":
	default:
		return usagef("--format: want md, csv or json, got %q", *format)
	}
	sw, err := sweep.Open(pos[0])
	if err != nil {
		return err
	}
	full, err := sw.Collect()
	if err != nil {
		return err
	}
	tab, err := sw.Collect() // what stdout gets: --columns
	if err != nil {
		return err
	}
	if *columns != "" {
		if err := tab.Select(splitList(*columns)); err != nil {
			return usagef("%v", err)
		}
	}
	if *x != "" && *plotCols == "" {
		return usagef("--x goes with --plot")
	}
	outs, err := writeSweepFiles(sw, full, *plotCols, *x)
	if err != nil {
		return err
	}
	counts := map[sweep.State]int{}
	for _, r := range tab.Rows {
		counts[r.State]++
	}
	progress(env, "%s: %d runs: %d done, %d failed, %d pending; wrote %s", sw.Name, len(tab.Rows),
		counts[sweep.Done], counts[sweep.Failed], counts[sweep.Pending], strings.Join(outs, ", "))
	return tab.Write(env.Stdout, *format)
}

// writeSweepFiles writes the full table (results.md, .csv, .json), the Ising
// plot of an Ising scan and, when plotCols is set, plot.png against x, into the
// sweep folder; it returns their paths.
func writeSweepFiles(sw *sweep.Sweep, full *sweep.Table, plotCols, x string) ([]string, error) {
	var outs []string
	for _, ext := range []string{"md", "csv", "json"} {
		path := filepath.Join(sw.Dir, "results."+ext)
		if err := sweep.WritePNG(path, func(w io.Writer) error { return full.Write(w, ext) }); err != nil {
			return nil, err
		}
		outs = append(outs, path)
	}
	if full.IsingStep() != "" {
		path := filepath.Join(sw.Dir, "ising.png")
		if err := sweep.WritePNG(path, full.WriteIsingPlot); err != nil {
			return nil, fmt.Errorf("sweep collect: ising.png: %v", err)
		}
		outs = append(outs, path)
	}
	if plotCols == "" {
		return outs, nil
	}
	if x == "" {
		if x = full.DefaultX(); x == "" {
			return nil, usagef("--plot: no axis varies over numbers; name the x column with --x")
		}
	}
	path := filepath.Join(sw.Dir, "plot.png")
	if err := sweep.WritePNG(path, func(w io.Writer) error { return full.WritePlot(w, x, splitList(plotCols)) }); err != nil {
		return nil, usagef("%v", err)
	}
	return append(outs, path), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
