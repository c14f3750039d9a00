package dataset

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"slices"
	"time"
)

// Limits on what a file header may claim. Allocations are never sized by a
// header alone: a claimed size is first checked against the bytes the file can
// hold, and buffers beyond allocChunk values grow only as data arrives.
const (
	maxValues   = 1 << 34 // most values in one array (64 GiB as float32)
	allocChunk  = 1 << 26 // values allocated up front; more grows with the data
	readChunk   = 1 << 16 // bytes per read
	maxInflate  = 1032    // deflate's largest compression ratio
	gzipSlack   = 1 << 12
	unknownSize = -1
)

func ferr(name, format string, args ...any) error {
	return fmt.Errorf("dataset: %s: %s", name, fmt.Sprintf(format, args...))
}

// source is an opened data file: r yields the decompressed bytes.
type source struct {
	name     string   // the file as named in errors
	f        *os.File // the regular file being read, nil for a stream
	rc       io.Closer
	r        io.Reader
	size     int64 // bytes in the file
	gz       bool
	maxBytes int64     // most bytes r can yield (unknownSize when unknown)
	h        hash.Hash // SHA-256 of the decompressed bytes, when asked for
	br       *bufio.Reader
}

// openSource opens path, undoing gzip compression (detected by its magic bytes,
// not the file name). With hashContent, the decompressed bytes are hashed as
// they are read (see source.sum). A path that is not a regular file (a pipe,
// a FIFO, a device) is read as a stream of unknown length (see openFile).
func openSource(path, name string, hashContent bool) (*source, error) {
	return openSourceWait(path, name, hashContent, defaultPipeWait)
}

func openSourceWait(path, name string, hashContent bool, wait time.Duration) (*source, error) {
	rc, f, size, err := openFile(path, name, wait)
	if err != nil {
		return nil, err
	}
	s, err := newSource(rc, name, size, hashContent)
	if err != nil {
		rc.Close()
		return nil, err
	}
	s.f, s.rc = f, rc
	return s, nil
}

// newSource wraps r (size bytes, or unknownSize) as a source.
func newSource(r io.Reader, name string, size int64, hashContent bool) (*source, error) {
	s := &source{name: name, size: size, maxBytes: size}
	br := bufio.NewReaderSize(r, readChunk)
	magic, _ := br.Peek(2)
	var rd io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, ferr(name, "bad gzip header: %v", gzipErr(err))
		}
		s.gz = true
		rd = zr
		if size >= 0 {
			s.maxBytes = size*maxInflate + gzipSlack
		}
	}
	if hashContent {
		s.h = sha256.New()
		rd = io.TeeReader(rd, s.h)
	}
	s.br = bufio.NewReaderSize(&errNamer{r: rd, gz: s.gz}, readChunk)
	s.r = s.br
	return s, nil
}

func (s *source) Close() error {
	if s.rc != nil {
		return s.rc.Close()
	}
	return nil
}

// drain reads the rest of the stream (so the gzip checksum and the content hash
// see every byte) and reports whether anything was left.
func (s *source) drain() (int64, error) {
	n, err := io.Copy(io.Discard, s.r)
	return n, err
}

// sum returns the hex SHA-256 of the decompressed bytes read so far.
func (s *source) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// errNamer turns gzip's terse errors into readable ones.
type errNamer struct {
	r  io.Reader
	gz bool
}

func (e *errNamer) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.gz {
		err = gzipErr(err)
	}
	return n, err
}

type readErr struct{ msg string }

func (e *readErr) Error() string { return e.msg }

func gzipErr(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &readErr{"truncated gzip stream"}
	case errors.Is(err, gzip.ErrChecksum):
		return &readErr{"gzip checksum mismatch (corrupted file)"}
	case errors.Is(err, gzip.ErrHeader):
		return &readErr{"invalid gzip header"}
	}
	var re *readErr
	if errors.As(err, &re) {
		return err
	}
	return &readErr{"corrupted gzip stream: " + err.Error()}
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// initCap returns how many of n claimed values of elemSize bytes may be
// allocated before any arrive: all of them (up to allocChunk) when the file
// length was checked to match; for gzip, no more than the compressed file can
// expand to; for a stream of unknown length, 64Ki.
func (s *source) initCap(n int64, elemSize int) int64 {
	switch {
	case s.maxBytes < 0:
		return min(n, 1<<16)
	case s.gz:
		return min(n, s.maxBytes/int64(elemSize), allocChunk)
	}
	return min(n, allocChunk)
}

// readValues reads n values of elemSize bytes each from r, converting each chunk
// with conv, into a float32 slice with room for initCap values at first. The
// slice grows (doubling, up to n) only as data arrives, so a header that lies
// costs little memory before the stream runs out.
func readValues(name string, r io.Reader, n int64, elemSize int, initCap int64, conv func(dst []float32, src []byte)) ([]float32, error) {
	if n < 0 || n > maxValues {
		return nil, ferr(name, "header claims %d values; the most supported is %d", n, int64(maxValues))
	}
	out := make([]float32, 0, min(n, initCap))
	buf := make([]byte, readChunk-readChunk%elemSize)
	for int64(len(out)) < n {
		want := min(int64(len(buf)), (n-int64(len(out)))*int64(elemSize))
		k, err := io.ReadFull(r, buf[:want])
		k -= k % elemSize
		if k > 0 {
			m := k / elemSize
			if cap(out)-len(out) < m {
				out = slices.Grow(out, int(max(int64(m), min(n-int64(len(out)), int64(len(out))))))
			}
			conv(out[len(out):len(out)+m], buf[:k])
			out = out[:len(out)+m]
		}
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, ferr(name, "truncated: holds %d of the %d values its header claims", len(out), n)
			}
			return nil, ferr(name, "%v", err)
		}
	}
	return out, nil
}

// checkFinite reports the first NaN or ±Inf in x.
func checkFinite(name string, x []float32) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return ferr(name, "value %d is %v (NaN and Inf are not allowed)", i, v)
		}
	}
	return nil
}

// expectEOF reports trailing bytes after the data.
func expectEOF(name string, r io.Reader) error {
	var b [1]byte
	n, err := io.ReadFull(r, b[:])
	if n > 0 {
		return ferr(name, "unexpected data after the last value")
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return ferr(name, "%v", err)
	}
	return nil
}
