package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/internal/atomicfile"
)

// ScriptName is the sbatch script a sweep folder gets.
const ScriptName = "sweep.sbatch"

// SlurmScript returns an sbatch script that runs the given runs of the sweep
// as one job array, one array task per run: each task runs
// `latent sweep exec DIR INDEX` with the executable exe (or [slurm] latent),
// which runs that run's steps exactly as a local sweep does. Slurm's own logs
// go to DIR/slurm/JOB_TASK.out. The resources come from the file's [slurm]
// table. It panics if runs is empty.
func (sw *Sweep) SlurmScript(exe string, runs []int) string {
	if len(runs) == 0 {
		panic("sweep: SlurmScript with no runs")
	}
	s := sw.Slurm
	if s.Latent != "" {
		exe = s.Latent
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n# Written by `latent sweep --slurm` for %s (sha256 %.12s).\n", sw.File, sw.SHA256)
	fmt.Fprintf(&b, "# Submit with: sbatch %s\n", shellQuote(filepath.Join(sw.Dir, ScriptName)))
	line := func(opt string) { fmt.Fprintf(&b, "#SBATCH %s\n", opt) }
	line("--job-name=" + slurmWord(sw.Name))
	arr := "--array=" + ranges(runs)
	if s.MaxRunning > 0 {
		arr += "%" + strconv.Itoa(s.MaxRunning)
	}
	line(arr)
	line("--output=" + filepath.Join(sw.Dir, "slurm", "%A_%a.out"))
	line("--ntasks=1")
	if s.CPUs > 0 {
		line("--cpus-per-task=" + strconv.Itoa(s.CPUs))
	}
	if s.Time != "" {
		line("--time=" + s.Time)
	}
	if s.Mem != "" {
		line("--mem=" + s.Mem)
	}
	if s.Partition != "" {
		line("--partition=" + s.Partition)
	}
	for _, o := range s.Options {
		line(o)
	}
	b.WriteString("set -e\n")
	for _, l := range s.Setup {
		b.WriteString(l + "\n")
	}
	if s.CPUs > 0 {
		fmt.Fprintf(&b, "export GOMAXPROCS=%d\n", s.CPUs)
	}
	fmt.Fprintf(&b, "exec %s sweep exec %s \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(exe), shellQuote(sw.Dir))
	return b.String()
}

// WriteSlurm writes the sweep's sbatch script for its runs that have not
// finished and returns its path and those runs. With every run done it writes
// nothing and returns no runs.
func (sw *Sweep) WriteSlurm(exe string) (string, []int, error) {
	var todo []int
	for i := range sw.Runs {
		if sw.Status(i).State != Done {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return "", nil, nil
	}
	if err := os.MkdirAll(filepath.Join(sw.Dir, "slurm"), 0o755); err != nil {
		return "", nil, fmt.Errorf("sweep: %w", err)
	}
	path := filepath.Join(sw.Dir, ScriptName)
	script := sw.SlurmScript(exe, todo)
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, script)
		return err
	}); err != nil {
		return "", nil, fmt.Errorf("sweep: %w", err)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		return "", nil, fmt.Errorf("sweep: %w", err)
	}
	return path, todo, nil
}

// Submit submits the sbatch script at path with `sbatch --parsable` (sbatch
// is looked up on PATH) and returns the job id. sbatch missing, or refusing
// the job, is an error of one line that says which.
func Submit(ctx context.Context, sbatch, path string) (string, error) {
	if sbatch == "" {
		sbatch = "sbatch"
	}
	bin, err := exec.LookPath(sbatch)
	if err != nil {
		return "", fmt.Errorf("sweep: --submit: %s not found on PATH (is Slurm installed here?); the script is %s", sbatch, path)
	}
	cmd := exec.CommandContext(ctx, bin, "--parsable", path)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := oneLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "", fmt.Errorf("sweep: --submit: running %s: %v", bin, err)
		}
		return "", fmt.Errorf("sweep: sbatch refused %s: %s", path, msg)
	}
	id, err := ParseJobID(out.String())
	if err != nil {
		return "", fmt.Errorf("sweep: sbatch %s: %v", path, err)
	}
	return id, nil
}

// ParseJobID reads the job id from sbatch's output: `--parsable` prints
// "ID" or "ID;CLUSTER"; without it sbatch prints "Submitted batch job ID".
func ParseJobID(out string) (string, error) {
	s := strings.TrimSpace(out)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	s = strings.TrimPrefix(s, "Submitted batch job ")
	s, _, _ = strings.Cut(s, ";")
	if s == "" {
		return "", fmt.Errorf("printed no job id")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("printed %q, not a job id", strings.TrimSpace(out))
		}
	}
	return s, nil
}

// ranges writes sorted indices as Slurm's array list: "0-3,5,7-8".
func ranges(idx []int) string {
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i])+"-"+strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// shellQuote quotes s for bash when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// slurmWord keeps a job name to characters Slurm and shells take.
func slurmWord(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "sweep"
	}
	return string(b)
}
