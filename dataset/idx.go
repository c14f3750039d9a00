package dataset

import (
	"encoding/binary"
	"io"
	"math"
)

// IDX type codes (LeCun's format used by MNIST and Fashion-MNIST).
const (
	idxU8  = 0x08
	idxI8  = 0x09
	idxI16 = 0x0B
	idxI32 = 0x0C
	idxF32 = 0x0D
	idxF64 = 0x0E
)

var u8Scale, u8Raw [256]float32

func init() {
	for i := range u8Scale {
		u8Scale[i] = float32(i) / 255
		u8Raw[i] = float32(i)
	}
}

// Array is an n-dimensional array read from a file, as float32 values in C
// (row-major) order.
type Array struct {
	Shape []int
	Data  []float32
}

// ReadIDX reads an IDX array (gzip-compressed or raw) from r. size is the
// number of bytes r holds, or -1 when unknown; it bounds what the header may
// claim. With scale, unsigned-byte values are divided by 255 (pixels to [0, 1]);
// other types are returned as stored. name names the file in errors.
//
// The format is big-endian: a magic number 0x0000TTDD (T the type code: 0x08
// uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64; D the
// number of dimensions), D uint32 sizes, then the values in C order.
func ReadIDX(r io.Reader, name string, size int64, scale bool) (*Array, error) {
	s, err := newSource(r, name, size, false)
	if err != nil {
		return nil, err
	}
	return readIDX(s, scale)
}

func readIDX(s *source, scale bool) (*Array, error) {
	name := s.name
	var hdr [4]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		return nil, ferr(name, "too short for an IDX header")
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	typ, nd := hdr[2], int(hdr[3])
	if hdr[0] != 0 || hdr[1] != 0 || nd == 0 {
		return nil, ferr(name, "bad magic 0x%08x (not an IDX file)", magic)
	}
	var esz int
	switch typ {
	case idxU8, idxI8:
		esz = 1
	case idxI16:
		esz = 2
	case idxI32, idxF32:
		esz = 4
	case idxF64:
		esz = 8
	default:
		return nil, ferr(name, "bad magic 0x%08x (unknown IDX type code 0x%02x)", magic, typ)
	}
	dims := make([]int, nd)
	dbuf := make([]byte, 4*nd)
	if _, err := io.ReadFull(s.r, dbuf); err != nil {
		return nil, ferr(name, "truncated IDX header (%d dimensions)", nd)
	}
	total := int64(1)
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(dbuf[4*i:]))
		dims[i] = int(d)
		if d == 0 {
			total = 0
		}
		if total > 0 && total > maxValues/max(d, 1) {
			return nil, ferr(name, "impossible dimensions %v: more than %d values", dims[:i+1], int64(maxValues))
		}
		total *= d
	}
	hdrBytes := int64(4 + 4*nd)
	if s.maxBytes >= 0 {
		if !s.gz && total*int64(esz) != s.maxBytes-hdrBytes {
			return nil, ferr(name, "header claims %v = %d values (%d bytes) but the file holds %d bytes of data",
				dims, total, total*int64(esz), s.maxBytes-hdrBytes)
		}
		if s.gz && total*int64(esz) > s.maxBytes {
			return nil, ferr(name, "header claims %v = %d values but a %d-byte gzip file holds at most %d bytes",
				dims, total, s.size, s.maxBytes)
		}
	}
	var conv func(dst []float32, src []byte)
	switch typ {
	case idxU8:
		lut := &u8Raw
		if scale {
			lut = &u8Scale
		}
		conv = func(dst []float32, src []byte) {
			src = src[:len(dst)]
			for i, b := range src {
				dst[i] = lut[b]
			}
		}
	case idxI8:
		conv = func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(int8(src[i]))
			}
		}
	case idxI16:
		conv = func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(int16(binary.BigEndian.Uint16(src[2*i:])))
			}
		}
	case idxI32:
		conv = func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(int32(binary.BigEndian.Uint32(src[4*i:])))
			}
		}
	case idxF32:
		conv = func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = math.Float32frombits(binary.BigEndian.Uint32(src[4*i:]))
			}
		}
	case idxF64:
		conv = func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(math.Float64frombits(binary.BigEndian.Uint64(src[8*i:])))
			}
		}
	}
	data, err := readValues(name, s.r, total, esz, s.initCap(total, esz), conv)
	if err != nil {
		return nil, err
	}
	if typ == idxF32 || typ == idxF64 {
		if err := checkFinite(name, data); err != nil {
			return nil, err
		}
	}
	if err := expectEOF(name, s.r); err != nil {
		return nil, err
	}
	return &Array{Shape: dims, Data: data}, nil
}
