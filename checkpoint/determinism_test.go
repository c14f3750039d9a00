package checkpoint

import (
	"bytes"
	"fmt"
	"testing"
)

// TestEncodeDeterministic: the same File gives the same bytes, encoded twice,
// after a decode, and with metadata maps filled in different orders (Encode
// adds no time stamp, host name or map-order-dependent text of its own).
func TestEncodeDeterministic(t *testing.T) {
	enc := func(f *File) []byte {
		t.Helper()
		var buf bytes.Buffer
		if err := Encode(&buf, f); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	f := sampleFile()
	first := enc(f)
	if !bytes.Equal(first, enc(f)) || !bytes.Equal(first, enc(sampleFile())) {
		t.Error("two encodings of the same File differ")
	}
	got, err := Decode(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, enc(got)) {
		t.Error("decode then encode changes the bytes")
	}
	// Metadata maps: insertion order (and Go's random map iteration) must
	// not reach the file.
	meta := func(reverse bool) *File {
		m := map[string]any{}
		inner := map[string]float64{}
		for k := 0; k < 200; k++ {
			i := k
			if reverse {
				i = 199 - k
			}
			m[fmt.Sprintf("key%03d", i)] = i
			inner[fmt.Sprintf("x%d", i)] = float64(i) / 7
		}
		m["inner"] = inner
		f := &File{Kind: "vae"}
		if err := f.SetMeta(m); err != nil {
			t.Fatal(err)
		}
		f.AddF32("w", []int{2}, []float32{1, 2})
		return f
	}
	a := enc(meta(false))
	for i := 0; i < 20; i++ {
		if !bytes.Equal(a, enc(meta(i%2 == 1))) {
			t.Fatal("metadata maps filled in different orders encode differently")
		}
	}
	// Raw metadata is compacted: spacing does not reach the file.
	r1 := &File{Kind: "k", Meta: []byte(`{"a": 1,  "b": [1, 2]}`)}
	r2 := &File{Kind: "k", Meta: []byte(`{"a":1,"b":[1,2]}`)}
	if !bytes.Equal(enc(r1), enc(r2)) {
		t.Error("metadata spacing changes the bytes")
	}
}
