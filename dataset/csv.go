package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/tensor"
)

// CSVOptions controls ReadCSV. The zero value detects the header and the
// separator and reads no labels.
type CSVOptions struct {
	// Header says whether the first row names the columns: "" or "auto",
	// "yes" (or "true", "1"), "no" (or "false", "0"). With auto, the first row
	// is a header when none of its fields (outside a label column given by
	// position) is a number, and data when all of them are; a first row mixing
	// numbers and other text is an error naming the line and the column, since
	// it is most likely a typo, not a header.
	Header string
	// Sep is the field separator: "" or "auto", "comma" (or ","), "tab" (or
	// "\t"), "semicolon" (or ";"), "space" (runs of spaces and tabs). Auto
	// takes the most frequent of comma, tab and semicolon (outside quotes) on
	// the first non-blank line, ties going in that order, and runs of spaces
	// when none of them appears.
	Sep string
	// Label names the label column: "" or "none" (no labels), "first", "last",
	// a 0-based column index, or a header name. Integer labels are used as
	// class numbers; other labels are numbered in sorted order (ClassNames).
	Label string
}

// ReadCSV reads a table of numbers (gzip-compressed or raw, UTF-8 with or
// without a byte-order mark): one example per row, every row with the same
// number of columns, no NaN or Inf. size is the number of bytes r holds, or -1
// when unknown. The result's Source says how many rows were read, the
// separator and whether a header row was skipped. Input is bounded: a NUL byte
// (binary data), a line over 256 MiB or more than 32 GiB of text is an error.
func ReadCSV(r io.Reader, name string, size int64, o CSVOptions) (*Dataset, error) {
	s, err := newSource(r, name, size, false)
	if err != nil {
		return nil, err
	}
	return readCSV(s, o)
}

// csvSep is a resolved separator; ' ' stands for runs of spaces and tabs.
type csvSep rune

func (c csvSep) String() string {
	switch c {
	case ',':
		return "comma"
	case '\t':
		return "tab"
	case ';':
		return "semicolon"
	}
	return "space"
}

func parseSep(name, v string) (csvSep, bool, error) {
	switch strings.ToLower(v) {
	case "", "auto":
		return 0, true, nil
	case "comma", ",":
		return ',', false, nil
	case "tab", "\t", `\t`:
		return '\t', false, nil
	case "semicolon", ";":
		return ';', false, nil
	case "space", " ", "whitespace":
		return ' ', false, nil
	}
	return 0, false, ferr(name, "option sep=%q: want auto, comma, tab, semicolon or space", v)
}

// detectSep picks the separator from the first non-blank line of head (see
// CSVOptions.Sep).
func detectSep(head []byte) csvSep {
	var line []byte
	for len(head) > 0 {
		l := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			l, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if len(bytes.TrimSpace(l)) > 0 {
			line = l
			break
		}
	}
	var nc, nt, ns int
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			nc++
		case c == '\t':
			nt++
		case c == ';':
			ns++
		}
	}
	switch {
	case nc > 0 && nc >= nt && nc >= ns:
		return ','
	case nt > 0 && nt >= ns:
		return '\t'
	case ns > 0:
		return ';'
	case bytes.ContainsAny(bytes.TrimSpace(line), " "):
		return ' '
	}
	return ','
}

// sepHint is appended to errors about a field that is not a number when the
// field holds a character that separates fields in other files.
func sepHint(f string, sep csvSep) string {
	for _, c := range []csvSep{',', '\t', ';', ' '} {
		if c != sep && strings.ContainsRune(f, rune(c)) {
			return fmt.Sprintf(" (fields are %s-separated; set sep=tab, space, semicolon or comma if this file uses another separator)", sep)
		}
	}
	return ""
}

// joinedNumbers reports whether f is two or more numbers separated by a
// separator other than sep.
func joinedNumbers(f string, sep csvSep) bool {
	for _, c := range []csvSep{',', '\t', ';', ' '} {
		if c == sep || !strings.ContainsRune(f, rune(c)) {
			continue
		}
		var parts []string
		if c == ' ' {
			parts = strings.Fields(f)
		} else {
			parts = strings.Split(f, string(rune(c)))
		}
		all := len(parts) > 1
		for _, p := range parts {
			all = all && isNumber(strings.TrimSpace(p))
		}
		if all {
			return true
		}
	}
	return false
}

func quoteField(f string) string {
	if len(f) > 20 {
		f = f[:20] + "..."
	}
	return strconv.Quote(f)
}

func isNumber(f string) bool {
	_, err := strconv.ParseFloat(f, 64)
	return err == nil
}

// labelPos is the label column given by position (first, last, an index), or
// -1 when there is none or it is given by a header name.
func labelPos(label string, cols int) int {
	switch label {
	case "first":
		return 0
	case "last":
		return cols - 1
	}
	if k, err := strconv.Atoi(label); err == nil {
		return k
	}
	return -1
}

var (
	utf8BOM  = []byte{0xEF, 0xBB, 0xBF}
	utf16BOM = [][]byte{{0xFF, 0xFE}, {0xFE, 0xFF}}
)

func readCSV(s *source, o CSVOptions) (*Dataset, error) {
	name := s.name
	var header string
	switch strings.ToLower(o.Header) {
	case "", "auto":
		header = "auto"
	case "yes", "true", "1":
		header = "yes"
	case "no", "false", "0":
		header = "no"
	default:
		return nil, ferr(name, "option header=%q: want auto, yes (true) or no (false)", o.Header)
	}
	sep, autoSep, err := parseSep(name, o.Sep)
	if err != nil {
		return nil, err
	}
	// A byte-order mark is not part of the first field.
	if b, _ := s.br.Peek(3); bytes.HasPrefix(b, utf8BOM) {
		s.br.Discard(3)
	} else {
		for _, m := range utf16BOM {
			if bytes.HasPrefix(b, m) {
				return nil, ferr(name, "UTF-16 text; save the file as UTF-8")
			}
		}
	}
	if autoSep {
		head, _ := s.br.Peek(readChunk)
		sep = detectSep(head)
	}
	cr := csv.NewReader(&textGuard{r: s.br, name: name, tabsToSpaces: sep == ' '})
	cr.Comma = rune(sep)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
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
			var te *textErr
			if errors.As(err, &te) {
				return nil, te
			}
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
		if sep == ' ' && len(rec) > 1 && rec[len(rec)-1] == "" {
			rec = rec[:len(rec)-1] // trailing spaces
		}
		if cols < 0 {
			cols, firstLn = len(rec), line
			isHeader := header == "yes"
			if header == "auto" {
				if isHeader, err = csvIsHeader(name, line, rec, o.Label, sep); err != nil {
					return nil, err
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
		if int64(len(data))+int64(cols) > maxValues {
			return nil, ferr(name, "line %d: more than %d values", line, int64(maxValues))
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
				return nil, ferr(name, "line %d, column %d: %s is not a finite number%s", line, j+1, quoteField(f), sepHint(f, sep))
			}
			data = append(data, float32(v))
		}
		rows++
	}
	if rows == 0 {
		if names != nil {
			return nil, ferr(name, "no data rows (only the header row %s)", quoteField(strings.Join(names, string(rune(sep)))))
		}
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
	ds.Source = csvSource(name, rows, d, sep, names, labCol, ds.NumClasses)
	return ds, nil
}

// csvIsHeader decides whether the first row rec (on line) is a header: no
// field outside a positional label column is a number. Data has only numbers
// there; a mix is an error.
func csvIsHeader(name string, line int, rec []string, label string, sep csvSep) (bool, error) {
	skip := labelPos(label, len(rec))
	num, txt := -1, -1 // the first numeric and the first non-numeric column
	for j, f := range rec {
		if j == skip {
			continue
		}
		if isNumber(strings.TrimSpace(f)) {
			if num < 0 {
				num = j
			}
		} else if txt < 0 {
			txt = j
		}
	}
	if txt < 0 {
		return false, nil
	}
	// A field of numbers joined by another separator ("1\t2" when reading
	// commas) means the separator is wrong, not that the row is a header.
	for j, f := range rec {
		if j != skip && joinedNumbers(strings.TrimSpace(f), sep) {
			return false, ferr(name, "line %d, column %d: %s is not a number%s", line, j+1, quoteField(strings.TrimSpace(f)), sepHint(f, sep))
		}
	}
	if num < 0 {
		return true, nil
	}
	f := strings.TrimSpace(rec[txt])
	what := quoteField(f) + " is not a number"
	if f == "" {
		what = "the field is empty"
	}
	hint := sepHint(f, sep)
	if hint == "" && (label == "" || label == "none") && (txt == 0 || txt == len(rec)-1) {
		pos := "first"
		if txt == len(rec)-1 {
			pos = "last"
		}
		hint = fmt.Sprintf(" (if column %d holds class labels, set label=%s)", txt+1, pos)
	}
	return false, ferr(name, "line %d, column %d: %s, but column %d (%s) is: the first row is neither a header (no numbers) nor data (all numbers)%s; fix the file, or set header=true or header=false",
		line, txt+1, what, num+1, quoteField(strings.TrimSpace(rec[num])), hint)
}

// csvSource describes a CSV read in one line for people.
func csvSource(name string, rows, d int, sep csvSep, names []string, labCol, classes int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: read %d rows of %d values, %s-separated", name, rows, d, sep)
	if names != nil {
		shown := names
		if len(shown) > 6 {
			shown = append(append([]string{}, shown[:5]...), "...")
		}
		fmt.Fprintf(&b, "; header row skipped (%s)", strings.Join(shown, ", "))
	} else {
		b.WriteString("; no header row")
	}
	if labCol >= 0 {
		fmt.Fprintf(&b, "; labels from column %d", labCol+1)
		if names != nil {
			fmt.Fprintf(&b, " (%s)", quoteField(names[labCol]))
		}
		fmt.Fprintf(&b, ", %d classes", classes)
	}
	return b.String()
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
