package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// File is a parsed sweep file.
type File struct {
	Path   string     // the file as named by the caller
	Name   string     // "name", or the file's base name without extension
	SHA256 string     // hex SHA-256 of the file's bytes
	Raw    []byte     // the file's bytes
	Steps  []Step     // the commands of one run, in order
	Axes   []Axis     // in the order of the file
	Zip    [][]string // groups of axes that move together
	Slurm  Slurm      // [slurm]: resources of each array task
}

// Step is one `latent` subcommand of a run: its words, each possibly holding
// {placeholders}.
type Step struct {
	Words []string
}

// Name is the step's subcommand ("train", "eval", ...).
func (s Step) Name() string {
	if len(s.Words) == 0 {
		return ""
	}
	return s.Words[0]
}

// Slurm holds the [slurm] table: what each array task asks for.
type Slurm struct {
	Partition  string   `toml:"partition"`
	Time       string   `toml:"time"`        // e.g. "00:30:00"
	CPUs       int      `toml:"cpus"`        // --cpus-per-task
	Mem        string   `toml:"mem"`         // e.g. "2G"
	MaxRunning int      `toml:"max_running"` // the array's %N throttle; 0: no limit
	Options    []string `toml:"options"`     // further #SBATCH lines, e.g. "--account=abc"
	Setup      []string `toml:"setup"`       // shell lines run before each task, e.g. "module load foo"
	Latent     string   `toml:"latent"`      // the latent executable on the nodes; default: this one
}

// Builtin placeholders, filled for every run without an axis.
var builtins = map[string]string{
	"index": "the run's number, from 0",
	"run":   "the run's folder (also the working directory of its steps)",
	"here":  "the folder of the sweep file",
}

// rawFile is the TOML layout of a sweep file.
type rawFile struct {
	Name  string                    `toml:"name"`
	Steps []any                     `toml:"steps"`
	Axes  map[string]toml.Primitive `toml:"axes"`
	Zip   [][]string                `toml:"zip"`
	Slurm Slurm                     `toml:"slurm"`
}

// ReadFile reads and parses the sweep file at path (see Parse).
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	return Parse(path, b)
}

// Parse parses a sweep file's bytes; path names it in errors. Every error is
// one line naming the file and, where it can, the key or the line at fault:
// an axis that no step uses, a placeholder that no axis fills, an empty axis,
// zip groups of unequal lengths, unknown keys.
func Parse(path string, b []byte) (*File, error) {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{path}, args...)...)
	}
	var raw rawFile
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&raw)
	if err != nil {
		if pe, ok := err.(toml.ParseError); ok {
			return nil, errf("line %d: %s", pe.Position.Line, oneLine(pe.Message))
		}
		return nil, errf("%s", oneLine(err.Error()))
	}
	sum := sha256.Sum256(b)
	f := &File{Path: path, Name: raw.Name, SHA256: hex.EncodeToString(sum[:]), Raw: b, Zip: raw.Zip, Slurm: raw.Slurm}
	if f.Name == "" {
		f.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	// Unknown keys (outside [axes], whose keys are the axis names) are mistakes.
	for _, k := range md.Undecoded() {
		if len(k) >= 2 && k[0] == "axes" {
			continue
		}
		return nil, errf("unknown key %q (keys: name, steps, axes, zip, slurm.{partition,time,cpus,mem,max_running,options,setup,latent})", k.String())
	}
	if f.Slurm.CPUs < 0 || f.Slurm.MaxRunning < 0 {
		return nil, errf("slurm: cpus and max_running must be >= 0")
	}

	// Steps: each a string (split into words like a shell, with quotes) or an array of words.
	if len(raw.Steps) == 0 {
		return nil, errf(`no steps: give steps = ["train MODEL --data SPEC ... --json", "eval ... --json"]`)
	}
	for i, s := range raw.Steps {
		var words []string
		switch v := s.(type) {
		case string:
			if words, err = splitWords(v); err != nil {
				return nil, errf("step %d: %v", i+1, err)
			}
		case []any:
			for _, w := range v {
				ws, ok := w.(string)
				if !ok {
					return nil, errf("step %d: word %v is not a string", i+1, w)
				}
				words = append(words, ws)
			}
		default:
			return nil, errf("step %d: want a string or an array of strings, got %T", i+1, s)
		}
		if len(words) > 0 && words[0] == "latent" {
			words = words[1:] // "latent train ..." and "train ..." mean the same
		}
		if len(words) == 0 {
			return nil, errf("step %d is empty", i+1)
		}
		if words[0] == "sweep" {
			return nil, errf("step %d: a sweep cannot run a sweep", i+1)
		}
		f.Steps = append(f.Steps, Step{Words: words})
	}

	// Axes, in the order they appear in the file.
	names := make([]string, 0, len(raw.Axes))
	for name := range raw.Axes {
		names = append(names, name)
	}
	order := map[string]int{}
	for i, k := range md.Keys() {
		if len(k) == 2 && k[0] == "axes" {
			order[k[1]] = i
		}
	}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	for _, name := range names {
		if !validName(name) {
			return nil, errf("axis %q: a name is letters, digits and _ (starting with a letter or _)", name)
		}
		if _, ok := builtins[name]; ok {
			return nil, errf("axis %q: the name is taken by the builtin placeholder {%s} (%s)", name, name, builtins[name])
		}
		var v any
		if err := md.PrimitiveDecode(raw.Axes[name], &v); err != nil {
			return nil, errf("axis %q: %v", name, err)
		}
		ax, err := parseAxis(name, v)
		if err != nil {
			return nil, errf("%v", err)
		}
		f.Axes = append(f.Axes, ax)
	}

	// Placeholders against axes, both ways.
	used := map[string]bool{}
	for i, s := range f.Steps {
		for _, w := range s.Words {
			ph, err := placeholders(w)
			if err != nil {
				return nil, errf("step %d: %v", i+1, err)
			}
			for _, p := range ph {
				used[p] = true
				if _, ok := builtins[p]; !ok && f.axis(p) == nil {
					return nil, errf("step %d uses {%s}, which no axis fills (axes: %s; builtins: {index}, {run}, {here})", i+1, p, f.axisNames())
				}
			}
		}
	}
	for _, a := range f.Axes {
		if !used[a.Name] {
			return nil, errf("axis %q appears in no step: put {%s} in a step or remove the axis", a.Name, a.Name)
		}
	}

	// Zip groups: known axes, each in one group, equal lengths.
	seen := map[string]bool{}
	for gi, g := range f.Zip {
		if len(g) < 2 {
			return nil, errf("zip group %d: name two or more axes to move together, got %v", gi+1, g)
		}
		for _, name := range g {
			a := f.axis(name)
			if a == nil {
				return nil, errf("zip group %d names %q, which is not an axis (axes: %s)", gi+1, name, f.axisNames())
			}
			if seen[name] {
				return nil, errf("zip: axis %q is in more than one group (or twice in one)", name)
			}
			seen[name] = true
			if first := f.axis(g[0]); len(a.Values) != len(first.Values) {
				return nil, errf("zip group %d: axis %q has %d values but %q has %d; zipped axes move together and need equal lengths",
					gi+1, name, len(a.Values), g[0], len(first.Values))
			}
		}
	}
	return f, nil
}

func (f *File) axis(name string) *Axis {
	for i := range f.Axes {
		if f.Axes[i].Name == name {
			return &f.Axes[i]
		}
	}
	return nil
}

// AxisNames returns the axis names in file order.
func (f *File) AxisNames() []string {
	out := make([]string, len(f.Axes))
	for i, a := range f.Axes {
		out[i] = a.Name
	}
	return out
}

func (f *File) axisNames() string {
	if len(f.Axes) == 0 {
		return "none"
	}
	return strings.Join(f.AxisNames(), ", ")
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// placeholders returns the {names} in w, in order. "{{" and "}}" stand for
// literal braces.
func placeholders(w string) ([]string, error) {
	var out []string
	_, err := substitute(w, func(name string) (string, bool) {
		out = append(out, name)
		return "", true
	})
	return out, err
}

// substitute replaces each {name} in w by value(name); "{{" and "}}" are
// literal braces. It fails on an unmatched brace, a bad name, or a name value
// does not know.
func substitute(w string, value func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '{' && i+1 < len(w) && w[i+1] == '{', c == '}' && i+1 < len(w) && w[i+1] == '}':
			b.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(w[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%q: unmatched { (write {{ for a literal brace)", w)
			}
			name := w[i+1 : i+end]
			if !validName(name) {
				return "", fmt.Errorf("%q: {%s} is not a placeholder name (letters, digits, _; write {{ for a literal brace)", w, name)
			}
			v, ok := value(name)
			if !ok {
				return "", fmt.Errorf("%q: no value for {%s}", w, name)
			}
			b.WriteString(v)
			i += end
		case c == '}':
			return "", fmt.Errorf("%q: unmatched } (write }} for a literal brace)", w)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// splitWords splits s into words at white space, as a shell does without
// expansions: '...' and "..." quote (a backslash escapes " and \ inside "...").
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unmatched ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unmatched \" in %q", s)
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	lines := slices.DeleteFunc(strings.Split(s, "\n"), func(l string) bool { return strings.TrimSpace(l) == "" })
	return strings.Join(lines, "; ")
}
