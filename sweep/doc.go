// Package sweep runs many `latent` commands that differ in a few settings (a
// temperature scan, seeds, hidden-layer sizes) and gathers their results into
// one table and one plot.
//
// A sweep file (TOML) names the steps of one run, `latent` subcommands with
// {placeholders}, and the axes that fill them: lists, evenly spaced ranges,
// zipped (moving together) or crossed (every combination, the default):
//
//	steps = [
//	  "train rbm --data ising:L=8,T={T},n=2000 --hidden 32 --seed {seed} --out model.lat --json",
//	  "eval --model model.lat --data ising:L=8,T={T},n=2000 --json",
//	]
//	[axes]
//	T    = { from = 1.5, to = 3.5, n = 9 }
//	seed = [1, 2]
//
// Plan lays the runs out in one sweep folder (a copy of the file, its SHA-256,
// one folder per run); a Local runner runs them on this machine N at a time,
// SlurmScript writes a Slurm job array that runs the same runs on a cluster,
// and Collect reads back every run's settings and its steps' --json results.
// A run whose steps all finished is never run again, so running a sweep again
// resumes it; a run that failed keeps its error until it is retried.
//
// The package never prints: progress comes back through callbacks.
package sweep
