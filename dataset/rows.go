package dataset

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/latent-ml/latent/tensor"
)

// rowRange is the rows=LO:HI[:STEP] option every data set takes: the examples
// LO to HI−1 (0-based, half-open as a Python slice; HI may be left out for "to
// the end"), every STEP-th of them from LO when STEP is given (rows=0:10000:50,
// 200 test images spread over the whole set). rows=@FILE takes the examples
// whose 0-based indices FILE lists instead, in its order (the subset another
// paper evaluated on, say).
type rowRange struct {
	lo, hi int // hi < 0: to the end
	step   int // ≥ 1
	list   []int
	file   string // the file list came from, "" for LO:HI
}

// maxIndexFile bounds the size of a rows=@FILE index list.
const maxIndexFile = 64 << 20

// readIndexFile reads a regular file of at most maxIndexFile bytes (not a
// device or pipe that never ends).
func readIndexFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIndexFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxIndexFile {
		return nil, fmt.Errorf("more than an index list's %d MiB", maxIndexFile>>20)
	}
	return b, nil
}

// ParseIndexList reads 0-based example indices separated by white space or
// commas; lines starting with # are comments. It reports the first token that
// is not a non-negative integer with its line number, and an empty list; the
// caller names the file.
func ParseIndexList(text string) ([]int, error) {
	var idx []int
	for ln, line := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			i, err := strconv.Atoi(f)
			if err != nil || i < 0 {
				return nil, fmt.Errorf("line %d: %q is not a 0-based example index", ln+1, f)
			}
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("no example indices in it")
	}
	return idx, nil
}

// takeRows removes the rows option from sp and parses it; ok is false when the
// spec has none.
func (sp *Spec) takeRows() (r rowRange, ok bool, err error) {
	v, ok := sp.Opts["rows"]
	if !ok {
		return r, false, nil
	}
	delete(sp.Opts, "rows")
	sp.keys = slices.DeleteFunc(sp.keys, func(k string) bool { return k == "rows" })
	if file, ok := strings.CutPrefix(v, "@"); ok {
		r.file = file
		b, err := readIndexFile(file)
		if err != nil {
			return r, true, fmt.Errorf("dataset: %s: option rows=@%s: %w", sp.Name, file, err)
		}
		if r.list, err = ParseIndexList(string(b)); err != nil {
			return r, true, fmt.Errorf("dataset: %s: option rows=@%s: %w", sp.Name, file, err)
		}
		return r, true, nil
	}
	a, b, colon := strings.Cut(v, ":")
	bad := func() error {
		return fmt.Errorf("dataset: %s: option rows=%q is not LO:HI or LO:HI:STEP (0-based examples LO to HI−1, every STEP-th, e.g. rows=0:50000, rows=50000: or rows=0:10000:50; or rows=@FILE, a file of indices)", sp.Name, v)
	}
	if !colon {
		return r, true, bad()
	}
	r.lo, r.hi, r.step = 0, -1, 1
	if hiStr, stepStr, ok := strings.Cut(b, ":"); ok {
		if r.step, err = strconv.Atoi(strings.TrimSpace(stepStr)); err != nil || r.step < 1 {
			return r, true, bad()
		}
		b = hiStr
	}
	if a = strings.TrimSpace(a); a != "" {
		if r.lo, err = strconv.Atoi(a); err != nil || r.lo < 0 {
			return r, true, bad()
		}
	}
	if b = strings.TrimSpace(b); b != "" {
		if r.hi, err = strconv.Atoi(b); err != nil || r.hi <= r.lo {
			return r, true, bad()
		}
	}
	return r, true, nil
}

// Slice returns the examples lo to hi−1 of d as a new data set (the values are
// copied; labels, factors and the image shape go with them). It returns an error
// when the range is empty or runs past the end.
func (d *Dataset) Slice(lo, hi int) (*Dataset, error) {
	if lo < 0 || hi <= lo || hi > d.Len() {
		return nil, fmt.Errorf("dataset: %s: rows %d:%d outside its %d examples", d.Name, lo, hi, d.Len())
	}
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	return d.pick(idx), nil
}

// apply cuts d to the range.
func (r rowRange) apply(d *Dataset) (*Dataset, error) {
	if r.list != nil {
		for _, i := range r.list {
			if i >= d.Len() {
				return nil, fmt.Errorf("dataset: %s: option rows=@%s lists example %d, past its %d examples", d.Name, r.file, i, d.Len())
			}
		}
		return d.pick(r.list), nil
	}
	hi := r.hi
	if hi < 0 {
		hi = d.Len()
	}
	if r.lo >= d.Len() || hi > d.Len() {
		return nil, fmt.Errorf("dataset: %s: option rows=%d:%s runs past its %d examples", d.Name, r.lo, rowsEnd(r.hi), d.Len())
	}
	var idx []int
	for i := r.lo; i < hi; i += max(r.step, 1) {
		idx = append(idx, i)
	}
	return d.pick(idx), nil
}

// pick returns the examples idx of d, in that order, as a new data set (values
// copied; labels, factors and the image shape go with them).
func (d *Dataset) pick(idx []int) *Dataset {
	s := *d
	s.X = tensor.New(len(idx), d.X.Cols)
	if d.Labels != nil {
		s.Labels = make([]int, len(idx))
	}
	if d.Factors != nil {
		s.Factors = tensor.New(len(idx), d.Factors.Cols)
	}
	for k, i := range idx {
		copy(s.X.Row(k), d.X.Row(i))
		if d.Labels != nil {
			s.Labels[k] = d.Labels[i]
		}
		if d.Factors != nil {
			copy(s.Factors.Row(k), d.Factors.Row(i))
		}
	}
	return &s
}

func rowsEnd(hi int) string {
	if hi < 0 {
		return ""
	}
	return strconv.Itoa(hi)
}
