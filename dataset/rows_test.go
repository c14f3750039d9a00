package dataset

import (
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
	for spec, want := range map[string]string{
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
