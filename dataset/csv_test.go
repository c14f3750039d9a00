package dataset

import (
	"bytes"
	"strings"
	"testing"
)

// TestCSVHeaderAndSeparator checks the header and separator logic on small
// tables whose reading is known: the rows kept, their values, and for bad
// first rows an error naming the file, the line and the column.
func TestCSVHeaderAndSeparator(t *testing.T) {
	for _, c := range []struct {
		what, text string
		o          CSVOptions
		rows, cols int
		vals       []float32 // nil: not checked
		errParts   []string  // non-nil: an error containing these
		source     string    // "" : not checked
	}{
		{what: "numbers", text: "1,2\n3,4\n", rows: 2, cols: 2, vals: []float32{1, 2, 3, 4},
			source: "t.csv: read 2 rows of 2 values, comma-separated; no header row"},
		{what: "header", text: "a,b\n1,2\n", rows: 1, cols: 2, vals: []float32{1, 2},
			source: "t.csv: read 1 rows of 2 values, comma-separated; header row skipped (a, b)"},
		{what: "UTF-8 BOM before numbers", text: "\xEF\xBB\xBF1,2\n3,4\n", rows: 2, cols: 2, vals: []float32{1, 2, 3, 4}},
		{what: "UTF-8 BOM before a header", text: "\xEF\xBB\xBFa,b\r\n1,2\r\n", rows: 1, cols: 2, vals: []float32{1, 2}},
		{what: "typo in the first row", text: "1,abc\n2,3\n", errParts: []string{"t.csv: line 1, column 2", `"abc" is not a number`, "column 1 (\"1\")", "header=true"}},
		{what: "typo after blank lines", text: "\n\n1,2,x3\n", errParts: []string{"line 3, column 3", `"x3"`}},
		{what: "empty field in the first row", text: "1,,3\n4,5,6\n", errParts: []string{"line 1, column 2: the field is empty"}},
		{what: "names in the last column", text: "1,2,cat\n3,4,dog\n", errParts: []string{"line 1, column 3", "set label=last"}},
		{what: "names in the last column, label=last", text: "1,2,cat\n3,4,dog\n", o: CSVOptions{Label: "last"}, rows: 2, cols: 2,
			source: "t.csv: read 2 rows of 2 values, comma-separated; no header row; labels from column 3, 2 classes"},
		{what: "pandas index header", text: ",a,b\n0,1.5,2\n1,3,4\n", rows: 2, cols: 3, vals: []float32{0, 1.5, 2, 1, 3, 4}},
		{what: "numeric header, header=true", text: "0,1\n2,3\n", o: CSVOptions{Header: "true"}, rows: 1, cols: 2, vals: []float32{2, 3}},
		{what: "header=false", text: "a,b\n1,2\n", o: CSVOptions{Header: "false"}, errParts: []string{"line 1, column 1", `"a" is not a finite number`}},
		{what: "tabs", text: "1\t2\n3\t4\n", rows: 2, cols: 2, vals: []float32{1, 2, 3, 4},
			source: "t.csv: read 2 rows of 2 values, tab-separated; no header row"},
		{what: "tabs with a header", text: "x\ty\n1\t2\n", rows: 1, cols: 2, vals: []float32{1, 2}},
		{what: "spaces", text: "  1 2   3\n4 5\t6  \n", rows: 2, cols: 3, vals: []float32{1, 2, 3, 4, 5, 6},
			source: "t.csv: read 2 rows of 3 values, space-separated; no header row"},
		{what: "spaces with a header", text: "x y\n1 2\n", rows: 1, cols: 2},
		{what: "semicolons", text: "a;b\n1;2\n3;4\n", rows: 2, cols: 2, vals: []float32{1, 2, 3, 4}},
		{what: "commas win a tie", text: "1,2\t3\n", errParts: []string{"line 1, column 2", `"2\t3" is not a number`, "comma-separated", "sep=tab"}},
		{what: "one column", text: "1\n2\n3\n", rows: 3, cols: 1},
		{what: "quoted comma in a tab file", text: "\"a,b\"\tc\n1\t2\n", rows: 1, cols: 2},
		{what: "sep=tab", text: "1\t2\n", o: CSVOptions{Sep: "tab"}, rows: 1, cols: 2},
		{what: "sep=comma on a tab file", text: "1\t2\n3\t4\n", o: CSVOptions{Sep: "comma"},
			errParts: []string{"line 1, column 1", `"1\t2" is not a number`, "comma-separated", "set sep=tab"}},
		{what: "sep=;", text: "1;2\n", o: CSVOptions{Sep: ";"}, rows: 1, cols: 2},
		{what: "sep=space", text: "1 2\n", o: CSVOptions{Sep: "space"}, rows: 1, cols: 2},
		{what: "bad sep", text: "1,2\n", o: CSVOptions{Sep: "pipe"}, errParts: []string{`sep="pipe"`, "comma, tab, semicolon or space"}},
		{what: "UTF-16", text: "\xFF\xFEa\x00", errParts: []string{"UTF-16", "UTF-8"}},
		{what: "only a header", text: "a,b\n", errParts: []string{"no data rows", `"a,b"`}},
		{what: "binary", text: "1,2\n\x00\x00", errParts: []string{"line 2: NUL byte", "not a text file"}},
	} {
		d, err := ReadCSV(strings.NewReader(c.text), "t.csv", int64(len(c.text)), c.o)
		if c.errParts != nil {
			wantErr(t, err, append([]string{"dataset: t.csv: "}, c.errParts...)...)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if d.Len() != c.rows || d.Dim() != c.cols {
			t.Errorf("%s: %d×%d, want %d×%d", c.what, d.Len(), d.Dim(), c.rows, c.cols)
			continue
		}
		if c.vals != nil {
			eqF(t, c.what, d.X.Data, c.vals)
		}
		if c.source != "" && d.Source != c.source {
			t.Errorf("%s: Source %q\nwant %q", c.what, d.Source, c.source)
		}
	}
}

// TestCSVSpecOptions checks that header= and sep= reach the reader from a spec.
func TestCSVSpecOptions(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "t.tsv", []byte("0\t1\n2\t3\n4\t5\n"))
	d, err := Load(p+":header=true,sep=tab", Options{})
	if err != nil || d.Len() != 2 {
		t.Fatalf("header=true,sep=tab: %v", err)
	}
	eqF(t, "header=true", d.X.Data, []float32{2, 3, 4, 5})
	if !strings.Contains(d.Source, "header row skipped (0, 1)") || !strings.Contains(d.Source, "read 2 rows") {
		t.Errorf("Source %q", d.Source)
	}
	_, err = Load(p+":sep=comma", Options{})
	wantErr(t, err, "t.tsv: line 1, column 1", "comma-separated", "sep=tab")
	ps := writeFile(t, dir, "s.csv", []byte("1;2\n"))
	if d, err := Load(ps+":sep=;", Options{}); err != nil || d.Dim() != 2 {
		t.Errorf("sep=;: %v", err)
	}
	_, err = Load(ps+":sep=x", Options{})
	wantErr(t, err, "s.csv", `sep="x"`)
}

// endless yields the same bytes forever.
type endless struct{ b []byte }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b[i%len(e.b)]
	}
	// Keep the pattern aligned across calls.
	n := len(p) - len(p)%len(e.b)
	if n == 0 {
		n = copy(p, e.b)
	}
	return n, nil
}

// TestCSVBounded checks that endless input ends in an error: zeros at the
// first NUL byte, an endless line at the line limit, endless rows at the byte
// limit (both lowered here so the test is quick).
func TestCSVBounded(t *testing.T) {
	_, err := ReadCSV(&endless{[]byte{0}}, "zero", unknownSize, CSVOptions{})
	wantErr(t, err, "dataset: zero: line 1: NUL byte at byte 1: binary data")
	defer func(b, l int64) { maxTextBytes, maxTextLine = b, l }(maxTextBytes, maxTextLine)
	maxTextBytes, maxTextLine = 1<<20, 1<<12
	_, err = ReadCSV(&endless{[]byte("1,")}, "line", unknownSize, CSVOptions{})
	wantErr(t, err, "dataset: line: line 1 is longer than 4096 bytes")
	_, err = ReadCSV(&endless{[]byte("1,2\n")}, "rows", unknownSize, CSVOptions{})
	wantErr(t, err, "dataset: rows: more than 1048576 bytes of text")
	_, err = ReadAmat(&endless{[]byte{0}}, "zero.amat", unknownSize)
	wantErr(t, err, "dataset: zero.amat: line 1: NUL byte")
	_, err = ReadAmat(&endless{[]byte("1 ")}, "line.amat", unknownSize)
	wantErr(t, err, "dataset: line.amat: line 1 is longer than 4096 bytes")
	_, err = ReadAmat(&endless{[]byte("1 0\n")}, "rows.amat", unknownSize)
	wantErr(t, err, "dataset: rows.amat: more than 1048576 bytes of text")
}

// A BOM never changes what a table reads as.
func TestCSVBOMInvariant(t *testing.T) {
	for _, s := range csvSeeds() {
		if strings.HasPrefix(s, "\xEF\xBB\xBF") || strings.HasPrefix(s, "\xFF\xFE") {
			continue
		}
		a, errA := ReadCSV(strings.NewReader(s), "f.csv", -1, CSVOptions{})
		b, errB := ReadCSV(bytes.NewReader(append([]byte("\xEF\xBB\xBF"), s...)), "f.csv", -1, CSVOptions{})
		if (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
			t.Errorf("%q: %v vs %v with a BOM", s, errA, errB)
		} else if errA == nil && (a.Len() != b.Len() || a.Dim() != b.Dim()) {
			t.Errorf("%q: %d×%d vs %d×%d with a BOM", s, a.Len(), a.Dim(), b.Len(), b.Dim())
		}
	}
}
