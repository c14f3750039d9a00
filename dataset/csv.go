package dataset

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/tensor"
)

// CSVOptions controls ReadCSV.
type CSVOptions struct {
	// Header is "auto" or "" (the first row is a header when any of its fields
	// is not a number), "yes" or "no".
	Header string
	// Label names the label column: "" or "none" (no labels), "first", "last",
	// a 0-based column index, or a header name. Integer labels are used as
	// class numbers; other labels are numbered in sorted order (ClassNames).
	Label string
}

// ReadCSV reads a table of numbers (gzip-compressed or raw): one example per
// row, every row with the same number of columns, no NaN or Inf. size is the
// number of bytes r holds, or -1 when unknown.
func ReadCSV(r io.Reader, name string, size int64, o CSVOptions) (*Dataset, error) {
	s, err := newSource(r, name, size, false)
	if err != nil {
		return nil, err
	}
	return readCSV(s, o)
}

func readCSV(s *source, o CSVOptions) (*Dataset, error) {
	name := s.name
	cr := csv.NewReader(s.r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	var header string
	switch strings.ToLower(o.Header) {
	case "", "auto":
		header = "auto"
	case "yes", "true", "1":
		header = "yes"
	case "no", "false", "0":
		header = "no"
	default:
		return nil, ferr(name, "option header=%q: want auto, yes or no", o.Header)
	}
	var (
		data    []float32
		labels  []string
		names   []string
		cols    = -1
		labCol  = -1
		rows    int
		firstLn int
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, ferr(name, "line %d: %v", pe.Line, pe.Err)
			}
			return nil, ferr(name, "%v", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if cols < 0 {
			cols, firstLn = len(rec), line
			isHeader := header == "yes"
			if header == "auto" {
				// A header has a field that is not a number outside the label
				// column (labels may be names).
				skip := -1
				switch o.Label {
				case "", "none":
				case "first":
					skip = 0
				case "last":
					skip = cols - 1
				default:
					if k, err := strconv.Atoi(o.Label); err == nil {
						skip = k
					}
				}
				for j, f := range rec {
					if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil && j != skip {
						isHeader = true
						break
					}
				}
			}
			if isHeader {
				names = make([]string, len(rec))
				for i, f := range rec {
					names[i] = strings.TrimSpace(f)
				}
			}
			if labCol, err = labelColumn(name, o.Label, cols, names); err != nil {
				return nil, err
			}
			if labCol >= 0 && cols == 1 {
				return nil, ferr(name, "the label column is the only column")
			}
			if isHeader {
				continue
			}
		}
		if len(rec) != cols {
			return nil, ferr(name, "line %d has %d columns but line %d has %d (ragged rows)", line, len(rec), firstLn, cols)
		}
		if len(data)+cols > cap(data) {
			data = slices.Grow(data, min(max(len(data), 1024), allocChunk))
		}
		for j, f := range rec {
			f = strings.TrimSpace(f)
			if j == labCol {
				labels = append(labels, f)
				continue
			}
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
				if len(f) > 20 {
					f = f[:20] + "..."
				}
				return nil, ferr(name, "line %d, column %d: %q is not a finite number", line, j+1, f)
			}
			data = append(data, float32(v))
		}
		rows++
	}
	if rows == 0 {
		return nil, ferr(name, "no data rows")
	}
	d := cols
	if labCol >= 0 {
		d--
	}
	ds := &Dataset{X: tensor.FromSlice(rows, d, data[:rows*d:rows*d])}
	if labCol >= 0 {
		var err error
		ds.Labels, ds.ClassNames, err = classLabels(name, labels)
		if err != nil {
			return nil, err
		}
		ds.NumClasses = numClasses(ds.Labels)
		if ds.ClassNames != nil {
			ds.NumClasses = len(ds.ClassNames)
		}
	}
	ds.Binary = isBinary(ds.X.Data)
	return ds, nil
}

func labelColumn(name, label string, cols int, names []string) (int, error) {
	switch label {
	case "", "none":
		return -1, nil
	case "first":
		return 0, nil
	case "last":
		return cols - 1, nil
	}
	if k, err := strconv.Atoi(label); err == nil {
		if k < 0 || k >= cols {
			return 0, ferr(name, "option label=%d: the file has columns 0..%d", k, cols-1)
		}
		return k, nil
	}
	for i, n := range names {
		if n == label {
			return i, nil
		}
	}
	if names == nil {
		return 0, ferr(name, "option label=%q: no header row to find it in (use first, last or a column index)", label)
	}
	return 0, ferr(name, "option label=%q: no such column (header: %s)", label, strings.Join(names, ", "))
}

// classLabels turns label strings into class numbers: integers as they are,
// anything else numbered in sorted order of the distinct names.
func classLabels(name string, ls []string) ([]int, []string, error) {
	out := make([]int, len(ls))
	allInt := true
	for i, l := range ls {
		k, err := strconv.Atoi(l)
		if err != nil || k < 0 || k > 1<<24 {
			allInt = false
			break
		}
		out[i] = k
	}
	if allInt {
		return out, nil, nil
	}
	set := map[string]int{}
	for _, l := range ls {
		set[l] = 0
	}
	if len(set) > 1<<16 {
		return nil, nil, ferr(name, "the label column has %d distinct values (not class labels?)", len(set))
	}
	names := make([]string, 0, len(set))
	for l := range set {
		names = append(names, l)
	}
	sort.Strings(names)
	for i, n := range names {
		set[n] = i
	}
	for i, l := range ls {
		out[i] = set[l]
	}
	return out, names, nil
}
