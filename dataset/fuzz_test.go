package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkReadResult is what every fuzzer asserts: an error is one line naming
// the file; a result has as many values as its shape says, all finite.
func checkReadResult(t *testing.T, name string, a *Array, err error) {
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "dataset: "+name) || strings.Contains(msg, "\n") {
			t.Fatalf("bad error %q", msg)
		}
		return
	}
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	if n != len(a.Data) {
		t.Fatalf("shape %v but %d values", a.Shape, len(a.Data))
	}
	for _, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("non-finite value %v", v)
		}
	}
}

func idxSeeds() [][]byte {
	return [][]byte{
		idxBytes(0x08, []int{2, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 255}),
		gz(idxBytes(0x08, []int{3}, []byte{7, 8, 9})),
		idxBytes(0x0D, []int{2}, le32f(1, 2)),
		idxBytes(0x0E, []int{1}, make([]byte, 8)),
		idxBytes(0x0B, []int{1, 1}, []byte{1, 2}),
		idxBytes(0x08, []int{1000000, 1000000}, nil),
		gz(idxBytes(0x08, []int{100000, 1000}, []byte{1})),
		{0x12, 0x34, 0x08, 0x03},
	}
}

func FuzzIDX(f *testing.F) {
	for _, s := range idxSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadIDX(bytes.NewReader(b), "f.idx", int64(len(b)), true)
		checkReadResult(t, "f.idx", a, err)
		a, err = ReadIDX(bytes.NewReader(b), "f.idx", -1, false)
		checkReadResult(t, "f.idx", a, err)
	})
}

func amatSeeds() [][]byte {
	return [][]byte{
		[]byte("0 1 0\n1 1 1\n"),
		gz([]byte("0 1\n1 0\n")),
		[]byte("0.5\t2e3\r\n-1 1\n"),
		[]byte("1 2\n3\n"),
		[]byte("nan 1\n"),
	}
}

func FuzzAmat(f *testing.F) {
	for _, s := range amatSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadAmat(bytes.NewReader(b), "f.amat", int64(len(b)))
		checkReadResult(t, "f.amat", a, err)
		if err == nil && len(a.Shape) != 2 {
			t.Fatalf("shape %v", a.Shape)
		}
	})
}

func npySeeds() [][]byte {
	return [][]byte{
		npyBytes("<f4", false, "(2, 2)", le32f(1, 2, 3, 4)),
		npyBytes(">f8", false, "(1,)", make([]byte, 8)),
		npyBytes("|u1", false, "(2, 1, 2)", []byte{1, 2, 3, 4}),
		npyBytes("|b1", false, "(3,)", []byte{0, 1, 1}),
		npyBytes("<i8", false, "()", make([]byte, 8)),
		npyBytes("<f4", true, "(1, 1)", le32f(1)),
		npyBytes("|O", false, "(1,)", make([]byte, 8)),
		npyBytes("<f4", false, "(1000000, 1000000)", nil),
		gz(npyBytes("<i2", false, "(2,)", []byte{1, 0, 2, 0})),
		append([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00"), []byte("{'descr': '<f4'}")...),
	}
}

func FuzzNPY(f *testing.F) {
	for _, s := range npySeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, _, err := ReadNPY(bytes.NewReader(b), "f.npy", int64(len(b)))
		checkReadResult(t, "f.npy", a, err)
		a, _, err = ReadNPY(bytes.NewReader(b), "f.npy", -1)
		checkReadResult(t, "f.npy", a, err)
	})
}

func npzSeeds(t testing.TB) [][]byte {
	x := npyBytes("<f4", false, "(2, 2)", le32f(0.5, 1, 0, 0.25))
	y := npyBytes("<i8", false, "(2,)", append(binary.LittleEndian.AppendUint64(nil, 3), binary.LittleEndian.AppendUint64(nil, 1)...))
	return [][]byte{
		npzBytes(t, map[string][]byte{"x": x, "y": y}, false),
		npzBytes(t, map[string][]byte{"x": x}, true),
		npzBytes(t, map[string][]byte{"a": x[:20]}, true),
		[]byte("PK\x05\x06" + strings.Repeat("\x00", 18)),
	}
}

func FuzzNPZ(f *testing.F) {
	for _, s := range npzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, _ := ParseSpec("f.npz")
		d, err := readNPZDataset(bytes.NewReader(b), "f.npz", int64(len(b)), sp)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "dataset: f.npz") || strings.Contains(msg, "\n") {
				t.Fatalf("bad error %q", msg)
			}
			return
		}
		if d.X.Rows*d.X.Cols != len(d.X.Data) || (d.Labels != nil && len(d.Labels) != d.Len()) {
			t.Fatalf("inconsistent dataset %d×%d, %d values, %d labels", d.X.Rows, d.X.Cols, len(d.X.Data), len(d.Labels))
		}
	})
}

func csvSeeds() []string {
	return []string{
		"a,b,c\n1,2,3\n4,5,6\n",
		"1,2,x\n3,4,y\n",
		"1,2\n3\n",
		"\"1\",\" 2\"\n3,4\n",
		"1,NaN\n",
		"",
		"\xEF\xBB\xBF1,2\n3,4\n",
		"1,abc\n2,3\n",
		"x\ty\n1\t2\n3\t4\n",
		"1 2  3\n4 5 6 \n",
		"a;b\n1;2\n",
		",a,b\n0,1,2\n",
		"1\t2,3\n",
		"\xFF\xFEa\x00",
	}
}

// csvFuzzOpts are the option values the seeds cycle through.
var csvFuzzOpts = struct{ label, header, sep []string }{
	[]string{"", "last", "first", "0", "b", "none"},
	[]string{"auto", "no", "yes"},
	[]string{"", "tab", "space", ";", "comma"},
}

// FuzzCSV: ReadCSV returns a consistent data set whose Source counts its
// rows, or a one-line error naming the file; a byte-order mark in front
// changes nothing.
func FuzzCSV(f *testing.F) {
	for i, s := range csvSeeds() {
		f.Add([]byte(s), csvFuzzOpts.label[i%6], csvFuzzOpts.header[i%3], csvFuzzOpts.sep[i%5])
	}
	f.Fuzz(func(t *testing.T, b []byte, label, header, sep string) {
		o := CSVOptions{Header: header, Sep: sep, Label: label}
		d, err := ReadCSV(bytes.NewReader(b), "f.csv", int64(len(b)), o)
		if !bytes.HasPrefix(b, utf8BOM) && !bytes.HasPrefix(b, utf16BOM[0]) && !bytes.HasPrefix(b, utf16BOM[1]) {
			d2, err2 := ReadCSV(bytes.NewReader(append(append([]byte{}, utf8BOM...), b...)), "f.csv", -1, o)
			if (err == nil) != (err2 == nil) || (err == nil && (d.Len() != d2.Len() || d.Dim() != d2.Dim())) {
				t.Fatalf("a BOM changes the result: %v vs %v", err, err2)
			}
		}
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "dataset: f.csv") || strings.Contains(msg, "\n") {
				t.Fatalf("bad error %q", msg)
			}
			return
		}
		if d.X.Rows*d.X.Cols != len(d.X.Data) || (d.Labels != nil && len(d.Labels) != d.Len()) {
			t.Fatalf("inconsistent dataset")
		}
		if want := fmt.Sprintf("f.csv: read %d rows of %d values, ", d.Len(), d.Dim()); !strings.HasPrefix(d.Source, want) {
			t.Fatalf("Source %q, want it to start %q", d.Source, want)
		}
		for _, l := range d.Labels {
			if l < 0 || l >= d.NumClasses {
				t.Fatalf("label %d of %d classes", l, d.NumClasses)
			}
		}
	})
}

// stdinSeeds pairs inputs of every streaming format with format= options.
func stdinSeeds() (bs [][]byte, formats []string) {
	opts := []string{"", "npy", "idx", "amat", "csv", "npz"}
	var all [][]byte
	all = append(all, npySeeds()...)
	all = append(all, idxSeeds()...)
	all = append(all, amatSeeds()...)
	for _, c := range csvSeeds() {
		all = append(all, []byte(c))
	}
	for i, b := range all {
		bs, formats = append(bs, b), append(formats, opts[i%len(opts)])
	}
	return bs, formats
}

// FuzzStdin: Load("-") on any bytes, sniffed or with a format= option, gives
// a consistent data set whose Source counts its rows, or a one-line error
// naming stdin (or the spec).
func FuzzStdin(f *testing.F) {
	bs, formats := stdinSeeds()
	for i := range bs {
		f.Add(bs[i], formats[i])
	}
	f.Fuzz(func(t *testing.T, b []byte, format string) {
		spec := "-"
		if format != "" {
			spec += ":format=" + format
		}
		d, err := Load(spec, Options{Stdin: bytes.NewReader(b)})
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "dataset: ") || strings.Contains(msg, "\n") {
				t.Fatalf("bad error %q", msg)
			}
			return
		}
		if d.X.Rows*d.X.Cols != len(d.X.Data) || (d.Labels != nil && len(d.Labels) != d.Len()) {
			t.Fatalf("inconsistent dataset")
		}
		if want := fmt.Sprintf("stdin: read %d rows of %d values", d.Len(), d.Dim()); !strings.HasPrefix(d.Source, want) {
			t.Fatalf("Source %q, want it to start %q", d.Source, want)
		}
	})
}

func specSeeds() []string {
	return []string{"mnist", "mnist:test", "bars:4,n=10", "ising:L=4,T=2.27,n=20000", "shapes,n=3",
		"x.csv:label=last", ":", "a:,", "a:b,c=d,e", `C:\x.npy:scale=2`, "bars:3,seed=1,seed=2", " "}
}

// FuzzSpec: parsing never panics, a parsed spec round-trips through String,
// and Load of a generator or named spec fails cleanly or succeeds (with the
// generators kept small so the fuzzer stays fast).
func FuzzSpec(f *testing.F) {
	for _, s := range specSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dataset: ") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		again, err := ParseSpec(sp.String())
		if err != nil || again.String() != sp.String() {
			t.Fatalf("%q → %q does not round-trip: %v", s, sp.String(), err)
		}
		if _, gen := generators[sp.Name]; gen {
			for _, k := range []string{"n", "L", "size", "burn", "every"} {
				if v, ok := sp.Opts[k]; ok {
					if n, err := strconv.Atoi(v); err == nil && n > 64 {
						return // too slow for fuzzing
					}
				}
			}
			if _, ok := sp.Opts["n"]; !ok && sp.Name != "bars" {
				return
			}
			d, err := Load(s, Options{DataDir: os.DevNull})
			if err == nil && d.X.Rows*d.X.Cols != len(d.X.Data) {
				t.Fatal("inconsistent dataset")
			}
		}
	})
}

func pngSeeds(t testing.TB) [][]byte {
	enc := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	g := image.NewGray(image.Rect(0, 0, 3, 2))
	g.Pix[1] = 200
	c := image.NewRGBA(image.Rect(0, 0, 2, 2))
	c.Pix[0] = 255
	gb := enc(g)
	return [][]byte{gb, enc(c), gb[:len(gb)/2], []byte("\x89PNG\r\n\x1a\n")}
}

// FuzzPNG: a folder holding one fuzzed .png file loads or fails with an error
// naming the file; pixel values stay in [0, 1].
func FuzzPNG(f *testing.F) {
	for _, s := range pngSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f.png")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := ReadPNGDir(dir)
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, "f.png") || strings.Contains(msg, "\n") {
				t.Fatalf("bad error %q", msg)
			}
			return
		}
		if d.Len() != 1 || d.Height*d.Width*d.Channels != d.Dim() {
			t.Fatalf("inconsistent dataset")
		}
		for _, v := range d.X.Data {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v", v)
			}
		}
	})
}

// TestWriteFuzzCorpus writes the seed corpora under testdata/fuzz when
// LATENT_WRITE_CORPUS=1 (they are checked in; the f.Add seeds above are the
// same inputs).
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("LATENT_WRITE_CORPUS") != "1" {
		t.Skip("set LATENT_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(fz string, i int, vals ...string) {
		dir := filepath.Join("testdata", "fuzz", fz)
		os.MkdirAll(dir, 0o755)
		body := "go test fuzz v1\n" + strings.Join(vals, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs := func(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }
	for i, b := range idxSeeds() {
		write("FuzzIDX", i, bs(b))
	}
	for i, b := range amatSeeds() {
		write("FuzzAmat", i, bs(b))
	}
	for i, b := range npySeeds() {
		write("FuzzNPY", i, bs(b))
	}
	for i, b := range npzSeeds(t) {
		write("FuzzNPZ", i, bs(b))
	}
	for i, s := range csvSeeds() {
		write("FuzzCSV", i, bs([]byte(s)), "string("+strconv.Quote(csvFuzzOpts.label[i%6])+")",
			"string("+strconv.Quote(csvFuzzOpts.header[i%3])+")", "string("+strconv.Quote(csvFuzzOpts.sep[i%5])+")")
	}
	for i, s := range specSeeds() {
		write("FuzzSpec", i, "string("+strconv.Quote(s)+")")
	}
	stdinBytes, stdinFormats := stdinSeeds()
	for i := range stdinBytes {
		write("FuzzStdin", i, bs(stdinBytes[i]), "string("+strconv.Quote(stdinFormats[i])+")")
	}
	for i, b := range pngSeeds(t) {
		write("FuzzPNG", i, bs(b))
	}
}

// FuzzIndexList: a rows=@FILE list parses to non-negative indices or fails
// with an error naming a line or saying it is empty; never a panic.
func FuzzIndexList(f *testing.F) {
	for _, s := range []string{"1 2 3", "# c\n4,5\n", "", "x", "1\n-2", "1,,2\n\n3", "\t7\r\n8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		idx, err := ParseIndexList(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") && err.Error() != "no example indices in it" {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if len(idx) == 0 {
			t.Fatal("no error and no indices")
		}
		for _, i := range idx {
			if i < 0 {
				t.Fatalf("index %d", i)
			}
		}
	})
}
