package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleFile() *File {
	f := &File{Kind: "rbm"}
	if err := f.SetMeta(map[string]any{"visible": 3, "hidden": 2, "data": "bars:4", "step": 17}); err != nil {
		panic(err)
	}
	f.AddF32("W", []int{3, 2}, []float32{1, -2, 3.5, float32(math.Inf(1)), -0, 1e-30})
	f.AddF32("b", []int{3}, []float32{0.25, 0.5, 0.75})
	f.AddF64("trace", []int{2, 2}, []float64{math.Pi, -math.E, math.NaN(), 1e300})
	f.AddBytes("rng", []byte("state\x00\xff"))
	f.AddF32("empty", []int{0, 5}, nil)
	f.AddBytes("none", nil)
	return f
}

func sameFile(t *testing.T, got, want *File) {
	t.Helper()
	if got.Kind != want.Kind {
		t.Errorf("kind %q, want %q", got.Kind, want.Kind)
	}
	if !bytes.Equal(got.Meta, want.Meta) {
		t.Errorf("meta %s, want %s", got.Meta, want.Meta)
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for i := range want.Tensors {
		g, w := got.Tensors[i], want.Tensors[i]
		if g.Name != w.Name || !reflect.DeepEqual(g.Shape, w.Shape) {
			t.Errorf("tensor %d: %s%v, want %s%v", i, g.Name, g.Shape, w.Name, w.Shape)
		}
		if (g.F32 == nil) != (w.F32 == nil) || (g.F64 == nil) != (w.F64 == nil) || (g.Bytes == nil) != (w.Bytes == nil) {
			t.Errorf("tensor %s: dtype changed", w.Name)
		}
		for j := range w.F32 {
			if math.Float32bits(g.F32[j]) != math.Float32bits(w.F32[j]) {
				t.Errorf("%s[%d] = %v, want %v", w.Name, j, g.F32[j], w.F32[j])
			}
		}
		for j := range w.F64 {
			if math.Float64bits(g.F64[j]) != math.Float64bits(w.F64[j]) {
				t.Errorf("%s[%d] = %v, want %v", w.Name, j, g.F64[j], w.F64[j])
			}
		}
		if !bytes.Equal(g.Bytes, w.Bytes) {
			t.Errorf("%s = %q, want %q", w.Name, g.Bytes, w.Bytes)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ckpt")
	want := sampleFile()
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, got, want)
	if got.LatentVersion != LatentVersion || got.FormatVersion != FormatVersion {
		t.Errorf("versions %q %d, want %q %d", got.LatentVersion, got.FormatVersion, LatentVersion, FormatVersion)
	}
	w, err := got.F32("W", 6)
	if err != nil || w[2] != 3.5 {
		t.Errorf("F32 getter: %v %v", w, err)
	}
	if _, err := got.F32("W", 5); err == nil {
		t.Error("F32 with wrong size: no error")
	}
	kind, err := PeekKind(path)
	if err != nil || kind != "rbm" {
		t.Errorf("PeekKind = %q, %v", kind, err)
	}
	if _, err := LoadKind(path, "vae", "cvae"); err == nil || !strings.Contains(err.Error(), `holds a "rbm" model, want "vae" or "cvae"`) {
		t.Errorf("LoadKind wrong kind: %v", err)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after Save, want 1", len(ents))
	}
}

// TestLayout checks the documented byte layout on a tiny file.
func TestLayout(t *testing.T) {
	f := &File{Kind: "k"}
	f.AddF32("a", []int{1}, []float32{1})
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if string(b[:8]) != "LATENTCK" || binary.LittleEndian.Uint32(b[8:]) != 1 {
		t.Fatalf("bad prefix % x", b[:12])
	}
	h := int(binary.LittleEndian.Uint32(b[12:]))
	wantHdr := `{"kind":"k","latent_version":"` + LatentVersion + `","meta":null,"tensors":[{"name":"a","dtype":"f32","shape":[1]}]}`
	if string(b[16:16+h]) != wantHdr {
		t.Errorf("header %s, want %s", b[16:16+h], wantHdr)
	}
	if !bytes.Equal(b[16+h:20+h], []byte{0, 0, 0x80, 0x3f}) { // 1.0f little-endian
		t.Errorf("data % x", b[16+h:20+h])
	}
	if len(b) != 24+h {
		t.Errorf("length %d, want %d", len(b), 24+h)
	}
	// CRC-32C of "123456789" is 0xE3069283 (the standard check value).
	if got := crc32c([]byte("123456789")); got != 0xE3069283 {
		t.Errorf("CRC-32C check value %#x", got)
	}
	if binary.LittleEndian.Uint32(b[len(b)-4:]) != crc32c(b[:len(b)-4]) {
		t.Error("trailing checksum is not CRC-32C of the rest")
	}
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := Save(p1, sampleFile()); err != nil {
		t.Fatal(err)
	}
	if err := Save(p2, sampleFile()); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) {
		t.Error("two saves of the same File differ")
	}
}

func TestSaveRejects(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]*File{
		"empty model kind":        {},
		"not valid JSON":          {Kind: "x", Meta: []byte("{")},
		"duplicate tensor name":   {Kind: "x", Tensors: []Tensor{{Name: "a", Shape: []int{1}, F32: []float32{1}}, {Name: "a", Shape: []int{1}, F32: []float32{1}}}},
		"holds 4 values":          {Kind: "x", Tensors: []Tensor{{Name: "a", Shape: []int{2, 2}, F32: []float32{1}}}},
		"exactly one of F32":      {Kind: "x", Tensors: []Tensor{{Name: "a", Shape: []int{1}, F32: []float32{1}, F64: []float64{1}}}},
		"negative dimension":      {Kind: "x", Tensors: []Tensor{{Name: "a", Shape: []int{-1}, F32: []float32{}}}},
		"tensor 0 has an empty n": {Kind: "x", Tensors: []Tensor{{Shape: []int{1}, F32: []float32{1}}}},
	}
	for want, f := range cases {
		path := filepath.Join(dir, "m.ckpt")
		err := Save(path, f)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Save: got %v, want error containing %q and the path", err, want)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s: a file was written", want)
		}
	}
}

func saved(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.ckpt")
	if err := Save(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

func TestCorruption(t *testing.T) {
	path, orig := saved(t)
	write := func(b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every single flipped bit and every truncation is an error naming the file.
	for i := range orig {
		for _, bit := range []byte{0x01, 0x80} {
			b := append([]byte{}, orig...)
			b[i] ^= bit
			write(b)
			f, err := Load(path)
			if err == nil {
				t.Fatalf("bit flip %#x at byte %d: no error (kind %q)", bit, i, f.Kind)
			}
			if !strings.HasPrefix(err.Error(), "checkpoint: "+path+": ") {
				t.Fatalf("bit flip at %d: error %q does not name the file", i, err)
			}
		}
	}
	for n := 0; n < len(orig); n++ {
		write(orig[:n])
		_, err := Load(path)
		if err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("truncated: error %q does not name the file", err)
		}
		if n >= 100 && !strings.Contains(err.Error(), "checksum mismatch (file corrupted or truncated)") {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	// Corrupting only the data part is caught by the checksum.
	b := append([]byte{}, orig...)
	b[len(b)-10] ^= 0x40
	write(b)
	if _, err := Load(path); err == nil || err.Error() != "checkpoint: "+path+": checksum mismatch (file corrupted or truncated)" {
		t.Errorf("data corruption: %v", err)
	}
	write(append(append([]byte{}, orig...), 0))
	if _, err := Load(path); err == nil {
		t.Error("trailing garbage: no error")
	}
	write([]byte("PK\x03\x04 this is a zip file, not a model"))
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "not a latent model file") {
		t.Errorf("wrong magic: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.ckpt")); err == nil || !strings.Contains(err.Error(), "missing.ckpt") {
		t.Errorf("missing file: %v", err)
	}
}

// reseal recomputes b's trailing checksum.
func reseal(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32c(b[:len(b)-4]))
	return b
}

// TestNewerVersion: an intact file of a later format version (valid
// checksum, whatever its header holds) is reported as newer.
func TestNewerVersion(t *testing.T) {
	path, b := saved(t)
	binary.LittleEndian.PutUint32(b[8:], FormatVersion+1)
	os.WriteFile(path, reseal(b), 0o644)
	want := "checkpoint: " + path + ": format version 2 is newer than this latent (max 1); upgrade latent"
	if _, err := Load(path); err == nil || err.Error() != want {
		t.Errorf("Load: %v\nwant %s", err, want)
	}
	if _, err := PeekKind(path); err == nil || err.Error() != want {
		t.Errorf("PeekKind: %v\nwant %s", err, want)
	}
	// A later version may change everything between the version and the
	// checksum.
	nb := append([]byte(Magic), 7, 0, 0, 0)
	nb = append(nb, "a different layout altogether"...)
	nb = reseal(append(nb, 0, 0, 0, 0))
	if _, err := Decode(bytes.NewReader(nb), int64(len(nb))); err == nil || !strings.Contains(err.Error(), "format version 7 is newer") {
		t.Errorf("version 7: %v", err)
	}
}

// TestHeaderFlipsAreCorruption flips every byte of a small file's prefix and
// header in several ways: a damaged file is never reported as a newer
// version, however its version field reads (one flipped bit of version 1
// reads 257), and the same damage with the checksum recomputed is.
func TestHeaderFlipsAreCorruption(t *testing.T) {
	f := &File{Kind: "rbm", Meta: []byte(`{"epochs":3}`)}
	f.AddF32("W", []int{2, 2}, []float32{1, 2, 3, 4})
	f.AddBytes("rng", []byte{9, 8, 7})
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	orig := buf.Bytes()
	hlen := int(binary.LittleEndian.Uint32(orig[12:]))
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ckpt")
	check := func(b []byte, what string, resealed bool) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ver := binary.LittleEndian.Uint32(b[8:])
		for _, load := range []func(string) error{
			func(p string) error { _, err := Load(p); return err },
			func(p string) error { _, err := PeekKind(p); return err },
		} {
			err := load(path)
			newer := err != nil && strings.Contains(err.Error(), "newer")
			switch {
			case resealed && ver > FormatVersion && string(b[:8]) == Magic:
				if !newer {
					t.Fatalf("%s, checksum recomputed: %v, want newer", what, err)
				}
			case newer:
				t.Fatalf("%s: %v", what, err)
			case !resealed && err == nil && !bytes.Equal(b, orig):
				// Only PeekKind may miss damage after the header.
				if _, lerr := Load(path); lerr == nil {
					t.Fatalf("%s: no error", what)
				}
			}
		}
	}
	for i := 0; i < prefixLen+hlen; i++ {
		for _, x := range []byte{0x01, 0x02, 0x10, 0x80, 0xff} {
			b := append([]byte{}, orig...)
			b[i] ^= x
			what := fmt.Sprintf("byte %d ^ %#x", i, x)
			check(b, what, false)
			if i >= 8 && i < 12 {
				check(reseal(b), what, true)
			}
		}
	}
	// The QA case: version 1 read as 257.
	b := append([]byte{}, orig...)
	b[9] = 1
	if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || err.Error() != "checkpoint: checksum mismatch (file corrupted or truncated)" {
		t.Errorf("version 257 by corruption: %v", err)
	}
	// An unknown dtype is corruption unless the checksum holds.
	b = bytes.Replace(append([]byte{}, orig...), []byte(`"dtype":"f32"`), []byte(`"dtype":"f16"`), 1)
	if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("damaged dtype: %v", err)
	}
	if _, err := Decode(bytes.NewReader(reseal(b)), int64(len(b))); err == nil || !strings.Contains(err.Error(), `unknown dtype "f16"`) {
		t.Errorf("unknown dtype, intact file: %v", err)
	}
}

// TestHugeClaims checks that a header claiming enormous tensors is rejected
// before anything is allocated for them.
func TestHugeClaims(t *testing.T) {
	hdr := `{"kind":"x","latent_version":"0","meta":null,"tensors":[{"name":"a","dtype":"f64","shape":[1000000000000,1000000]}]}`
	b := []byte("LATENTCK")
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	b = append(b, hdr...)
	b = binary.LittleEndian.AppendUint32(b, crc32c(b))
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Fatal("no error")
		}
	})
	var ms1, ms2 runtimeMem
	ms1.read()
	_, err := Decode(bytes.NewReader(b), int64(len(b)))
	ms2.read()
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("error %v", err)
	}
	if d := ms2.total - ms1.total; d > 4<<20 {
		t.Errorf("Decode allocated %d bytes for a bogus header (%v allocs)", d, allocs)
	}
	// An unknown header field (from a later latent of the same format) is ignored.
	hdr = `{"kind":"x","created":"2031-01-01","latent_version":"9.0","meta":{"a":1},"tensors":[]}`
	b3 := []byte("LATENTCK")
	b3 = binary.LittleEndian.AppendUint32(b3, 1)
	b3 = binary.LittleEndian.AppendUint32(b3, uint32(len(hdr)))
	b3 = append(b3, hdr...)
	b3 = binary.LittleEndian.AppendUint32(b3, crc32c(b3))
	if f, err := Decode(bytes.NewReader(b3), int64(len(b3))); err != nil || f.Kind != "x" || f.LatentVersion != "9.0" || string(f.Meta) != `{"a":1}` {
		t.Errorf("header with an extra field: %+v, %v", f, err)
	}
	// A header length beyond the file.
	b2 := append([]byte{}, b...)
	binary.LittleEndian.PutUint32(b2[12:], 0xffffffff)
	if _, err := Decode(bytes.NewReader(b2), int64(len(b2))); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("huge header length: %v", err)
	}
}

// TestKillDuringSave runs a child process that saves over an existing model
// file and blocks when half of the new file is written; the parent kills it
// there and checks that the old file is intact.
func TestKillDuringSave(t *testing.T) {
	if path := os.Getenv("CHECKPOINT_TEST_CHILD"); path != "" {
		ready := path + ".ready"
		testHookHalfway = func() {
			os.WriteFile(ready, nil, 0o644)
			select {} // wait to be killed
		}
		big := &File{Kind: "vae"}
		big.AddF32("w", []int{1 << 20}, make([]float32, 1<<20))
		Save(path, big)
		os.Exit(3) // not reached
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ckpt")
	old := sampleFile()
	if err := Save(path, old); err != nil {
		t.Fatal(err)
	}
	oldBytes, _ := os.ReadFile(path)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringSave$")
	cmd.Env = append(os.Environ(), "CHECKPOINT_TEST_CHILD="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(path + ".ready"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child never reached the middle of Save")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The half-written temporary file exists next to the model file.
	tmps, _ := filepath.Glob(filepath.Join(dir, ".m.ckpt.tmp-*"))
	if len(tmps) != 1 {
		t.Errorf("found %d temporary files, want 1", len(tmps))
	} else if st, _ := os.Stat(tmps[0]); st.Size() < 2<<20 || st.Size() > 3<<20 {
		t.Errorf("temporary file has %d bytes, want about half of 4 MiB", st.Size())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	got, err := Load(path)
	if err != nil {
		t.Fatalf("old file no longer loads after a killed save: %v", err)
	}
	sameFile(t, got, old)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, oldBytes) {
		t.Error("old file's bytes changed")
	}
	// The next save succeeds, replaces it and removes the killed save's
	// temporary file.
	if err := Save(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".m.ckpt.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left after the next save: %v", left)
	}
}

// TestFolders checks the errors for a folder given where a model file belongs,
// and for a model file in a folder that does not exist.
func TestFolders(t *testing.T) {
	dir := t.TempDir()
	if err := Save(dir, sampleFile()); err == nil || !strings.Contains(err.Error(), dir+": is a folder") {
		t.Errorf("Save(folder): %v", err)
	}
	missing := filepath.Join(dir, "nodir", "m.ckpt")
	want := "checkpoint: " + missing + ": folder " + filepath.Join(dir, "nodir") + " does not exist"
	if err := Save(missing, sampleFile()); err == nil || err.Error() != want {
		t.Errorf("Save(missing folder): %v, want %q", err, want)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), dir+": is a folder") {
		t.Errorf("Load(folder): %v", err)
	}
	if _, err := PeekKind(dir); err == nil || !strings.Contains(err.Error(), dir+": is a folder") {
		t.Errorf("PeekKind(folder): %v", err)
	}
}
