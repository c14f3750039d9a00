package dataset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/tensor"
)

// rowRange is the rows=LO:HI[:STEP] option every data set takes: the examples
// LO to HI−1 (0-based, half-open as a Python slice; HI may be left out for "to
// the end"), every STEP-th of them from LO when STEP is given (rows=0:10000:50,
// 200 test images spread over the whole set).
type rowRange struct {
	lo, hi int // hi < 0: to the end
	step   int // ≥ 1
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
	a, b, colon := strings.Cut(v, ":")
	bad := func() error {
		return fmt.Errorf("dataset: %s: option rows=%q is not LO:HI or LO:HI:STEP (0-based examples LO to HI−1, every STEP-th, e.g. rows=0:50000, rows=50000: or rows=0:10000:50)", sp.Name, v)
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
