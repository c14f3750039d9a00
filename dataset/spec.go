package dataset

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options controls where Load finds files and how generators are seeded.
type Options struct {
	// DataDir is a folder of already downloaded files. When empty, the environment
	// variable LATENT_DATA is used, and then the download cache (see CacheDir).
	DataDir string
	// Seed seeds the generated data sets (bars with n=, ising, shapes) unless the
	// spec names its own seed=.
	Seed uint64
	// Download lets Load fetch a named data set that is not found locally.
	// By default Load never touches the network and says how to get the files.
	Download bool
	// Stdin is what the spec "-" reads; nil means os.Stdin.
	Stdin io.Reader
	// PipeWait is how long Load waits for a writer to a named pipe (FIFO)
	// before it gives up with an error: 0 means 10 s, negative forever.
	PipeWait time.Duration
}

// Spec is a parsed dataset specification:
//
//	name[:arg][,key=value...]     e.g. mnist:test, bars:4, ising:L=16,T=2.27,n=20000
//	path[:key=value...]           e.g. data/x.npy, table.csv:label=last
//
// Arg is the split of a named data set (train, test, valid) or the size of a
// generator (bars:4). Options may follow the colon or a comma.
type Spec struct {
	Name string            // data set name or file path
	Arg  string            // split or size, "" when absent
	Opts map[string]string // key=value options
	keys []string          // option keys in the order given
}

// ParseSpec parses a dataset spec. It checks the syntax and, for a spec that
// holds ':' or ',', which files exist; Load checks the names and options.
//
// An existing path is a path: when the whole spec names an existing file or
// folder ("run:1.npy", "./a,b.npy", "/data/x:y.csv"), it is the name and there
// are no options; otherwise, unless the text before the first ':' or ',' is a
// data set or generator name, the longest prefix that ends before a ':' or ','
// and names an existing file or folder is the name and options follow it
// ("run:1.npy:scale=255").
func ParseSpec(spec string) (*Spec, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("dataset: empty data spec")
	}
	// The name ends at the first ':' or ','. A Windows drive letter ("C:\...") is
	// part of the name.
	start := 0
	if len(s) >= 3 && isDriveLetter(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/') {
		start = 2
	}
	cut := strings.IndexAny(s[start:], ":,")
	if cut >= 0 {
		cut += start
		if exists(s) {
			return &Spec{Name: s, Opts: map[string]string{}}, nil
		}
		if _, gen := generators[s[:cut]]; !gen && lookupNamed(s[:cut]) == nil {
			for i := len(s) - 1; i > cut; i-- {
				if (s[i] == ':' || s[i] == ',') && exists(s[:i]) {
					cut = i
					break
				}
			}
		}
	}
	name, rest := s, ""
	if cut >= 0 {
		name, rest = s[:cut], s[cut+1:]
	}
	if name == "" {
		return nil, fmt.Errorf("dataset: spec %q: missing data set name", spec)
	}
	sp := &Spec{Name: name, Opts: map[string]string{}}
	if cut >= 0 && rest == "" {
		return nil, fmt.Errorf("dataset: spec %q: nothing after %q", spec, s[cut:cut+1])
	}
	if rest == "" {
		return sp, nil
	}
	for i, item := range strings.Split(rest, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("dataset: spec %q: empty option", spec)
		}
		k, v, isOpt := strings.Cut(item, "=")
		if !isOpt {
			if i != 0 {
				return nil, fmt.Errorf("dataset: spec %q: %q is not key=value", spec, item)
			}
			sp.Arg = item
			continue
		}
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, fmt.Errorf("dataset: spec %q: option %q has no key", spec, item)
		}
		if _, dup := sp.Opts[k]; dup {
			return nil, fmt.Errorf("dataset: spec %q: option %q given twice", spec, k)
		}
		sp.Opts[k] = strings.TrimSpace(v)
		sp.keys = append(sp.keys, k)
	}
	return sp, nil
}

// isDriveLetter reports whether c can be a Windows drive letter.
func isDriveLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// exists reports whether p names an existing file or folder.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// String formats the spec back into its canonical text form.
func (sp *Spec) String() string {
	var b strings.Builder
	b.WriteString(sp.Name)
	sep := ":"
	if sp.Arg != "" {
		b.WriteString(":" + sp.Arg)
		sep = ","
	}
	keys := sp.keys
	if len(keys) != len(sp.Opts) {
		keys = keys[:0:0]
		for k := range sp.Opts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	for _, k := range keys {
		b.WriteString(sep + k + "=" + sp.Opts[k])
		sep = ","
	}
	return b.String()
}

// checkOpts reports an error for any option not in allowed.
func (sp *Spec) checkOpts(allowed ...string) error {
	for _, k := range sp.keys {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			if len(allowed) == 0 {
				return fmt.Errorf("dataset: %s: unknown option %q (it takes none)", sp.Name, k)
			}
			return fmt.Errorf("dataset: %s: unknown option %q (known: %s)", sp.Name, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func (sp *Spec) intOpt(key string, def, min, max int) (int, error) {
	v, ok := sp.Opts[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("dataset: %s: option %s=%q is not an integer", sp.Name, key, v)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("dataset: %s: option %s=%d out of range [%d, %d]", sp.Name, key, n, min, max)
	}
	return n, nil
}

func (sp *Spec) floatOpt(key string, def, min, max float64) (float64, error) {
	v, ok := sp.Opts[key]
	if !ok {
		return def, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x != x {
		return 0, fmt.Errorf("dataset: %s: option %s=%q is not a number", sp.Name, key, v)
	}
	if x < min || x > max {
		return 0, fmt.Errorf("dataset: %s: option %s=%g out of range [%g, %g]", sp.Name, key, x, min, max)
	}
	return x, nil
}

func (sp *Spec) seed(opt Options) (uint64, error) {
	v, ok := sp.Opts["seed"]
	if !ok {
		return opt.Seed, nil
	}
	s, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("dataset: %s: option seed=%q is not a non-negative integer", sp.Name, v)
	}
	return s, nil
}

// generators maps the built-in generated data sets to their loaders.
var generators = map[string]func(sp *Spec, opt Options) (*Dataset, error){
	"bars":   loadBars,
	"ising":  loadIsing,
	"shapes": loadShapes,
}

// Load loads the data set named by spec (see ParseSpec): a named data set
// (mnist, fashion-mnist, binarized-mnist, optdigits; see List), a generator
// (bars:N, ising:L=..,T=..,n=.., shapes) or a file (.npy, .npz, .csv, .amat,
// IDX, optionally gzipped) or a folder of PNG images. The returned Dataset's
// Name is the spec as given.
//
// "-" reads standard input (Options.Stdin): CSV, .npy, IDX or amat, gzipped
// or not, told by the option format=csv|npy|idx|amat or else by the first
// bytes (CSV when they are not a .npy, gzip or IDX header), e.g. "-",
// "-:format=npy", "-:sep=tab,label=last". Pipes, FIFOs and devices named by
// path are read the same way; an .npz archive needs a regular file.
func Load(spec string, opt Options) (*Dataset, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	rows, hasRows, err := sp.takeRows()
	if err != nil {
		return nil, err
	}
	var d *Dataset
	if sp.Name == "-" {
		d, err = loadStdin(sp, opt)
	} else if gen, ok := generators[sp.Name]; ok {
		d, err = gen(sp, opt)
	} else if nd := lookupNamed(sp.Name); nd != nil {
		d, err = loadNamed(nd, sp, opt)
	} else if looksLikePath(sp.Name) {
		d, err = loadPath(sp, opt)
	} else {
		names := []string{}
		for _, n := range named {
			names = append(names, n.Name)
		}
		for g := range generators {
			names = append(names, g)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("dataset: unknown data set %q (known: %s; or a path to a .npy, .npz, .csv, .amat or IDX file or a folder of PNG images)",
			sp.Name, strings.Join(names, ", "))
	}
	if err != nil {
		return nil, err
	}
	d.Name = strings.TrimSpace(spec)
	if hasRows {
		return rows.apply(d)
	}
	return d, nil
}

// looksLikePath reports whether name should be read as a file path.
func looksLikePath(name string) bool {
	if strings.ContainsAny(name, `/\`) {
		return true
	}
	if _, err := os.Stat(name); err == nil {
		return true
	}
	switch strings.ToLower(filepath.Ext(strings.TrimSuffix(name, ".gz"))) {
	case ".npy", ".npz", ".csv", ".amat", ".idx", ".png":
		return true
	}
	return strings.Contains(name, "-ubyte")
}
