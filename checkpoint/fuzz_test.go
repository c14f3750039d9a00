package checkpoint

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the decoder: it must return an error or a
// File that encodes again and decodes to the same kind and tensors, and never
// panic; it calls a file newer only when its checksum holds. Seed corpus: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	var buf bytes.Buffer
	if err := Encode(&buf, sampleFile()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	newer := append([]byte{}, buf.Bytes()...)
	newer[8] = 2
	f.Add(reseal(append([]byte{}, newer...))) // intact, newer
	f.Add(newer)                              // damaged version field
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			// Only an intact file may be called newer.
			if strings.Contains(err.Error(), "newer") && (len(b) < prefixLen+checksumLen ||
				binary.LittleEndian.Uint32(b[len(b)-4:]) != crc32c(b[:len(b)-4])) {
				t.Fatalf("a file failing its checksum is reported as newer: %v", err)
			}
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
