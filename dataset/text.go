package dataset

import (
	"bytes"
	"io"
)

// Limits on text input (CSV, amat). A text reader stops at the first NUL byte
// (the file is binary: /dev/zero, an image, a UTF-16 file), at a line longer
// than maxTextLine bytes and after maxTextBytes bytes, each with an error that
// says so, so that an endless or binary stream fails quickly instead of
// growing without bound. They are variables so tests can lower them.
var (
	maxTextBytes int64 = 32 << 30  // 32 GiB of text: about 8 GiB of float32 values at the shortest
	maxTextLine  int64 = 256 << 20 // one row of tens of millions of values
)

// textGuard passes text through, counting lines and bytes, and fails on a
// NUL byte, an over-long line or too many bytes. With tabsToSpaces it turns
// tabs into spaces (CSV's whitespace-separated mode).
type textGuard struct {
	r            io.Reader
	name         string
	n, line      int64 // bytes so far, bytes since the last '\n'
	lineNo       int   // completed lines
	tabsToSpaces bool
	err          error
}

// textErr is an error textGuard returns; it already names the file.
type textErr struct{ msg string }

func (e *textErr) Error() string { return e.msg }

func (g *textGuard) fail(format string, args ...any) error {
	g.err = &textErr{ferr(g.name, format, args...).Error()}
	return g.err
}

func (g *textGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	p = p[:n]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		g.count(p[:i])
		return i, g.fail("line %d: NUL byte at byte %d: binary data, not a text file", g.lineNo+1, g.n+1)
	}
	if g.tabsToSpaces {
		for i, c := range p {
			if c == '\t' {
				p[i] = ' '
			}
		}
	}
	if err := g.count(p); err != nil {
		return n, err
	}
	return n, err
}

func (g *textGuard) count(p []byte) error {
	g.n += int64(len(p))
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			g.line += int64(len(p))
			break
		}
		g.line += int64(i)
		if g.line > maxTextLine {
			break
		}
		g.line = 0
		g.lineNo++
		p = p[i+1:]
	}
	if g.line > maxTextLine {
		return g.fail("line %d is longer than %d bytes (not a text table?)", g.lineNo+1, maxTextLine)
	}
	if g.n > maxTextBytes {
		return g.fail("more than %d bytes of text: too large (or an endless stream)", maxTextBytes)
	}
	return nil
}
