package dataset

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestRowsOption(t *testing.T) {
	all, err := Load("bars:3", Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := all.Len()
	for _, c := range []struct {
		spec   string
		lo, hi int
	}{{"bars:3,rows=0:4", 0, 4}, {"bars:3,rows=5:", 5, n}, {"bars:3,rows=:3", 0, 3}, {"bars:3,rows=2:" + strconv.Itoa(n), 2, n}} {
		d, err := Load(c.spec, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if d.Len() != c.hi-c.lo || d.Dim() != all.Dim() || d.Height != 3 || d.Name != c.spec {
			t.Fatalf("%s: %d×%d %dx%d %q", c.spec, d.Len(), d.Dim(), d.Height, d.Width, d.Name)
		}
		for i := 0; i < d.Len(); i++ {
			if d.Labels[i] != all.Labels[c.lo+i] {
				t.Fatalf("%s: label %d", c.spec, i)
			}
			for j, v := range d.X.Row(i) {
				if v != all.X.At(c.lo+i, j) {
					t.Fatalf("%s: row %d differs from row %d of the whole set", c.spec, i, c.lo+i)
				}
			}
		}
	}
	// Every STEP-th example: rows=1:9:3 is examples 1, 4, 7; rows=0::5 every fifth.
	for spec, want := range map[string][]int{"bars:3,rows=1:9:3": {1, 4, 7}, "bars:3,rows=0::5": nil, "bars:3,rows=2:3:1": {2}} {
		if want == nil {
			for i := 0; i < n; i += 5 {
				want = append(want, i)
			}
		}
		d, err := Load(spec, Options{})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if d.Len() != len(want) || d.Dim() != all.Dim() || d.Height != 3 {
			t.Fatalf("%s: %d examples, want %d", spec, d.Len(), len(want))
		}
		for k, i := range want {
			if d.Labels[k] != all.Labels[i] {
				t.Fatalf("%s: label %d is not example %d's", spec, k, i)
			}
			for j, v := range d.X.Row(k) {
				if v != all.X.At(i, j) {
					t.Fatalf("%s: row %d differs from example %d", spec, k, i)
				}
			}
		}
	}
	for spec, want := range map[string]string{
		"bars:3,rows=0:4:0":                    "is not LO:HI",
		"bars:3,rows=0:4:x":                    "is not LO:HI",
		"bars:3,rows=0:4:-2":                   "is not LO:HI",
		"bars:3,rows=0:4:1:2":                  "is not LO:HI",
		"bars:3,rows=0:1000:7":                 "runs past its",
		"bars:3,rows=4":                        "is not LO:HI",
		"bars:3,rows=a:4":                      "is not LO:HI",
		"bars:3,rows=4:4":                      "is not LO:HI",
		"bars:3,rows=-1:4":                     "is not LO:HI",
		"bars:3,rows=0:1000":                   "runs past its",
		"bars:3,rows=" + strconv.Itoa(n) + ":": "runs past its",
		"bars:3,rows=0:2,rows=0:3":             "given twice",
	} {
		if _, err := Load(spec, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error with %q", spec, err, want)
		}
	}
}

// rows=@FILE picks the listed examples in the file's order; a bad list is one
// error naming the file and, for a bad token, its line.
func TestRowsIndexFile(t *testing.T) {
	all, err := Load("bars:3", Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("idx.txt", "# three examples, out of order, one twice\n7, 2\n\n0 7\n")
	d, err := Load("bars:3,rows=@"+p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{7, 2, 0, 7}
	if d.Len() != len(want) || d.Height != 3 {
		t.Fatalf("%d examples, want %d", d.Len(), len(want))
	}
	for k, i := range want {
		if d.Labels[k] != all.Labels[i] {
			t.Fatalf("label %d is not example %d's", k, i)
		}
		for j, v := range d.X.Row(k) {
			if v != all.X.At(i, j) {
				t.Fatalf("row %d differs from example %d", k, i)
			}
		}
	}
	for text, msg := range map[string]string{
		"1\n2 x\n":                         "line 2: \"x\"",
		"1 -3":                             "\"-3\" is not",
		"# nothing\n\n":                    "no example indices",
		"1 " + strconv.Itoa(all.Len()+5):   "past its",
		"1.5":                              "\"1.5\" is not",
		"99999999999999999999999999999999": "is not a 0-based",
	} {
		p := write("bad.txt", text)
		_, err := Load("bars:3,rows=@"+p, Options{})
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: got %v, want an error naming %s with %q", text, err, p, msg)
		}
	}
	if _, err := os.Stat(os.DevNull); err == nil {
		if _, err := Load("bars:3,rows=@"+os.DevNull, Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("rows=@%s: %v", os.DevNull, err)
		}
	}
	missing := filepath.Join(dir, "none.txt")
	if _, err := Load("bars:3,rows=@"+missing, Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}
