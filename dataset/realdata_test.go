package dataset

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// TestRealData loads every named data set from LATENT_DATA (skipped when unset)
// and checks shapes, ranges and label counts against the published figures.
func TestRealData(t *testing.T) {
	if os.Getenv("LATENT_DATA") == "" {
		t.Skip("LATENT_DATA not set")
	}
	cases := []struct {
		spec       string
		n, d       int
		classes    int
		binary     bool
		firstLabel int // -1: no labels
		lastLabel  int
	}{
		{"mnist", 60000, 784, 10, false, 5, 8},
		{"mnist:test", 10000, 784, 10, false, 7, 6},
		{"fashion-mnist", 60000, 784, 10, false, 9, 5},
		{"fashion-mnist:test", 10000, 784, 10, false, 9, 5},
		{"binarized-mnist", 50000, 784, 0, true, -1, -1},
		{"binarized-mnist:valid", 10000, 784, 0, true, -1, -1},
		{"binarized-mnist:test", 10000, 784, 10, true, 0, 9},
		{"optdigits", 3823, 64, 10, false, 0, 7},
		{"optdigits:test", 1797, 64, 10, false, 0, 8},
	}
	for _, c := range cases {
		t0 := time.Now()
		d, err := Load(c.spec, Options{})
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		t.Logf("%s: %d×%d in %v", c.spec, d.Len(), d.Dim(), time.Since(t0))
		if d.Len() != c.n || d.Dim() != c.d || d.NumClasses != c.classes || d.Binary != c.binary {
			t.Errorf("%s: got %d×%d classes %d binary %v, want %d×%d classes %d binary %v",
				c.spec, d.Len(), d.Dim(), d.NumClasses, d.Binary, c.n, c.d, c.classes, c.binary)
		}
		if c.firstLabel >= 0 && (d.Labels[0] != c.firstLabel || d.Labels[d.Len()-1] != c.lastLabel) {
			t.Errorf("%s: labels[0]=%d labels[-1]=%d, want %d %d", c.spec, d.Labels[0], d.Labels[d.Len()-1], c.firstLabel, c.lastLabel)
		}
		for _, v := range d.X.Data {
			if !(v >= 0 && v <= 1) {
				t.Errorf("%s: value %v outside [0, 1]", c.spec, v)
				break
			}
		}
	}
}

// TestRealDataCrossChecks checks facts stated in the data README: binarized
// MNIST test is MNIST t10k stably sorted by label (so each binarized image is 0
// wherever its MNIST image is 0, and the derived labels are right), and
// sklearn's digits.csv.gz holds the rows of optdigits.tes.
func TestRealDataCrossChecks(t *testing.T) {
	dir := os.Getenv("LATENT_DATA")
	if dir == "" {
		t.Skip("LATENT_DATA not set")
	}
	mn, err := Load("mnist:test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	bm, err := Load("binarized-mnist:test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	order := make([]int, 0, mn.Len())
	for c := 0; c < 10; c++ {
		for i, l := range mn.Labels {
			if l == c {
				order = append(order, i)
			}
		}
	}
	bad := 0
	for k, i := range order {
		if bm.Labels[k] != mn.Labels[i] {
			t.Fatalf("binarized test %d: label %d, MNIST %d", k, bm.Labels[k], mn.Labels[i])
		}
		for j, v := range bm.X.Row(k) {
			if v == 1 && mn.X.At(i, j) == 0 {
				bad++
			}
		}
	}
	if bad != 0 {
		t.Errorf("%d binarized pixels are on where MNIST is 0", bad)
	}
	sk, err := Load(filepath.Join(dir, "sklearn-digits", "digits.csv.gz")+":label=last,scale=16", Options{})
	if err != nil {
		t.Fatal(err)
	}
	od, err := Load("optdigits:test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sk.X.Data, od.X.Data) || !reflect.DeepEqual(sk.Labels, od.Labels) {
		t.Error("sklearn digits.csv.gz differs from optdigits.tes")
	}
}

// BenchmarkLoadMNIST loads all of MNIST train (60000×784) from LATENT_DATA.
func BenchmarkLoadMNIST(b *testing.B) {
	if os.Getenv("LATENT_DATA") == "" {
		b.Skip("LATENT_DATA not set")
	}
	var ms0, ms1 runtime.MemStats
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		d, err := Load("mnist", Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(4*len(d.X.Data)), "alloc/array")
	}
}
