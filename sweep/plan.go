package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/internal/atomicfile"
)

// ManifestName is the file in a sweep folder that describes its runs.
const ManifestName = "sweep.json"

// Sweep is a planned sweep: its folder and the runs in it.
type Sweep struct {
	Dir    string   `json:"-"`      // the sweep folder (absolute)
	Name   string   `json:"name"`   // the sweep file's name
	File   string   `json:"file"`   // the sweep file, as it was named
	SHA256 string   `json:"sha256"` // of the sweep file's bytes
	Axes   []string `json:"axes"`
	Slurm  Slurm    `json:"slurm"`
	Runs   []Run    `json:"runs"`
}

// Run is one run of a sweep: its settings and the commands of its steps.
type Run struct {
	Index    int        `json:"index"`
	Dir      string     `json:"dir"` // relative to the sweep folder
	Settings []Setting  `json:"settings"`
	Steps    [][]string `json:"steps"` // latent's arguments, one list per step
}

// Plan lays out the sweep of f in dir: it writes dir/sweep.json (every run's
// settings and commands) and a copy of the sweep file, and a folder per run
// under dir/runs. If dir already holds a sweep, it must be one of the same
// file (the same SHA-256): then Plan returns it as it was planned, with its
// runs' results untouched, so running it again resumes it. A folder from
// another sweep file is an error that names both.
func Plan(f *File, dir string) (*Sweep, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if old, err := Open(abs); err == nil {
		if old.SHA256 != f.SHA256 && old.File == f.Path {
			return nil, fmt.Errorf("sweep: %s holds the sweep of %s as it was (sha256 %.12s); the file has changed since (sha256 %.12s): choose another --dir, or remove the folder to start again",
				dir, f.Path, old.SHA256, f.SHA256)
		}
		if old.SHA256 != f.SHA256 {
			return nil, fmt.Errorf("sweep: %s holds the sweep of another file (%s, sha256 %.12s; %s has sha256 %.12s): choose another --dir, or remove the folder to start again",
				dir, old.File, old.SHA256, f.Path, f.SHA256)
		}
		return old, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("sweep: %s is not empty and holds no %s: choose another --dir", dir, ManifestName)
	}
	here, err := filepath.Abs(filepath.Dir(f.Path))
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	sets, err := f.Expand()
	if err != nil {
		return nil, err
	}
	sw := &Sweep{Dir: abs, Name: f.Name, File: f.Path, SHA256: f.SHA256, Axes: f.AxisNames(), Slurm: f.Slurm}
	width := len(strconv.Itoa(len(sets) - 1))
	width = max(width, 3)
	for i, set := range sets {
		r := Run{Index: i, Dir: filepath.Join("runs", fmt.Sprintf("%0*d", width, i)), Settings: set}
		builtin := map[string]string{"index": strconv.Itoa(i), "run": filepath.Join(abs, r.Dir), "here": here}
		for si, st := range f.Steps {
			words, err := st.Command(set, builtin)
			if err != nil {
				return nil, fmt.Errorf("%s: step %d: %v", f.Path, si+1, err)
			}
			r.Steps = append(r.Steps, words)
		}
		sw.Runs = append(sw.Runs, r)
	}
	for _, r := range sw.Runs {
		if err := os.MkdirAll(filepath.Join(abs, r.Dir), 0o755); err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		if err := writeJSON(filepath.Join(abs, r.Dir, "settings.json"), settingsMap(r.Settings)); err != nil {
			return nil, err
		}
	}
	copyName := "sweep" + filepath.Ext(f.Path)
	if filepath.Ext(f.Path) == "" {
		copyName = "sweep.toml"
	}
	if err := atomicfile.Write(filepath.Join(abs, copyName), func(w io.Writer) error {
		_, err := w.Write(f.Raw)
		return err
	}); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	// The manifest goes last: a folder with one is completely planned.
	if err := writeJSON(filepath.Join(abs, ManifestName), sw); err != nil {
		return nil, err
	}
	return sw, nil
}

// Open reads the sweep planned in dir. Its error wraps os.ErrNotExist when dir
// holds no sweep.
func Open(dir string) (*Sweep, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(abs, ManifestName))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sweep: %s holds no sweep (no %s): %w", dir, ManifestName, os.ErrNotExist)
		}
		return nil, fmt.Errorf("sweep: %w", err)
	}
	sw := &Sweep{}
	if err := json.Unmarshal(b, sw); err != nil {
		return nil, fmt.Errorf("sweep: %s: %v", filepath.Join(dir, ManifestName), err)
	}
	sw.Dir = abs
	for i, r := range sw.Runs {
		if r.Index != i || r.Dir == "" || len(r.Steps) == 0 {
			return nil, fmt.Errorf("sweep: %s: run %d is malformed", filepath.Join(dir, ManifestName), i)
		}
	}
	return sw, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: %s: %w", path, err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

func settingsMap(set []Setting) map[string]any {
	m := make(map[string]any, len(set))
	for _, s := range set {
		m[s.Axis] = s.Value.Text
	}
	return m
}

// Label is the run's settings as "T=2.25 seed=1".
func (r *Run) Label() string {
	parts := make([]string, len(r.Settings))
	for i, s := range r.Settings {
		parts[i] = s.Axis + "=" + s.Value.Text
	}
	if len(parts) == 0 {
		return fmt.Sprintf("run %d", r.Index)
	}
	return strings.Join(parts, " ")
}

// State is where a run stands.
type State int

const (
	Pending State = iota // not run, or stopped before its last step finished
	Done                 // every step finished
	Failed               // a step failed; Status.Err says how
)

func (s State) String() string {
	switch s {
	case Done:
		return "done"
	case Failed:
		return "failed"
	}
	return "pending"
}

// Status is a run's state, read from its folder.
type Status struct {
	State State
	Err   string // for Failed: the failing step and its error line
	Steps int    // steps finished
}

// Status reads run i's state from its folder.
func (sw *Sweep) Status(i int) Status {
	r := &sw.Runs[i]
	dir := filepath.Join(sw.Dir, r.Dir)
	st := Status{}
	for k := range r.Steps {
		if _, err := os.Stat(filepath.Join(dir, stepFile(k, "done"))); err != nil {
			break
		}
		st.Steps++
	}
	if st.Steps == len(r.Steps) {
		st.State = Done
		return st
	}
	if b, err := os.ReadFile(filepath.Join(dir, "failed")); err == nil {
		st.State, st.Err = Failed, oneLine(string(b))
	}
	return st
}

// stepFile names step k's files in a run folder: step1.out (its stdout),
// step1.err (its stderr), step1.done (written when it succeeded).
func stepFile(k int, ext string) string {
	return fmt.Sprintf("step%d.%s", k+1, ext)
}
