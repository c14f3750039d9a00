package dataset

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/internal/atomicfile"
	"github.com/latent-ml/latent/tensor"
)

const npyMagic = "\x93NUMPY"

// npyType describes a supported NumPy dtype.
type npyType struct {
	kind    byte // 'f', 'i', 'u', 'b'
	size    int
	big     bool
	isUint8 bool
}

// ReadNPY reads a NumPy .npy array (format versions 1-3; gzip-compressed or
// raw) from r. Supported dtypes: float32, float64, uint8/16/32/64,
// int8/16/32/64 and bool, either byte order, C order. Fortran order, object,
// string and structured arrays are errors, and so are NaN and Inf. size is the
// number of bytes r holds, or -1 when unknown. The second result reports
// whether the dtype was uint8 (pixel data, see Load's scale option).
func ReadNPY(r io.Reader, name string, size int64) (*Array, bool, error) {
	s, err := newSource(r, name, size, false)
	if err != nil {
		return nil, false, err
	}
	return readNPY(s)
}

func readNPY(s *source) (*Array, bool, error) {
	name := s.name
	var pre [8]byte
	if _, err := io.ReadFull(s.r, pre[:]); err != nil || string(pre[:6]) != npyMagic {
		return nil, false, ferr(name, "bad magic (not a .npy file)")
	}
	major := pre[6]
	var hlen int64
	var hdrBytes int64
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(s.r, b[:]); err != nil {
			return nil, false, ferr(name, "truncated .npy header")
		}
		hlen = int64(binary.LittleEndian.Uint16(b[:]))
		hdrBytes = 10 + hlen
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(s.r, b[:]); err != nil {
			return nil, false, ferr(name, "truncated .npy header")
		}
		hlen = int64(binary.LittleEndian.Uint32(b[:]))
		hdrBytes = 12 + hlen
	default:
		return nil, false, ferr(name, "unsupported .npy format version %d.%d", major, pre[7])
	}
	if hlen > 1<<20 || (s.maxBytes >= 0 && hdrBytes > s.maxBytes) {
		return nil, false, ferr(name, "impossible .npy header length %d", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(s.r, hdr); err != nil {
		return nil, false, ferr(name, "truncated .npy header")
	}
	descr, fortran, shape, err := parseNPYHeader(string(hdr))
	if err != nil {
		return nil, false, ferr(name, "bad .npy header: %v", err)
	}
	if fortran {
		return nil, false, ferr(name, "Fortran-order arrays are not supported (save with np.ascontiguousarray)")
	}
	typ, err := parseDescr(descr)
	if err != nil {
		return nil, false, ferr(name, "%v", err)
	}
	total := int64(1)
	for _, d := range shape {
		if d < 0 {
			return nil, false, ferr(name, "negative dimension in shape %v", shape)
		}
		if d == 0 {
			total = 0
		}
		if total > 0 && int64(d) > maxValues/total {
			return nil, false, ferr(name, "impossible shape %v: more than %d values", shape, int64(maxValues))
		}
		total *= int64(d)
	}
	nbytes := total * int64(typ.size)
	if s.maxBytes >= 0 {
		avail := s.maxBytes - hdrBytes
		if !s.gz && nbytes != avail {
			return nil, false, ferr(name, "header claims shape %v = %d values (%d bytes) but the file holds %d bytes of data",
				shape, total, nbytes, avail)
		}
		if s.gz && nbytes > avail {
			return nil, false, ferr(name, "header claims shape %v = %d values but a %d-byte gzip file holds at most %d bytes",
				shape, total, s.size, avail)
		}
	}
	data, err := readValues(name, s.r, total, typ.size, s.initCap(total, typ.size), npyConv(typ))
	if err != nil {
		return nil, false, err
	}
	if typ.kind == 'f' {
		if err := checkFinite(name, data); err != nil {
			return nil, false, err
		}
	}
	if err := expectEOF(name, s.r); err != nil {
		return nil, false, err
	}
	return &Array{Shape: shape, Data: data}, typ.isUint8, nil
}

func parseDescr(descr string) (npyType, error) {
	if len(descr) < 2 {
		return npyType{}, fmt.Errorf("unsupported dtype %q", descr)
	}
	t := npyType{}
	order := descr[0]
	code := descr
	switch order {
	case '<', '=':
		code = descr[1:]
	case '|':
		code = descr[1:]
	case '>':
		t.big = true
		code = descr[1:]
	}
	if len(code) < 1 {
		return t, fmt.Errorf("unsupported dtype %q", descr)
	}
	switch code[0] {
	case 'O':
		return t, fmt.Errorf("object arrays (dtype %q) are not supported; save a numeric array", descr)
	case 'f', 'i', 'u', 'b':
	case '?':
		code = "b1"
	default:
		return t, fmt.Errorf("unsupported dtype %q (supported: float32, float64, (u)int8-64, bool)", descr)
	}
	n, err := strconv.Atoi(code[1:])
	if err != nil {
		return t, fmt.Errorf("unsupported dtype %q (supported: float32, float64, (u)int8-64, bool)", descr)
	}
	t.kind, t.size = code[0], n
	ok := false
	switch t.kind {
	case 'f':
		ok = n == 4 || n == 8
	case 'i', 'u':
		ok = n == 1 || n == 2 || n == 4 || n == 8
	case 'b':
		ok = n == 1
	}
	if !ok {
		return t, fmt.Errorf("unsupported dtype %q (supported: float32, float64, (u)int8-64, bool)", descr)
	}
	t.isUint8 = t.kind == 'u' && n == 1
	return t, nil
}

func npyConv(t npyType) func(dst []float32, src []byte) {
	var bo binary.ByteOrder = binary.LittleEndian
	if t.big {
		bo = binary.BigEndian
	}
	switch {
	case t.kind == 'u' && t.size == 1:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = u8Raw[src[i]]
			}
		}
	case t.kind == 'b':
		return func(dst []float32, src []byte) {
			for i := range dst {
				if src[i] != 0 {
					dst[i] = 1
				} else {
					dst[i] = 0
				}
			}
		}
	case t.kind == 'i' && t.size == 1:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(int8(src[i]))
			}
		}
	case t.kind == 'f' && t.size == 4:
		if !t.big {
			return func(dst []float32, src []byte) {
				for i := range dst {
					dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
				}
			}
		}
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = math.Float32frombits(bo.Uint32(src[4*i:]))
			}
		}
	case t.kind == 'f' && t.size == 8:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(math.Float64frombits(bo.Uint64(src[8*i:])))
			}
		}
	case t.kind == 'i' && t.size == 2:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(int16(bo.Uint16(src[2*i:])))
			}
		}
	case t.kind == 'u' && t.size == 2:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(bo.Uint16(src[2*i:]))
			}
		}
	case t.kind == 'i' && t.size == 4:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(int32(bo.Uint32(src[4*i:])))
			}
		}
	case t.kind == 'u' && t.size == 4:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(bo.Uint32(src[4*i:]))
			}
		}
	case t.kind == 'i' && t.size == 8:
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(int64(bo.Uint64(src[8*i:])))
			}
		}
	default: // 'u', 8
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(bo.Uint64(src[8*i:]))
			}
		}
	}
}

// parseNPYHeader parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	p := &pyParser{s: h}
	p.ws()
	if !p.eat('{') {
		return "", false, nil, fmt.Errorf("want a dict")
	}
	var haveDescr, haveFortran, haveShape bool
	for {
		p.ws()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return "", false, nil, err
		}
		p.ws()
		if !p.eat(':') {
			return "", false, nil, fmt.Errorf("want ':' after %q", key)
		}
		p.ws()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return "", false, nil, fmt.Errorf("structured dtypes are not supported")
			}
			if descr, err = p.str(); err != nil {
				return "", false, nil, err
			}
			haveDescr = true
		case "fortran_order":
			switch {
			case strings.HasPrefix(p.s[p.i:], "True"):
				fortran, p.i = true, p.i+4
			case strings.HasPrefix(p.s[p.i:], "False"):
				fortran, p.i = false, p.i+5
			default:
				return "", false, nil, fmt.Errorf("fortran_order is not True or False")
			}
			haveFortran = true
		case "shape":
			if shape, err = p.tuple(); err != nil {
				return "", false, nil, err
			}
			haveShape = true
		default:
			return "", false, nil, fmt.Errorf("unknown key %q", key)
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		p.ws()
		if p.eat('}') {
			break
		}
		return "", false, nil, fmt.Errorf("want ',' or '}' at offset %d", p.i)
	}
	if !haveDescr || !haveFortran || !haveShape {
		return "", false, nil, fmt.Errorf("missing descr, fortran_order or shape")
	}
	return descr, fortran, shape, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *pyParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("want a string at offset %d", p.i)
	}
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, nil
}

func (p *pyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("shape is not a tuple")
	}
	shape := []int{}
	for {
		p.ws()
		if p.eat(')') {
			return shape, nil
		}
		j := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2 long
			p.i++
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(p.s[j:p.i], "L"), 10, 64)
		if err != nil || v > maxValues {
			return nil, fmt.Errorf("bad shape entry %q", p.s[j:p.i])
		}
		if len(shape) >= 32 {
			return nil, fmt.Errorf("more than 32 dimensions")
		}
		shape = append(shape, int(v))
		p.ws()
		if p.eat(',') {
			continue
		}
		p.ws()
		if p.eat(')') {
			return shape, nil
		}
		return nil, fmt.Errorf("bad shape tuple")
	}
}

// ReadNPZ reads the arrays of a NumPy .npz archive (zip of .npy files). keys
// selects the members to read (without ".npy"); nil reads all. size is the
// archive's length in bytes.
func ReadNPZ(r io.ReaderAt, name string, size int64, keys []string) (map[string]*Array, map[string]bool, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, ferr(name, "not a valid .npz (zip) archive: %v", err)
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	out := map[string]*Array{}
	u8 := map[string]bool{}
	for _, f := range zr.File {
		key := strings.TrimSuffix(f.Name, ".npy")
		if keys != nil && !want[key] {
			continue
		}
		if _, dup := out[key]; dup {
			return nil, nil, ferr(name, "member %q appears twice", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, nil, ferr(name, "member %q: %v", f.Name, err)
		}
		// archive/zip checks that a member yields exactly UncompressedSize64
		// bytes; bound that claim by what the archive's bytes can expand to.
		limit := uint64(size)
		if f.Method != zip.Store {
			limit = uint64(size)*maxInflate + gzipSlack
		}
		if f.UncompressedSize64 > limit {
			rc.Close()
			return nil, nil, ferr(name, "member %q claims %d bytes, more than a %d-byte archive can hold", f.Name, f.UncompressedSize64, size)
		}
		s, err := newSource(rc, name+"["+key+"]", int64(f.UncompressedSize64), false)
		if err != nil {
			rc.Close()
			return nil, nil, err
		}
		a, isU8, err := readNPY(s)
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		out[key], u8[key] = a, isU8
	}
	for _, k := range keys {
		if out[k] == nil {
			return nil, nil, ferr(name, "no array %q in the archive (has %s)", k, strings.Join(npzKeys(zr), ", "))
		}
	}
	return out, u8, nil
}

func npzKeys(zr *zip.Reader) []string {
	var ks []string
	for _, f := range zr.File {
		ks = append(ks, strings.TrimSuffix(f.Name, ".npy"))
	}
	sort.Strings(ks)
	return ks
}

// npyHeader builds a version 1.0 header for dtype descr and shape, padded so
// the data starts at a multiple of 64 bytes.
func npyHeader(descr string, shape []int) []byte {
	var sh strings.Builder
	sh.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			sh.WriteString(", ")
		}
		sh.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sh.WriteByte(',')
	}
	sh.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sh.String())
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, npyMagic...)
	h = append(h, 1, 0)
	hl := len(dict) + pad + 1
	h = append(h, byte(hl), byte(hl>>8))
	h = append(h, dict...)
	h = append(h, bytes.Repeat([]byte{' '}, pad)...)
	return append(h, '\n')
}

// WriteNPY writes m as a little-endian float32 .npy array of the given shape
// (nil means [m.Rows, m.Cols]); the product of shape must be m.Rows*m.Cols.
func WriteNPY(w io.Writer, m *tensor.Mat, shape []int) error {
	if shape == nil {
		shape = []int{m.Rows, m.Cols}
	}
	p := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("dataset: WriteNPY: negative dimension in shape %v", shape)
		}
		p *= d
	}
	if p != m.Rows*m.Cols {
		return fmt.Errorf("dataset: WriteNPY: shape %v holds %d values, matrix %d×%d", shape, p, m.Rows, m.Cols)
	}
	if _, err := w.Write(npyHeader("<f4", shape)); err != nil {
		return fmt.Errorf("dataset: WriteNPY: %w", err)
	}
	buf := make([]byte, 4*m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("dataset: WriteNPY: %w", err)
		}
	}
	return nil
}

// WriteNPYLabels writes labels as a 1-D little-endian int64 .npy array.
func WriteNPYLabels(w io.Writer, labels []int) error {
	if _, err := w.Write(npyHeader("<i8", []int{len(labels)})); err != nil {
		return fmt.Errorf("dataset: WriteNPYLabels: %w", err)
	}
	buf := make([]byte, 8*min(len(labels), 4096))
	for i := 0; i < len(labels); i += 4096 {
		chunk := labels[i:min(i+4096, len(labels))]
		for j, v := range chunk {
			binary.LittleEndian.PutUint64(buf[8*j:], uint64(int64(v)))
		}
		if _, err := w.Write(buf[:8*len(chunk)]); err != nil {
			return fmt.Errorf("dataset: WriteNPYLabels: %w", err)
		}
	}
	return nil
}

// LabelsPath returns the file that holds the labels of the .npy file path:
// "x.npy" → "x.labels.npy". Load reads it when present; SaveNPY writes it.
func LabelsPath(path string) string {
	return strings.TrimSuffix(path, ".npy") + ".labels.npy"
}

// SaveNPY writes d.X to path as float32 .npy (shaped n×H×W, n×H×W×C or n×d)
// and, when d has labels, the labels as int64 to LabelsPath(path). Each file
// is written to a temporary file, synced and renamed into place.
func SaveNPY(path string, d *Dataset) error {
	shape := []int{d.X.Rows, d.X.Cols}
	if d.Height > 0 && d.Width > 0 && d.Height*d.Width*max(d.Channels, 1) == d.X.Cols {
		shape = []int{d.X.Rows, d.Height, d.Width}
		if d.Channels > 1 {
			shape = append(shape, d.Channels)
		}
	}
	if err := writeAtomic(path, func(w io.Writer) error { return WriteNPY(w, d.X, shape) }); err != nil {
		return err
	}
	if d.Labels != nil {
		return writeAtomic(LabelsPath(path), func(w io.Writer) error { return WriteNPYLabels(w, d.Labels) })
	}
	return nil
}

func writeAtomic(path string, write func(w io.Writer) error) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := newBufWriter(w)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}
