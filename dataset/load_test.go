package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/latent-ml/latent/ising"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func TestParseSpec(t *testing.T) {
	cases := []struct {
		in   string
		name string
		arg  string
		opts map[string]string
	}{
		{"mnist", "mnist", "", map[string]string{}},
		{"mnist:test", "mnist", "test", map[string]string{}},
		{" binarized-mnist:valid ", "binarized-mnist", "valid", map[string]string{}},
		{"bars:4", "bars", "4", map[string]string{}},
		{"bars:3,n=100,seed=2", "bars", "3", map[string]string{"n": "100", "seed": "2"}},
		{"ising:L=16,T=2.27,n=20000", "ising", "", map[string]string{"L": "16", "T": "2.27", "n": "20000"}},
		{"shapes,n=5", "shapes", "", map[string]string{"n": "5"}},
		{"data/x.csv:label=last", "data/x.csv", "", map[string]string{"label": "last"}},
		{`C:\d\x.npy:scale=255`, `C:\d\x.npy`, "", map[string]string{"scale": "255"}},
	}
	for _, c := range cases {
		sp, err := ParseSpec(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if sp.Name != c.name || sp.Arg != c.arg || !reflect.DeepEqual(sp.Opts, c.opts) {
			t.Errorf("%q: got %q %q %v", c.in, sp.Name, sp.Arg, sp.Opts)
		}
		again, err := ParseSpec(sp.String())
		if err != nil || again.String() != sp.String() {
			t.Errorf("%q: String %q does not round-trip", c.in, sp.String())
		}
	}
	for _, c := range []struct{ in, part string }{
		{"", "empty data spec"},
		{"mnist:", "nothing after"},
		{":test", "missing data set name"},
		{"bars:4,,n=3", "empty option"},
		{"bars:4,n=1,n=2", "given twice"},
		{"ising:L=4,x", `"x" is not key=value`},
		{"ising:=4", "has no key"},
	} {
		_, err := ParseSpec(c.in)
		wantErr(t, err, "dataset: ", c.part)
	}
}

func TestLoadSpecErrors(t *testing.T) {
	for _, c := range []struct{ spec, part string }{
		{"nosuch", `unknown data set "nosuch"`},
		{"mnist:dev", `mnist: unknown split "dev" (known: train, test)`},
		{"mnist:test,foo=1", `unknown option "foo"`},
		{"bars:0", "bars:0: want a pattern size"},
		{"bars:x", "want a pattern size"},
		{"bars:4,n=0", "n=0 out of range"},
		{"bars:4,k=3", `unknown option "k"`},
		{"ising:L=1", "L=1 out of range"},
		{"ising:T=-1", "T=-1 out of range"},
		{"ising:T=abc", `T="abc" is not a number`},
		{"ising:T=NaN", `is not a number`},
		{"ising:method=heat", "method=\"heat\""},
		{"ising:4", `unexpected "4"`},
		{"shapes,n=-5", "n=-5 out of range"},
		{"shapes,seed=-1", "seed=\"-1\""},
	} {
		_, err := Load(c.spec, Options{})
		wantErr(t, err, "dataset: ", c.part)
	}
}

// isolate points LATENT_DATA and the cache at empty folders.
func isolate(t *testing.T) (data, cache string) {
	data, cache = t.TempDir(), t.TempDir()
	t.Setenv("LATENT_DATA", data)
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	return data, filepath.Join(cache, "latent")
}

func TestMissingDataMessage(t *testing.T) {
	data, _ := isolate(t)
	_, err := Load("mnist:test", Options{})
	wantErr(t, err, "dataset: mnist: missing file mnist/t10k-images-idx3-ubyte.gz", data,
		"latent data fetch mnist", "LATENT_DATA or --data-dir", "mnist/train-labels-idx1-ubyte.gz")
	_, err = Load("binarized-mnist:valid", Options{DataDir: t.TempDir()})
	wantErr(t, err, "binarized_mnist/binarized_mnist_valid.amat", "latent data fetch binarized-mnist")
}

func TestNamedChecksAndLayouts(t *testing.T) {
	data, _ := isolate(t)
	// A file that is a valid IDX but not the real one fails its checksum.
	writeFile(t, data, "mnist/t10k-images-idx3-ubyte.gz", gz(idxBytes(0x08, []int{1, 2, 2}, []byte{1, 2, 3, 4})))
	writeFile(t, data, "mnist/t10k-labels-idx1-ubyte.gz", gz(idxBytes(0x08, []int{1}, []byte{1})))
	_, err := Load("mnist:test", Options{})
	wantErr(t, err, "dataset: mnist/t10k-images-idx3-ubyte.gz: SHA-256 of the content")
	// A corrupt named file names its path inside the data folder.
	writeFile(t, data, "mnist/train-images-idx3-ubyte.gz", []byte{0x1f, 0x8b, 8, 0, 0, 0})
	_, err = Load("mnist", Options{})
	wantErr(t, err, "dataset: mnist/train-images-idx3-ubyte.gz: ")

	// The checksum test with a fake named set whose sums we know: a raw and a
	// gzipped copy of the same content both pass; files may lie flat in the folder.
	content := []byte("1 0\n0 1\n")
	sum := sha256.Sum256(content)
	fake := &Info{Name: "fake-bm", Splits: []string{"train"}, dirs: []string{"fake_bm"},
		Files: []FileInfo{{Path: "fake_bm/f.amat", ContentSHA256: hex.EncodeToString(sum[:])}}}
	if p := Locate("mnist", lookupNamed("mnist").Files[2], Options{}); p != filepath.Join(data, "mnist", "t10k-images-idx3-ubyte.gz") {
		t.Errorf("Locate: %q", p)
	}
	if p := Locate("mnist", lookupNamed("mnist").Files[3], Options{DataDir: t.TempDir()}); p != "" {
		t.Errorf("Locate found %q in an empty folder", p)
	}
	for i, layout := range []struct {
		path string
		b    []byte
	}{{"fake_bm/f.amat", content}, {"fake_bm/f.amat.gz", gz(content)}, {"f.amat", content}, {"fake-bm/f.amat.gz", gz(content)}} {
		dir := t.TempDir()
		writeFile(t, dir, layout.path, layout.b)
		var a *Array
		err := readNamed(fake, "f.amat", Options{DataDir: dir}, func(s *source) (err error) {
			a, err = readAmat(s, 0)
			return err
		})
		if err != nil || a.Shape[0] != 2 {
			t.Errorf("layout %d (%s): %v", i, layout.path, err)
		}
	}
}

func TestList(t *testing.T) {
	l := List()
	names := map[string]bool{}
	for _, n := range l {
		names[n.Name] = true
		if len(n.Files) == 0 || n.Description == "" || len(n.Splits) == 0 {
			t.Errorf("%s: incomplete %+v", n.Name, n)
		}
		for _, f := range n.Files {
			if len(f.SHA256) != 64 || len(f.ContentSHA256) != 64 || !strings.HasPrefix(f.URL, "http") || f.Size <= 0 {
				t.Errorf("%s: bad file entry %+v", n.Name, f)
			}
		}
	}
	for _, w := range []string{"mnist", "fashion-mnist", "binarized-mnist", "optdigits"} {
		if !names[w] {
			t.Errorf("List lacks %s", w)
		}
	}
	l[0].Files[0].URL = "changed"
	if named[0].Files[0].URL == "changed" {
		t.Error("List shares storage with the registry")
	}
}

// Fetch against a local HTTP server: a good download is verified and renamed
// into place; a wrong checksum, an HTTP error and a cut connection leave no file.
func TestFetch(t *testing.T) {
	_, cache := isolate(t)
	body := []byte("0 1 1\n1 0 0\n")
	sum := sha256.Sum256(body)
	cut := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good.amat", "/bad.amat":
			if cut {
				w.Header().Set("Content-Length", "1000")
				w.Write(body[:5])
				return // the server closes the connection short of Content-Length
			}
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	good := hex.EncodeToString(sum[:])
	fake := &Info{Name: "fake", Splits: []string{"train"}, dirs: []string{"fake"}, Files: []FileInfo{
		{Path: "fake/good.amat", URL: srv.URL + "/good.amat", SHA256: good, ContentSHA256: good, Size: int64(len(body))}}}
	named = append(named, fake)
	defer func() { named = named[:len(named)-1] }()

	if err := Fetch("fake", Options{}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(cache, "fake", "good.amat"))
	if err != nil || string(got) != string(body) {
		t.Fatalf("fetched %q, %v", got, err)
	}
	var sb strings.Builder
	if err := Fetch("fake", Options{}, &sb); err != nil || !strings.Contains(sb.String(), "present") {
		t.Errorf("second fetch: %v %q", err, sb.String())
	}
	// Load finds it in the cache and verifies it.
	var a *Array
	if err := readNamed(fake, "good.amat", Options{}, func(s *source) (err error) { a, err = readAmat(s, 0); return }); err != nil || a.Shape[1] != 3 {
		t.Fatalf("load after fetch: %v", err)
	}

	noFiles := func(dir string) {
		t.Helper()
		ents, _ := os.ReadDir(dir)
		if len(ents) != 0 {
			var n []string
			for _, e := range ents {
				n = append(n, e.Name())
			}
			t.Errorf("files left in %s: %v", dir, n)
		}
	}
	dest := t.TempDir()
	fake.Files[0] = FileInfo{Path: "fake/bad.amat", URL: srv.URL + "/bad.amat", SHA256: strings.Repeat("0", 64), ContentSHA256: good}
	err = Fetch("fake", Options{DataDir: dest}, nil)
	wantErr(t, err, "fetch fake/bad.amat: SHA-256 of the download", "nothing was kept")
	noFiles(filepath.Join(dest, "fake"))

	fake.Files[0] = FileInfo{Path: "fake/none.amat", URL: srv.URL + "/none.amat", SHA256: good, ContentSHA256: good}
	err = Fetch("fake", Options{DataDir: dest}, nil)
	wantErr(t, err, "fetch fake/none.amat", "404")
	noFiles(filepath.Join(dest, "fake"))

	cut = true
	fake.Files[0] = FileInfo{Path: "fake/good2.amat", URL: srv.URL + "/good.amat", SHA256: good, ContentSHA256: good}
	err = Fetch("fake", Options{DataDir: dest}, nil)
	wantErr(t, err, "fetch fake/good2.amat", "download failed")
	noFiles(filepath.Join(dest, "fake"))

	wantErr(t, Fetch("nope", Options{}, nil), `unknown data set "nope"`)
	// With Download set, Load fetches what is missing (here: fails, naming the file).
	_, err = Load("optdigits", Options{DataDir: t.TempDir(), Download: true})
	if err == nil {
		t.Log("optdigits downloaded (network available)")
	} else {
		wantErr(t, err, "optdigits")
	}
}

// ---- generators ----

func TestBarsAndStripes(t *testing.T) {
	for n := 1; n <= 6; n++ {
		d := BarsAndStripes(n)
		want := 1<<(n+1) - 2
		if d.Len() != want || d.Dim() != n*n || !d.Binary {
			t.Fatalf("n=%d: %d patterns of %d, want %d", n, d.Len(), d.Dim(), want)
		}
		seen := map[string]bool{}
		for i := 0; i < d.Len(); i++ {
			r := d.X.Row(i)
			key := ""
			bars, stripes := true, true
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					key += string('0' + byte(r[a*n+b]))
					bars = bars && r[a*n+b] == r[b]         // every row equals row 0
					stripes = stripes && r[a*n+b] == r[a*n] // every row constant
				}
			}
			if seen[key] {
				t.Fatalf("n=%d: pattern %s twice", n, key)
			}
			seen[key] = true
			if !bars && !stripes {
				t.Fatalf("n=%d: %s is neither bars nor stripes", n, key)
			}
			if (d.Labels[i] == 0) != bars {
				t.Fatalf("n=%d: %s label %d", n, key, d.Labels[i])
			}
		}
	}
	d, err := Load("bars:4", Options{})
	if err != nil || d.Len() != 30 || d.Height != 4 {
		t.Fatalf("bars:4: %v %d", err, d.Len())
	}
	// n= draws uniformly from the distinct patterns: each of the 14 3×3
	// patterns appears 14000/14 = 1000 times, within 5 standard deviations.
	d, err = Load("bars:3,n=14000,seed=9", Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := BarsAndStripes(3)
	count := make([]int, all.Len())
	for i := 0; i < d.Len(); i++ {
		found := false
		for k := 0; k < all.Len(); k++ {
			if reflect.DeepEqual(d.X.Row(i), all.X.Row(k)) {
				count[k]++
				found = true
				if d.Labels[i] != all.Labels[k] {
					t.Fatalf("sample %d: label %d, want %d", i, d.Labels[i], all.Labels[k])
				}
			}
		}
		if !found {
			t.Fatalf("sample %d is not a bars-and-stripes pattern", i)
		}
	}
	sd := math.Sqrt(1000 * (1 - 1.0/14))
	for k, c := range count {
		if math.Abs(float64(c)-1000) > 5*sd {
			t.Errorf("pattern %d drawn %d times, want about 1000", k, c)
		}
	}
	d2, _ := Load("bars:3,n=14000", Options{Seed: 9})
	if !reflect.DeepEqual(d.X.Data, d2.X.Data) {
		t.Error("seed= and Options.Seed disagree")
	}
}

func TestShapes(t *testing.T) {
	d, err := Load("shapes,n=600,seed=4", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 600 || d.Height != 28 || d.Width != 28 || d.NumClasses != 3 || d.Factors.Cols != 4 || len(d.FactorNames) != 4 {
		t.Fatalf("shapes: %+v", d)
	}
	count := [3]int{}
	for i := 0; i < d.Len(); i++ {
		cls := d.Labels[i]
		count[cls]++
		cx, cy, sc := float64(d.Factors.At(i, 0)), float64(d.Factors.At(i, 1)), float64(d.Factors.At(i, 2))
		// Covered area against the analytic area of the shape.
		area := map[int]float64{ShapeSquare: 4, ShapeEllipse: math.Pi * 0.6, ShapeTriangle: 3 * math.Sqrt(3) / 4}[cls] * sc * sc
		var mass, mx, my float64
		for y := 0; y < 28; y++ {
			for x := 0; x < 28; x++ {
				v := float64(d.X.At(i, y*28+x))
				if v < 0 || v > 1 {
					t.Fatalf("pixel %v", v)
				}
				mass += v
				mx += v * (float64(x) + 0.5)
				my += v * (float64(y) + 0.5)
			}
		}
		if math.Abs(mass-area) > 0.04*area {
			t.Fatalf("shape %d (class %d, scale %.2f): mass %.2f, area %.2f", i, cls, sc, mass, area)
		}
		// The centroid of each shape is its centre (the triangle is equilateral).
		if math.Hypot(mx/mass-cx, my/mass-cy) > 0.2 { // 4×4 sub-sampling quantises the edges
			t.Fatalf("shape %d: centroid (%.2f, %.2f), centre (%.2f, %.2f)", i, mx/mass, my/mass, cx, cy)
		}
		// Nothing is cut at the border: the outer ring of pixels is almost empty.
		for k := 0; k < 28; k++ {
			if d.X.At(i, k) > 0 || d.X.At(i, 27*28+k) > 0 || d.X.At(i, k*28) > 0 || d.X.At(i, k*28+27) > 0 {
				t.Fatalf("shape %d touches the border", i)
			}
		}
	}
	for c, k := range count {
		if k < 150 {
			t.Errorf("class %d drawn %d times of 600", c, k)
		}
	}
	a := Shapes(5, 28, rng.New(1))
	b := Shapes(5, 28, rng.New(1))
	if !reflect.DeepEqual(a.X.Data, b.X.Data) {
		t.Error("Shapes is not deterministic")
	}
}

// ising spec: X is the configuration as 0/1 (spin up = 1), Factors its E/N and
// M/N, and the averages match exact enumeration for L = 4.
func TestIsingSpec(t *testing.T) {
	d, err := Load("ising:L=4,T=2.5,n=4000,burn=100,every=2,seed=3", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 4000 || d.Dim() != 16 || !d.Binary || d.Height != 4 || d.FactorNames[0] != "energy_per_spin" {
		t.Fatalf("ising: %+v", d)
	}
	var se, sm float64
	lat := ising.New(4)
	for i := 0; i < d.Len(); i++ {
		for j, v := range d.X.Row(i) {
			lat.Spin[j] = int8(2*v - 1)
		}
		e, m := float32(lat.Energy())/16, float32(lat.Magnetization())/16
		if e != d.Factors.At(i, 0) || m != d.Factors.At(i, 1) {
			t.Fatalf("row %d: factors %v %v, configuration gives %v %v", i, d.Factors.At(i, 0), d.Factors.At(i, 1), e, m)
		}
		se += float64(e)
		sm += math.Abs(float64(m))
	}
	ex, _ := ising.Exact(4, 2.5)
	// Standard errors at T = 2.5 are about 0.01 (E/N) and 0.006 (|m|) for 4000
	// mildly correlated samples; allow 4 of them.
	if math.Abs(se/4000-ex.Energy) > 0.04 || math.Abs(sm/4000-ex.AbsMag) > 0.025 {
		t.Errorf("ising: E/N %.4f (exact %.4f), |m| %.4f (exact %.4f)", se/4000, ex.Energy, sm/4000, ex.AbsMag)
	}
	d2, _ := Load("ising:L=4,T=2.5,n=4000,burn=100,every=2", Options{Seed: 3})
	if !reflect.DeepEqual(d.X.Data, d2.X.Data) {
		t.Error("ising: seed= and Options.Seed disagree")
	}
}

// ---- binarisation and batches ----

func TestBinarize(t *testing.T) {
	mk := func() *Dataset {
		x := tensor.New(200, 50)
		for i := range x.Data {
			x.Data[i] = float32(i%50) / 49
		}
		return &Dataset{Name: "t", X: x}
	}
	d := mk()
	if err := Binarize(d, "threshold", 0); err != nil {
		t.Fatal(err)
	}
	for i, v := range d.X.Data {
		p := float32(i%50) / 49
		if (p > 0.5) != (v == 1) || (v != 0 && v != 1) {
			t.Fatalf("threshold: %v → %v", p, v)
		}
	}
	if !d.Binary {
		t.Error("Binary not set")
	}
	d, d2 := mk(), mk()
	Binarize(d, "stochastic", 5)
	Binarize(d2, "stochastic", 5)
	if !reflect.DeepEqual(d.X.Data, d2.X.Data) {
		t.Error("stochastic: same seed, different draws")
	}
	// Column j is on with probability j/49: check the frequency over 200 rows.
	for j := 0; j < 50; j++ {
		var on float64
		for i := 0; i < 200; i++ {
			on += float64(d.X.At(i, j))
		}
		p := float64(j) / 49
		if math.Abs(on/200-p) > 5*math.Sqrt(p*(1-p)/200)+1e-9 {
			t.Errorf("stochastic: column %d on %.3f, want %.3f", j, on/200, p)
		}
	}
	wantErr(t, Binarize(mk(), "dynamic", 0), "BinarizeBatch")
	wantErr(t, Binarize(mk(), "otsu", 0), `"otsu"`)
	bad := mk()
	bad.X.Data[7] = 1.5
	wantErr(t, Binarize(bad, "threshold", 0), "1.5", "row 0, column 7")
	if bad.X.Data[0] != 0 || bad.X.Data[40] != float32(40)/49 {
		t.Error("a failed Binarize changed the data")
	}
	// BinarizeBatch: fresh draws each call, right frequency.
	m := tensor.New(100, 100)
	m.Fill(0.3)
	s := rng.New(1)
	BinarizeBatch(m, s)
	first := append([]float32(nil), m.Data...)
	var on float64
	for _, v := range m.Data {
		on += float64(v)
	}
	if math.Abs(on/1e4-0.3) > 0.025 {
		t.Errorf("BinarizeBatch: mean %.3f, want 0.3", on/1e4)
	}
	m.Fill(0.3)
	BinarizeBatch(m, s)
	if reflect.DeepEqual(first, m.Data) {
		t.Error("BinarizeBatch drew the same values twice")
	}
}

func TestBatches(t *testing.T) {
	b := NewBatches(10, 4, rng.New(2))
	if b.PerEpoch() != 3 {
		t.Errorf("PerEpoch = %d", b.PerEpoch())
	}
	var epochs [][]int
	for e := 0; e < 3; e++ {
		var all []int
		sizes := []int{}
		for idx := b.Next(); idx != nil; idx = b.Next() {
			all = append(all, idx...)
			sizes = append(sizes, len(idx))
		}
		if !reflect.DeepEqual(sizes, []int{4, 4, 2}) {
			t.Fatalf("epoch %d: sizes %v", e, sizes)
		}
		seen := make([]bool, 10)
		for _, i := range all {
			if seen[i] {
				t.Fatalf("epoch %d: index %d twice", e, i)
			}
			seen[i] = true
		}
		epochs = append(epochs, all)
	}
	if reflect.DeepEqual(epochs[0], epochs[1]) {
		t.Error("two epochs in the same order")
	}
	// SetEpoch replays an epoch exactly (resume).
	b2 := NewBatches(10, 4, rng.New(2))
	b2.SetEpoch(2)
	var replay []int
	for idx := b2.Next(); idx != nil; idx = b2.Next() {
		replay = append(replay, idx...)
	}
	if !reflect.DeepEqual(replay, epochs[2]) || b2.Epoch() != 3 {
		t.Errorf("SetEpoch(2) replay %v, want %v", replay, epochs[2])
	}
	// DropLast, and no stream → in order.
	b3 := NewBatches(10, 4, nil)
	b3.DropLast = true
	var got [][]int
	for idx := b3.Next(); idx != nil; idx = b3.Next() {
		got = append(got, append([]int(nil), idx...))
	}
	if !reflect.DeepEqual(got, [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}}) || b3.PerEpoch() != 2 {
		t.Errorf("in order, DropLast: %v", got)
	}
	// Within an epoch, Next does not allocate.
	b4 := NewBatches(1000, 10, rng.New(1))
	b4.Next()
	if a := testing.AllocsPerRun(50, func() { b4.Next() }); a != 0 {
		t.Errorf("Next allocates %v times", a)
	}
	// Gather with reused storage.
	d := BarsAndStripes(2)
	x := d.Gather(nil, []int{1, 0})
	x2 := d.Gather(x, []int{3})
	if &x2.Data[0] != &x.Data[0] || x2.Rows != 1 {
		t.Error("Gather did not reuse its destination")
	}
}
