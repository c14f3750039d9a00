package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/latent-ml/latent/internal/atomicfile"
)

// LatentVersion is the version of latent, written into every model file.
const LatentVersion = "0.1.0"

// FormatVersion is the model-file format version that Save writes. Load reads
// every version up to and including it.
const FormatVersion = 1

// Magic opens every model file.
const Magic = "LATENTCK"

// The on-disk layout (all integers little-endian):
//
//	offset  size  content
//	0       8     "LATENTCK"
//	8       4     format version (uint32)
//	12      4     header length H (uint32)
//	16      H     JSON header: kind, latent_version, meta, tensor table
//	16+H    D     tensor data in table order: f32/f64 little-endian, bytes raw
//	16+H+D  4     CRC-32C (Castagnoli) of bytes [0, 16+H+D)
//
// D is fully determined by the tensor table, so Load checks that the file is
// exactly 16+H+D+4 bytes long before allocating anything.
//
// Every format version, present and future, starts with the magic and the
// version and ends with the CRC-32C of all the bytes before it. So a reader
// can check a file's integrity before it judges the version or the header: a
// file that fails its checksum is reported as corrupted, whatever its version
// field says, and only an intact file is reported as newer.
const (
	prefixLen   = 16
	checksumLen = 4
	// maxHeader bounds the JSON header; real headers are a few kilobytes.
	maxHeader = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type header struct {
	Kind          string          `json:"kind"`
	LatentVersion string          `json:"latent_version"`
	Meta          json.RawMessage `json:"meta"`
	Tensors       []tensorEntry   `json:"tensors"`
}

type tensorEntry struct {
	Name  string `json:"name"`
	DType string `json:"dtype"` // "f32", "f64" or "bytes"
	Shape []int  `json:"shape"`
}

func elemSize(dtype string) int {
	switch dtype {
	case "f32":
		return 4
	case "f64":
		return 8
	case "bytes":
		return 1
	}
	return 0
}

// numElems returns the product of shape, or an error when a dimension is negative
// or the product exceeds limit.
func numElems(shape []int, limit int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d", d)
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > limit/int64(d) {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= int64(d)
	}
	if n > limit {
		return 0, fmt.Errorf("shape %v is too large", shape)
	}
	return n, nil
}

// encodeHeader validates f and returns its JSON header and the data length.
func encodeHeader(f *File) ([]byte, int64, error) {
	if f.Kind == "" {
		return nil, 0, errors.New("empty model kind")
	}
	h := header{Kind: f.Kind, LatentVersion: LatentVersion, Meta: f.Meta, Tensors: make([]tensorEntry, len(f.Tensors))}
	if len(h.Meta) == 0 {
		h.Meta = json.RawMessage("null")
	} else if !json.Valid(h.Meta) {
		return nil, 0, errors.New("metadata is not valid JSON")
	}
	seen := make(map[string]bool, len(f.Tensors))
	var total int64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Name == "" {
			return nil, 0, fmt.Errorf("tensor %d has an empty name", i)
		}
		if seen[t.Name] {
			return nil, 0, fmt.Errorf("duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		set, dtype, n := 0, "", 0
		if t.F32 != nil {
			set, dtype, n = set+1, "f32", len(t.F32)
		}
		if t.F64 != nil {
			set, dtype, n = set+1, "f64", len(t.F64)
		}
		if t.Bytes != nil {
			set, dtype, n = set+1, "bytes", len(t.Bytes)
		}
		if set != 1 {
			return nil, 0, fmt.Errorf("tensor %q: exactly one of F32, F64 and Bytes must be set, got %d", t.Name, set)
		}
		shape := t.Shape
		if dtype == "bytes" {
			shape = []int{n}
		}
		want, err := numElems(shape, math.MaxInt64/8)
		if err != nil {
			return nil, 0, fmt.Errorf("tensor %q: %v", t.Name, err)
		}
		if want != int64(n) {
			return nil, 0, fmt.Errorf("tensor %q: shape %v holds %d values, data has %d", t.Name, shape, want, n)
		}
		h.Tensors[i] = tensorEntry{Name: t.Name, DType: dtype, Shape: append([]int{}, shape...)}
		total += int64(n) * int64(elemSize(dtype))
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, 0, err
	}
	if len(b) > maxHeader {
		return nil, 0, fmt.Errorf("header is %d bytes, limit %d", len(b), maxHeader)
	}
	return b, total, nil
}

// Encode writes f in the model-file format to w. Same File, same bytes: nothing
// time- or host-dependent is written.
func Encode(w io.Writer, f *File) error {
	hdr, _, err := encodeHeader(f)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	crc := crc32.New(castagnoli)
	mw := io.MultiWriter(w, crc)
	var pre [prefixLen]byte
	copy(pre[:8], Magic)
	binary.LittleEndian.PutUint32(pre[8:], FormatVersion)
	binary.LittleEndian.PutUint32(pre[12:], uint32(len(hdr)))
	if _, err := mw.Write(pre[:]); err != nil {
		return err
	}
	if _, err := mw.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		switch {
		case t.F32 != nil:
			for s := t.F32; len(s) > 0; {
				k := min(len(s), len(buf)/4)
				for j, v := range s[:k] {
					binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
				}
				if _, err := mw.Write(buf[:4*k]); err != nil {
					return err
				}
				s = s[k:]
			}
		case t.F64 != nil:
			for s := t.F64; len(s) > 0; {
				k := min(len(s), len(buf)/8)
				for j, v := range s[:k] {
					binary.LittleEndian.PutUint64(buf[8*j:], math.Float64bits(v))
				}
				if _, err := mw.Write(buf[:8*k]); err != nil {
					return err
				}
				s = s[k:]
			}
		default:
			if _, err := mw.Write(t.Bytes); err != nil {
				return err
			}
		}
	}
	var sum [checksumLen]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	_, err = w.Write(sum[:])
	return err
}

// testHookHalfway, when set, is called once by Save after half of the file's
// bytes have reached the temporary file (tests use it to kill a save midway).
var testHookHalfway func()

type countingWriter struct {
	w       io.Writer
	n, half int64
	hook    func()
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.hook != nil && c.n+int64(len(p)) >= c.half {
		k := c.half - c.n
		if _, err := c.w.Write(p[:k]); err != nil {
			return 0, err
		}
		c.n += k
		hook := c.hook
		c.hook = nil
		hook()
		m, err := c.w.Write(p[k:])
		c.n += int64(m)
		return int(k) + m, err
	}
	m, err := c.w.Write(p)
	c.n += int64(m)
	return m, err
}

// Save writes f to path atomically: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory, so a crash
// at any point leaves either the old file or the new one, never a mix.
func Save(path string, f *File) (err error) {
	hdr, dataLen, err := encodeHeader(f)
	if err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	total := int64(prefixLen+len(hdr)) + dataLen + checksumLen
	err = atomicfile.Write(path, func(tmp io.Writer) error {
		bw := bufio.NewWriterSize(tmp, 256<<10)
		var w io.Writer = bw
		if testHookHalfway != nil {
			// Count bytes that reach the file, not the buffer.
			cw := &countingWriter{w: tmp, half: total / 2, hook: func() { testHookHalfway() }}
			bw = bufio.NewWriterSize(cw, 4096)
			w = bw
		}
		if err := Encode(w, f); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Load reads and verifies the model file at path. Errors name the file and say
// what is wrong: not a model file, a newer format version, a truncated or
// corrupted file (checksum), or an inconsistent tensor table.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("checkpoint: %s: is a folder, not a model file", path)
	}
	f, err := decode(fh, st.Size(), false)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return f, nil
}

// PeekKind returns the model kind stored in the file at path, reading only its
// header (the checksum is checked by Load).
func PeekKind(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("checkpoint: %s: is a folder, not a model file", path)
	}
	f, err := decode(fh, st.Size(), true)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return f.Kind, nil
}

// LoadKind is Load followed by a check that the file holds one of kinds.
func LoadKind(path string, kinds ...string) (*File, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	for _, k := range kinds {
		if f.Kind == k {
			return f, nil
		}
	}
	return nil, fmt.Errorf("checkpoint: %s: holds a %q model, want %s", path, f.Kind, quoteList(kinds))
}

func quoteList(s []string) string {
	var b bytes.Buffer
	for i, k := range s {
		if i > 0 {
			if i == len(s)-1 {
				b.WriteString(" or ")
			} else {
				b.WriteString(", ")
			}
		}
		fmt.Fprintf(&b, "%q", k)
	}
	return b.String()
}

// Decode reads a model file of exactly size bytes from r.
func Decode(r io.Reader, size int64) (*File, error) {
	f, err := decode(r, size, false)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return f, nil
}

var errCorrupt = errors.New("checksum mismatch (file corrupted or truncated)")

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func decode(r io.Reader, size int64, headerOnly bool) (*File, error) {
	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(r, 256<<10)
	cr := &countingReader{r: br}
	tr := io.TeeReader(cr, crc)
	// intact reads the rest of the file and reports whether its trailing
	// checksum holds (see the layout). A problem found in the header is
	// reported as such only when the file is intact, and as corruption
	// otherwise.
	intact := func() bool {
		rest := size - checksumLen - cr.n
		if rest < 0 {
			return false
		}
		if _, err := io.CopyN(io.Discard, tr, rest); err != nil {
			return false
		}
		var sum [checksumLen]byte
		if _, err := io.ReadFull(cr, sum[:]); err != nil {
			return false
		}
		return binary.LittleEndian.Uint32(sum[:]) == crc.Sum32()
	}
	var pre [prefixLen]byte
	if _, err := io.ReadFull(tr, pre[:]); err != nil {
		if size >= 8 && string(pre[:8]) != Magic {
			return nil, errors.New("not a latent model file (bad magic)")
		}
		return nil, fmt.Errorf("file is %d bytes, too short for a model file (truncated?)", size)
	}
	if string(pre[:8]) != Magic {
		return nil, errors.New("not a latent model file (bad magic)")
	}
	ver := binary.LittleEndian.Uint32(pre[8:])
	if ver > FormatVersion {
		if !intact() {
			return nil, errCorrupt
		}
		return nil, fmt.Errorf("format version %d is newer than this latent (max %d); upgrade latent", ver, FormatVersion)
	}
	if ver == 0 {
		return nil, fmt.Errorf("format version 0 is invalid: %w", errCorrupt)
	}
	hlen := int64(binary.LittleEndian.Uint32(pre[12:]))
	if hlen > maxHeader || prefixLen+hlen+checksumLen > size {
		return nil, fmt.Errorf("header length %d does not fit in a %d-byte file: %w", hlen, size, errCorrupt)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(tr, hb); err != nil {
		return nil, errCorrupt
	}
	var h header
	// Unknown header fields are ignored: later versions may add optional ones
	// (incompatible changes raise FormatVersion).
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, fmt.Errorf("header: %v: %w", err, errCorrupt)
	}
	if h.Kind == "" {
		return nil, fmt.Errorf("header has no model kind: %w", errCorrupt)
	}
	// Check the whole table against the file size before allocating.
	avail := size - prefixLen - hlen - checksumLen
	var total int64
	seen := make(map[string]bool, len(h.Tensors))
	for _, t := range h.Tensors {
		es := int64(elemSize(t.DType))
		if es == 0 {
			if !intact() {
				return nil, errCorrupt
			}
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("tensor table: empty or duplicate name %q: %w", t.Name, errCorrupt)
		}
		seen[t.Name] = true
		if t.DType == "bytes" && len(t.Shape) != 1 {
			return nil, fmt.Errorf("tensor %q: blob shape %v is not 1-D: %w", t.Name, t.Shape, errCorrupt)
		}
		n, err := numElems(t.Shape, (avail-total)/es)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %v; the file has %d bytes: %w", t.Name, err, size, errCorrupt)
		}
		total += n * es
	}
	if total != avail {
		return nil, fmt.Errorf("tensor table needs %d data bytes, file holds %d: %w", total, avail, errCorrupt)
	}
	f := &File{Kind: h.Kind, Meta: h.Meta, LatentVersion: h.LatentVersion, FormatVersion: int(ver)}
	if string(f.Meta) == "null" {
		f.Meta = nil
	}
	if headerOnly {
		return f, nil
	}
	f.Tensors = make([]Tensor, len(h.Tensors))
	buf := make([]byte, 64<<10)
	for i, e := range h.Tensors {
		n, _ := numElems(e.Shape, math.MaxInt64)
		t := Tensor{Name: e.Name, Shape: e.Shape}
		switch e.DType {
		case "f32":
			t.F32 = make([]float32, n)
			for s := t.F32; len(s) > 0; {
				k := min(len(s), len(buf)/4)
				if _, err := io.ReadFull(tr, buf[:4*k]); err != nil {
					return nil, errCorrupt
				}
				for j := range s[:k] {
					s[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
				}
				s = s[k:]
			}
		case "f64":
			t.F64 = make([]float64, n)
			for s := t.F64; len(s) > 0; {
				k := min(len(s), len(buf)/8)
				if _, err := io.ReadFull(tr, buf[:8*k]); err != nil {
					return nil, errCorrupt
				}
				for j := range s[:k] {
					s[j] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*j:]))
				}
				s = s[k:]
			}
		default:
			t.Bytes = make([]byte, n)
			if _, err := io.ReadFull(tr, t.Bytes); err != nil {
				return nil, errCorrupt
			}
		}
		f.Tensors[i] = t
	}
	want := crc.Sum32()
	var sum [checksumLen]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return nil, errCorrupt
	}
	if binary.LittleEndian.Uint32(sum[:]) != want {
		return nil, errCorrupt
	}
	return f, nil
}
