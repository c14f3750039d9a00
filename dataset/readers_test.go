package dataset

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/latent-ml/latent/tensor"
)

// ---- builders for small test files ----

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func idxBytes(typ byte, dims []int, payload []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, payload...)
}

// npyBytes builds a .npy file with a hand-written header (any descr/order).
func npyBytes(descr string, fortran bool, shape string, payload []byte) []byte {
	f := "False"
	if fortran {
		f = "True"
	}
	dict := "{'descr': '" + descr + "', 'fortran_order': " + f + ", 'shape': " + shape + ", }"
	for (10+len(dict)+1)%64 != 0 {
		dict += " "
	}
	dict += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	b = append(b, dict...)
	return append(b, payload...)
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want one containing %q", parts)
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error has several lines: %q", msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}

func eqF(t *testing.T, what string, got []float32, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("%s: value %d = %v, want %v (all: %v)", what, i, got[i], want[i], got)
		}
	}
}

// ---- IDX ----

func TestReadIDX(t *testing.T) {
	px := []byte{0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6}
	raw := idxBytes(0x08, []int{2, 2, 3}, px)
	for _, c := range []struct {
		name string
		b    []byte
	}{{"raw", raw}, {"gz", gz(raw)}} {
		a, err := ReadIDX(bytes.NewReader(c.b), "x", int64(len(c.b)), true)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(a.Shape) != 3 || a.Shape[0] != 2 || a.Shape[1] != 2 || a.Shape[2] != 3 {
			t.Fatalf("%s: shape %v", c.name, a.Shape)
		}
		want := make([]float32, len(px))
		for i, p := range px {
			want[i] = float32(p) / 255
		}
		eqF(t, c.name, a.Data, want)
		// Unknown length reads the same.
		a2, err := ReadIDX(bytes.NewReader(c.b), "x", -1, true)
		if err != nil {
			t.Fatal(err)
		}
		eqF(t, c.name+" unknown size", a2.Data, want)
	}
	// Other types, big-endian.
	i16 := idxBytes(0x0B, []int{3}, []byte{0xff, 0xfe, 0x01, 0x00, 0x00, 0x07})
	a, err := ReadIDX(bytes.NewReader(i16), "x", int64(len(i16)), true)
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "int16", a.Data, []float32{-2, 256, 7})
	f64 := idxBytes(0x0E, []int{2}, binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, math.Float64bits(1.5)), math.Float64bits(-3)))
	a, err = ReadIDX(bytes.NewReader(f64), "x", int64(len(f64)), true)
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "float64", a.Data, []float32{1.5, -3})
	f32 := idxBytes(0x0D, []int{2}, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, math.Float32bits(0.25)), math.Float32bits(2)))
	a, err = ReadIDX(bytes.NewReader(f32), "x", int64(len(f32)), true)
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "float32", a.Data, []float32{0.25, 2})
}

func TestReadIDXBad(t *testing.T) {
	good := idxBytes(0x08, []int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	gzGood := gz(good)
	nan := idxBytes(0x0D, []int{1}, binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN()))))
	cases := []struct {
		name  string
		b     []byte
		parts []string
	}{
		{"magic", append([]byte{0x12, 0x34}, good[2:]...), []string{"f.idx", "bad magic 0x12340803"}},
		{"typecode", idxBytes(0x07, []int{1}, []byte{0}), []string{"unknown IDX type code 0x07"}},
		{"empty", nil, []string{"too short"}},
		{"short header", good[:6], []string{"truncated IDX header"}},
		{"truncated raw", good[:len(good)-1], []string{"file holds 7 bytes"}},
		{"trailing", append(append([]byte{}, good...), 9), []string{"file holds 9 bytes"}},
		{"truncated gzip", gzGood[:len(gzGood)-10], []string{"truncated"}},
		{"corrupt gzip", append(append([]byte{}, gzGood[:12]...), bytes.Repeat([]byte{0xff}, 20)...), []string{"f.idx"}},
		{"huge", idxBytes(0x08, []int{1000000, 1000000}, []byte{1}), []string{"impossible dimensions", "[1000000 1000000]"}},
		{"1e12 gz", gz(idxBytes(0x08, []int{1000000, 1000000}, []byte{1})), []string{"impossible dimensions"}},
		{"1e9 raw", idxBytes(0x08, []int{1000, 1000, 1000}, []byte{1}), []string{"header claims [1000 1000 1000]"}},
		{"1e9 gz", gz(idxBytes(0x08, []int{1000, 1000, 1000}, []byte{1})), []string{"gzip file holds at most"}},
		{"nan", nan, []string{"NaN"}},
	}
	for _, c := range cases {
		_, err := ReadIDX(bytes.NewReader(c.b), "f.idx", int64(len(c.b)), true)
		t.Run(c.name, func(t *testing.T) { wantErr(t, err, append([]string{"dataset: f.idx: "}, c.parts...)...) })
	}
	// A lying gzip stream of unknown length: the header claims 10^9 values.
	b := gz(idxBytes(0x08, []int{1000, 1000, 1000}, make([]byte, 100)))
	_, err := ReadIDX(bytes.NewReader(b), "f.idx", -1, true)
	wantErr(t, err, "truncated: holds 100 of the 1000000000 values")
}

// ---- amat ----

func TestReadAmat(t *testing.T) {
	text := "0 1 0 1\n1 1 0 0\n0.5 2.25 -1 1e-3\n"
	for _, b := range [][]byte{[]byte(text), gz([]byte(text)), []byte(strings.TrimSuffix(text, "\n")), []byte(strings.ReplaceAll(text, "\n", "\r\n") + "\n")} {
		a, err := ReadAmat(bytes.NewReader(b), "a.amat", int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if a.Shape[0] != 3 || a.Shape[1] != 4 {
			t.Fatalf("shape %v", a.Shape)
		}
		eqF(t, "amat", a.Data, []float32{0, 1, 0, 1, 1, 1, 0, 0, 0.5, 2.25, -1, 1e-3})
	}
	for _, c := range []struct {
		text  string
		parts []string
	}{
		{"0 1\n1\n", []string{"line 2 has 1 values but line 1 has 2 (ragged rows)"}},
		{"0 1\n1 nan\n", []string{"line 2", `"nan"`}},
		{"0 1\n1 inf\n", []string{"line 2", `"inf"`}},
		{"0 x\n", []string{"line 1", `"x"`}},
		{"", []string{"no data"}},
	} {
		_, err := ReadAmat(strings.NewReader(c.text), "a.amat", int64(len(c.text)))
		wantErr(t, err, append([]string{"dataset: a.amat: "}, c.parts...)...)
	}
	g := gz([]byte(text))
	_, err := ReadAmat(bytes.NewReader(g[:len(g)-5]), "a.amat.gz", int64(len(g)-5))
	wantErr(t, err, "a.amat.gz", "truncated gzip")
}

// ---- NPY / NPZ ----

func le32f(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestReadNPYDtypes(t *testing.T) {
	want := []float32{1, -2, 3, 0, 5, 6}
	be64 := func(v ...float64) (b []byte) {
		for _, x := range v {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(x))
		}
		return
	}
	le := func(size int, signed bool, v ...int64) (b []byte) {
		for _, x := range v {
			switch size {
			case 1:
				b = append(b, byte(x))
			case 2:
				b = binary.LittleEndian.AppendUint16(b, uint16(x))
			case 4:
				b = binary.LittleEndian.AppendUint32(b, uint32(x))
			case 8:
				b = binary.LittleEndian.AppendUint64(b, uint64(x))
			}
		}
		return
	}
	ints := []int64{1, -2, 3, 0, 5, 6}
	cases := []struct {
		descr string
		data  []byte
		want  []float32
		u8    bool
	}{
		{"<f4", le32f(want...), want, false},
		{">f8", be64(1, -2, 3, 0, 5, 6), want, false},
		{"|i1", le(1, true, ints...), want, false},
		{"<i2", le(2, true, ints...), want, false},
		{"<i4", le(4, true, ints...), want, false},
		{"<i8", le(8, true, ints...), want, false},
		{">i4", func() (b []byte) {
			for _, x := range ints {
				b = binary.BigEndian.AppendUint32(b, uint32(x))
			}
			return
		}(), want, false},
		{"|u1", []byte{1, 254, 3, 0, 5, 255}, []float32{1, 254, 3, 0, 5, 255}, true},
		{"<u2", le(2, false, 1, 65535, 3, 0, 5, 6), []float32{1, 65535, 3, 0, 5, 6}, false},
		{"|b1", []byte{1, 0, 1, 0, 0, 1}, []float32{1, 0, 1, 0, 0, 1}, false},
	}
	for _, c := range cases {
		b := npyBytes(c.descr, false, "(2, 3)", c.data)
		for _, in := range [][]byte{b, gz(b)} {
			a, u8, err := ReadNPY(bytes.NewReader(in), "x.npy", int64(len(in)))
			if err != nil {
				t.Fatalf("%s: %v", c.descr, err)
			}
			if u8 != c.u8 || len(a.Shape) != 2 || a.Shape[0] != 2 || a.Shape[1] != 3 {
				t.Fatalf("%s: shape %v u8 %v", c.descr, a.Shape, u8)
			}
			eqF(t, c.descr, a.Data, c.want)
		}
	}
}

func TestReadNPYBad(t *testing.T) {
	nan := npyBytes("<f4", false, "(2,)", le32f(1, float32(math.Inf(-1))))
	cases := []struct {
		name  string
		b     []byte
		parts []string
	}{
		{"magic", []byte("\x93NUMPX\x01\x00\x00\x00"), []string{"bad magic"}},
		{"fortran", npyBytes("<f4", true, "(2, 2)", le32f(1, 2, 3, 4)), []string{"Fortran-order"}},
		{"object", npyBytes("|O", false, "(2,)", make([]byte, 16)), []string{"object arrays"}},
		{"unicode", npyBytes("<U5", false, "(2,)", make([]byte, 40)), []string{`unsupported dtype "<U5"`}},
		{"half", npyBytes("<f2", false, "(2,)", make([]byte, 4)), []string{`unsupported dtype "<f2"`}},
		{"structured", []byte("\x93NUMPY\x01\x00\x3a\x00{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), []string{"structured"}},
		{"short data", npyBytes("<f4", false, "(2, 2)", le32f(1, 2, 3)), []string{"file holds 12 bytes"}},
		{"1e12", npyBytes("<f4", false, "(1000000, 1000000)", le32f(1)), []string{"impossible shape [1000000 1000000]"}},
		{"1e9 gz", gz(npyBytes("<f4", false, "(1000, 1000, 1000)", le32f(1))), []string{"gzip file holds at most"}},
		{"inf", nan, []string{"-Inf"}},
		{"bad header", []byte("\x93NUMPY\x01\x00\x05\x00{'a':"), []string{"bad .npy header"}},
		{"header len", []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), []string{"impossible .npy header length"}},
		{"version", []byte("\x93NUMPY\x09\x00"), []string{"unsupported .npy format version 9"}},
		{"neg shape", npyBytes("<f4", false, "(-1,)", nil), []string{"bad shape"}},
	}
	for _, c := range cases {
		_, _, err := ReadNPY(bytes.NewReader(c.b), "x.npy", int64(len(c.b)))
		t.Run(c.name, func(t *testing.T) { wantErr(t, err, append([]string{"dataset: x.npy: "}, c.parts...)...) })
	}
}

func TestNPYRoundTripAndShapes(t *testing.T) {
	dir := t.TempDir()
	m := tensor.New(3, 4)
	for i := range m.Data {
		m.Data[i] = float32(i) / 11
	}
	var buf bytes.Buffer
	if err := WriteNPY(&buf, m, []int{3, 2, 2}); err != nil {
		t.Fatal(err)
	}
	if (buf.Len()-4*12)%64 != 0 {
		t.Errorf("data does not start at a multiple of 64 bytes")
	}
	p := writeFile(t, dir, "x.npy", buf.Bytes())
	var lb bytes.Buffer
	if err := WriteNPYLabels(&lb, []int{2, 0, 1}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "x.labels.npy", lb.Bytes())
	d, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || d.Dim() != 4 || d.Height != 2 || d.Width != 2 || d.Channels != 1 || d.NumClasses != 3 ||
		d.Labels[0] != 2 || d.Labels[2] != 1 || d.Name != p {
		t.Fatalf("loaded %+v", d)
	}
	eqF(t, "round trip", d.X.Data, m.Data)
	// WriteNPY refuses a wrong shape.
	if err := WriteNPY(&buf, m, []int{5}); err == nil {
		t.Error("WriteNPY accepted a wrong shape")
	}
	// 1-D → n×1; 4-D NCHW with C=3 → rows in HWC order.
	p1 := writeFile(t, dir, "v.npy", npyBytes("<f4", false, "(3,)", le32f(1, 2, 3)))
	if d, err := Load(p1, Options{}); err != nil || d.Len() != 3 || d.Dim() != 1 {
		t.Fatalf("1-D: %v %+v", err, d)
	}
	chw := []float32{1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400} // one image, C=3, H=2, W=2
	p4 := writeFile(t, dir, "c.npy", npyBytes("<f4", false, "(1, 3, 2, 2)", le32f(chw...)))
	d4, err := Load(p4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d4.Height != 2 || d4.Width != 2 || d4.Channels != 3 {
		t.Fatalf("4-D: %d×%d×%d", d4.Height, d4.Width, d4.Channels)
	}
	eqF(t, "CHW→HWC", d4.X.Data, []float32{1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400})
	// uint8 is scaled by 255 unless scale=none.
	pu := writeFile(t, dir, "u.npy", npyBytes("|u1", false, "(2, 2)", []byte{0, 255, 51, 0}))
	du, err := Load(pu, Options{})
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "uint8 scaled", du.X.Data, []float32{0, 1, 0.2, 0})
	du, _ = Load(pu+":scale=none", Options{})
	eqF(t, "uint8 raw", du.X.Data, []float32{0, 255, 51, 0})
	du, _ = Load(pu+":scale=minmax", Options{})
	eqF(t, "uint8 minmax", du.X.Data, []float32{0, 1, 1, 0})
	// SaveNPY writes data and labels atomically, and Load reads them back.
	sp := filepath.Join(dir, "saved.npy")
	if err := SaveNPY(sp, d); err != nil {
		t.Fatal(err)
	}
	back, err := Load(sp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "SaveNPY", back.X.Data, d.X.Data)
	if back.Height != 2 || back.Labels[0] != 2 {
		t.Errorf("SaveNPY lost the shape or labels")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func npzBytes(t testing.TB, members map[string][]byte, deflate bool) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a deterministic archive
	for _, k := range keys {
		v := members[k]
		m := zip.Store
		if deflate {
			m = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(v)
	}
	zw.Close()
	return buf.Bytes()
}

func TestNPZ(t *testing.T) {
	dir := t.TempDir()
	x := npyBytes("<f4", false, "(2, 2)", le32f(0.5, 1, 0, 0.25))
	y := npyBytes("<i8", false, "(2,)", append(binary.LittleEndian.AppendUint64(nil, 3), binary.LittleEndian.AppendUint64(nil, 1)...))
	for _, deflate := range []bool{false, true} {
		p := writeFile(t, dir, "d.npz", npzBytes(t, map[string][]byte{"x": x, "y": y}, deflate))
		d, err := Load(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		eqF(t, "npz x", d.X.Data, []float32{0.5, 1, 0, 0.25})
		if len(d.Labels) != 2 || d.Labels[0] != 3 || d.Labels[1] != 1 || d.NumClasses != 4 {
			t.Fatalf("npz labels %v", d.Labels)
		}
	}
	// Keys chosen by the spec; a single array needs no key; unknown keys are errors.
	p := writeFile(t, dir, "e.npz", npzBytes(t, map[string][]byte{"feat": x, "cls": y}, true))
	_, err := Load(p, Options{})
	wantErr(t, err, "e.npz", "x=KEY", "cls, feat")
	d, err := Load(p+":x=feat,y=cls", Options{})
	if err != nil || d.Labels[0] != 3 {
		t.Fatalf("x=feat,y=cls: %v", err)
	}
	_, err = Load(p+":x=nope", Options{})
	wantErr(t, err, `no array "nope"`)
	p1 := writeFile(t, dir, "one.npz", npzBytes(t, map[string][]byte{"whatever": x}, false))
	if d, err := Load(p1, Options{}); err != nil || d.Len() != 2 {
		t.Fatalf("single array: %v", err)
	}
	// A bad member names the archive and the member.
	pb := writeFile(t, dir, "bad.npz", npzBytes(t, map[string][]byte{"x": x[:len(x)-2]}, true))
	_, err = Load(pb, Options{})
	wantErr(t, err, "bad.npz[x]")
	_, err = Load(writeFile(t, dir, "junk.npz", []byte("PK\x03\x04 not really")), Options{})
	wantErr(t, err, "junk.npz", "not a valid .npz")
}

// ---- CSV ----

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "t.csv", []byte("a,b,class\n1,2,cat\n3.5,-4,dog\n0,0,cat\n"))
	d, err := Load(p+":label=class", Options{})
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "csv", d.X.Data, []float32{1, 2, 3.5, -4, 0, 0})
	if d.NumClasses != 2 || d.ClassNames[1] != "dog" || d.Labels[1] != 1 || d.Labels[2] != 0 {
		t.Fatalf("csv labels %v %v", d.Labels, d.ClassNames)
	}
	// No header, label last, gzip, blank lines.
	pg := writeFile(t, dir, "n.csv.gz", gz([]byte("1,2,7\n\n3,4,2\n")))
	d, err = Load(pg+":label=last", Options{})
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "csv gz", d.X.Data, []float32{1, 2, 3, 4})
	if d.Labels[0] != 7 || d.Labels[1] != 2 || d.NumClasses != 8 {
		t.Fatalf("labels %v", d.Labels)
	}
	// Name labels in the last column do not make the first row a header.
	pn := writeFile(t, dir, "names.csv", []byte("1,2,cat\n3,4,dog\n"))
	d, err = Load(pn+":label=last", Options{})
	if err != nil || d.Len() != 2 || d.ClassNames[0] != "cat" || d.Labels[1] != 1 {
		t.Fatalf("name labels: %v %+v", err, d)
	}
	// label=first and a column index; no labels by default.
	d, _ = Load(pg+":label=0", Options{})
	eqF(t, "label=0", d.X.Data, []float32{2, 7, 4, 2})
	d, _ = Load(pg, Options{})
	if d.Dim() != 3 || d.Labels != nil {
		t.Fatalf("default: %d cols, labels %v", d.Dim(), d.Labels)
	}
	for _, c := range []struct {
		text, opts string
		parts      []string
	}{
		{"1,2\n3\n", "", []string{"line 2 has 1 columns but line 1 has 2 (ragged rows)"}},
		{"a,b\n1,2\n3,4,5\n", "", []string{"line 3 has 3 columns but line 1 has 2"}},
		{"1,2\n3,NaN\n", "", []string{"line 2, column 2", `"NaN"`}},
		{"1,2\n3,1e40\n", "", []string{"line 2, column 2"}},
		{"a,b\n1,2\n", ":header=no", []string{"line 1, column 1", `"a"`}},
		{"1,2\n", ":label=zz", []string{`label="zz"`, "no header"}},
		{"1,2\n", ":label=5", []string{"label=5"}},
		{"a,b\n", "", []string{"no data rows"}},
		{"1,\"2\n", "", []string{"line 1"}},
		{"1,2\n", ":header=maybe", []string{"header=\"maybe\""}},
	} {
		p := writeFile(t, dir, "bad.csv", []byte(c.text))
		_, err := Load(p+c.opts, Options{})
		wantErr(t, err, append([]string{"bad.csv"}, c.parts...)...)
	}
}

// ---- PNG folders ----

func writePNG(t *testing.T, p string, img image.Image) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(p), filepath.Base(p), buf.Bytes())
}

func TestPNGDir(t *testing.T) {
	dir := t.TempDir()
	g := image.NewGray(image.Rect(0, 0, 3, 2))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 51)
	}
	writePNG(t, filepath.Join(dir, "flat", "a.png"), g)
	writePNG(t, filepath.Join(dir, "flat", "b.png"), g)
	d, err := Load(filepath.Join(dir, "flat"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.Height != 2 || d.Width != 3 || d.Channels != 1 || d.Labels != nil {
		t.Fatalf("flat: %+v", d)
	}
	eqF(t, "gray", d.X.Row(1), []float32{0, 0.2, 0.4, 0.6, 0.8, 1})
	// Class subfolders, one RGB image → all RGB.
	writePNG(t, filepath.Join(dir, "cls", "cats", "1.png"), g)
	c := image.NewRGBA(image.Rect(0, 0, 3, 2))
	c.Set(0, 0, color.RGBA{255, 0, 51, 255})
	writePNG(t, filepath.Join(dir, "cls", "dogs", "2.png"), c)
	d, err = Load(filepath.Join(dir, "cls"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Channels != 3 || d.NumClasses != 2 || d.ClassNames[1] != "dogs" || d.Labels[0] != 0 || d.Labels[1] != 1 {
		t.Fatalf("classes: %+v", d)
	}
	eqF(t, "rgb", d.X.Row(1)[:6], []float32{1, 0, 0.2, 0, 0, 0})
	eqF(t, "gray as rgb", d.X.Row(0)[:6], []float32{0, 0, 0, 0.2, 0.2, 0.2})
	// Size mismatch and a broken file are errors naming the file.
	writePNG(t, filepath.Join(dir, "mixed", "a.png"), g)
	writePNG(t, filepath.Join(dir, "mixed", "b.png"), image.NewGray(image.Rect(0, 0, 4, 4)))
	_, err = Load(filepath.Join(dir, "mixed"), Options{})
	wantErr(t, err, "b.png", "4×4", "same size")
	writeFile(t, filepath.Join(dir, "broken"), "x.png", []byte("\x89PNG\r\n\x1a\nnope"))
	_, err = Load(filepath.Join(dir, "broken"), Options{})
	wantErr(t, err, "x.png", "not a valid PNG")
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	_, err = Load(filepath.Join(dir, "empty"), Options{})
	wantErr(t, err, "no .png files")
}

// ---- IDX and amat through Load ----

func TestLoadIDXAndAmatFiles(t *testing.T) {
	dir := t.TempDir()
	img := writeFile(t, dir, "imgs-idx3-ubyte.gz", gz(idxBytes(0x08, []int{2, 1, 2}, []byte{0, 255, 255, 0})))
	lab := writeFile(t, dir, "labs-idx1-ubyte", idxBytes(0x08, []int{2}, []byte{4, 9}))
	d, err := Load(img+":labels="+lab, Options{})
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "idx", d.X.Data, []float32{0, 1, 1, 0})
	if d.Height != 1 || d.Width != 2 || d.Labels[1] != 9 || !d.Binary {
		t.Fatalf("idx: %+v", d)
	}
	bad := writeFile(t, dir, "bad-labels-idx1-ubyte", idxBytes(0x08, []int{3}, []byte{1, 2, 3}))
	_, err = Load(img+":labels="+bad, Options{})
	wantErr(t, err, "bad-labels-idx1-ubyte", "3 labels for 2 examples")
	am := writeFile(t, dir, "x.amat.gz", gz([]byte("0 1\n1 1\n")))
	d, err = Load(am, Options{})
	if err != nil || d.Len() != 2 || d.Dim() != 2 || !d.Binary {
		t.Fatalf("amat: %v %+v", err, d)
	}
	_, err = Load(filepath.Join(dir, "missing.npy"), Options{})
	wantErr(t, err, "missing.npy", "no such file")
}

// TestSaveNPYMissingFolder checks the error for a file in a folder that does not
// exist: it names the path and the folder, not the temporary file.
func TestSaveNPYMissingFolder(t *testing.T) {
	dir := t.TempDir()
	d := &Dataset{X: tensor.New(2, 3)}
	missing := filepath.Join(dir, "nodir", "x.npy")
	want := "dataset: " + missing + ": folder " + filepath.Join(dir, "nodir") + " does not exist"
	if err := SaveNPY(missing, d); err == nil || err.Error() != want {
		t.Errorf("SaveNPY(missing folder): %v, want %q", err, want)
	}
	if err := SaveNPY(dir, d); err == nil || !strings.Contains(err.Error(), dir+": is a folder") {
		t.Errorf("SaveNPY(folder): %v", err)
	}
}
