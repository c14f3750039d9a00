package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzLoad when
// CHECKPOINT_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CHECKPOINT_WRITE_CORPUS") == "" {
		t.Skip("set CHECKPOINT_WRITE_CORPUS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	os.MkdirAll(dir, 0o755)
	var buf bytes.Buffer
	Encode(&buf, sampleFile())
	valid := buf.Bytes()
	small := &File{Kind: "gmm", Meta: []byte(`{"k":2}`)}
	small.AddF64("means", []int{2, 1}, []float64{-1, 1})
	var sb bytes.Buffer
	Encode(&sb, small)
	newer := append([]byte{}, sb.Bytes()...)
	binary.LittleEndian.PutUint32(newer[8:], 9)
	flipped := append([]byte{}, valid...)
	flipped[len(flipped)-7] ^= 1
	seeds := map[string][]byte{
		"valid":     valid,
		"small":     sb.Bytes(),
		"truncated": valid[:len(valid)/2],
		"newer":     newer,
		"flipped":   flipped,
		"empty":     {},
		"magic":     []byte("LATENTCK"),
	}
	for name, b := range seeds {
		s := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
