package checkpoint

import (
	"bytes"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the decoder: it must return an error or a
// File that encodes again and decodes to the same kind and tensors, and never
// panic. Seed corpus: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	var buf bytes.Buffer
	if err := Encode(&buf, sampleFile()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, got); err != nil {
			t.Fatalf("decoded file does not encode: %v", err)
		}
		if got.LatentVersion == LatentVersion && !bytes.Equal(out.Bytes(), b) {
			// Only files written by this version round-trip byte for byte; the
			// header's JSON may also be spelled differently (spaces, key order).
			again, err := Decode(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatalf("re-encoded file does not decode: %v", err)
			}
			if again.Kind != got.Kind || len(again.Tensors) != len(got.Tensors) {
				t.Fatal("re-encoded file differs")
			}
		}
	})
}
