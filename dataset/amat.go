package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
)

// ReadAmat reads a text matrix in the .amat format of Larochelle's binarized
// MNIST (gzip-compressed or raw): one row per line, values separated by spaces
// or tabs. Every row must have the same number of values; NaN and Inf are
// errors. size is the number of bytes r holds, or -1 when unknown.
func ReadAmat(r io.Reader, name string, size int64) (*Array, error) {
	s, err := newSource(r, name, size, false)
	if err != nil {
		return nil, err
	}
	return readAmat(s, 0)
}

// readAmat parses s. capHint is the expected number of values (0: unknown).
func readAmat(s *source, capHint int64) (*Array, error) {
	name := s.name
	if capHint <= 0 && !s.gz && s.maxBytes > 0 {
		capHint = s.maxBytes/2 + 1
	}
	data := make([]float32, 0, min(max(capHint, 1024), allocChunk))
	cols, rows := -1, 0
	lineNo := 0
	var line []byte
	var total int64
	for {
		chunk, err := s.br.ReadSlice('\n')
		// The same bounds as CSV (see maxTextBytes): binary data, an endless
		// line or an endless stream is an error, not a growing buffer.
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			return nil, ferr(name, "line %d: NUL byte at byte %d: binary data, not a text file", lineNo+1, total+int64(i)+1)
		}
		total += int64(len(chunk))
		if total > maxTextBytes {
			return nil, ferr(name, "more than %d bytes of text: too large (or an endless stream)", maxTextBytes)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			line = append(line, chunk...)
			if int64(len(line)) > maxTextLine {
				return nil, ferr(name, "line %d is longer than %d bytes (not a text matrix?)", lineNo+1, maxTextLine)
			}
			continue
		}
		if err != nil && err != io.EOF {
			return nil, ferr(name, "%v", err)
		}
		if line != nil {
			line = append(line, chunk...)
		} else {
			line = chunk
		}
		if len(line) > 0 {
			lineNo++
			n0 := len(data)
			var perr error
			data, perr = parseAmatLine(data, line)
			if perr != nil {
				return nil, ferr(name, "line %d: %v", lineNo, perr)
			}
			if int64(len(data)) > maxValues {
				return nil, ferr(name, "line %d: more than %d values", lineNo, int64(maxValues))
			}
			if k := len(data) - n0; k > 0 {
				if cols < 0 {
					cols = k
				} else if k != cols {
					return nil, ferr(name, "line %d has %d values but line 1 has %d (ragged rows)", lineNo, k, cols)
				}
				rows++
			}
		}
		line = nil
		if err == io.EOF {
			break
		}
	}
	if rows == 0 {
		return nil, ferr(name, "no data")
	}
	return &Array{Shape: []int{rows, cols}, Data: data}, nil
}

// parseAmatLine appends the values of one text line to data.
func parseAmatLine(data []float32, line []byte) ([]float32, error) {
	start := -1
	for i := 0; i <= len(line); i++ {
		sep := i == len(line)
		if !sep {
			switch line[i] {
			case ' ', '\t', '\r', '\n':
				sep = true
			}
		}
		if !sep {
			if start < 0 {
				start = i
			}
			continue
		}
		if start < 0 {
			continue
		}
		tok := line[start:i]
		start = -1
		var v float32
		if len(tok) == 1 && tok[0] >= '0' && tok[0] <= '9' {
			v = float32(tok[0] - '0')
		} else {
			f, err := strconv.ParseFloat(string(tok), 32)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				if len(tok) > 20 {
					tok = append(tok[:20:20], "..."...)
				}
				return data, &readErr{"bad value " + strconv.Quote(string(tok)) + " (want a finite number)"}
			}
			v = float32(f)
		}
		if len(data) == cap(data) {
			data = slices.Grow(data, min(max(len(data), 1024), allocChunk))
		}
		data = append(data, v)
	}
	return data, nil
}
