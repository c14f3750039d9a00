package dataset

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// StdinName names standard input in errors and in Dataset.Source.
const StdinName = "stdin"

// defaultPipeWait is how long Load waits for something to write to a named
// pipe (FIFO) when Options.PipeWait is zero.
const defaultPipeWait = 10 * time.Second

func (o Options) pipeWait() time.Duration {
	if o.PipeWait == 0 {
		return defaultPipeWait
	}
	return o.PipeWait
}

// Files that are not regular files are read as streams of unknown length:
// pipes, FIFOs, character devices (/dev/stdin, /dev/zero), "-" for standard
// input. Only the formats that can be read front to back are allowed there
// (CSV, .npy, IDX, amat; see streamable), and every reader bounds what it
// reads by what the format declares (the .npy and IDX headers' shapes) or by
// the text limits (maxTextBytes, maxTextLine), so an endless stream ends in
// an error.
//
// A FIFO is opened without blocking (a blocking open waits, silently and
// forever, for a writer). Until its first byte arrives, an end of file means
// that no writer has connected yet; openFile waits up to Options.PipeWait for
// one and then says so.

// openFile opens path (named name in errors) for reading and returns its size,
// or unknownSize when it is not a regular file. Terminals are refused: reading
// one would wait for typing.
func openFile(path, name string, wait time.Duration) (io.ReadCloser, *os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("dataset: %s: %w", name, unwrapPathErr(err))
	}
	mode := st.Mode()
	switch {
	case mode.IsDir():
		return nil, nil, 0, ferr(name, "is a folder, not a file")
	case mode&fs.ModeNamedPipe != 0:
		f, err := openNonblock(path)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("dataset: %s: %w", name, unwrapPathErr(err))
		}
		r := &fifoReader{f: f, name: name, wait: wait}
		if err := r.prime(); err != nil {
			f.Close()
			return nil, nil, 0, err
		}
		return r, nil, unknownSize, nil
	case mode&fs.ModeSocket != 0:
		return nil, nil, 0, ferr(name, "is a socket, not a file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("dataset: %s: %w", name, unwrapPathErr(err))
	}
	if mode.IsRegular() {
		// Stat again through the handle: the file may have changed.
		if st, err = f.Stat(); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("dataset: %s: %w", name, unwrapPathErr(err))
		}
		return f, f, st.Size(), nil
	}
	if mode&fs.ModeCharDevice != 0 && isTerminal(f) {
		f.Close()
		return nil, nil, 0, ferr(name, "is a terminal; redirect or pipe the data into it")
	}
	return f, nil, unknownSize, nil
}

// fifoReader reads a FIFO opened without blocking. Until the first byte, an
// end of file means no writer yet: prime polls for one for up to wait (forever
// when wait < 0) and reads the first bytes, so that openFile can report a
// FIFO nobody writes to.
type fifoReader struct {
	f       *os.File
	name    string
	wait    time.Duration
	pending []byte
}

func (r *fifoReader) prime() error {
	buf := make([]byte, readChunk)
	deadline := time.Now().Add(r.wait)
	for {
		n, err := r.f.Read(buf)
		if n > 0 {
			r.pending = buf[:n]
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("dataset: %s: %w", r.name, unwrapPathErr(err))
		}
		if r.wait >= 0 && !time.Now().Before(deadline) {
			return ferr(r.name, "is a named pipe (FIFO) and nothing wrote to it within %v; start the program that writes to it, or pipe the data to --data -", r.wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *fifoReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	return r.f.Read(p)
}

func (r *fifoReader) Close() error { return r.f.Close() }

// streamable reports whether format can be read front to back, from a pipe.
func streamable(format string) bool { return format != "npz" }

// stdinSource wraps r (or os.Stdin when r is nil) as a source named "stdin".
func stdinSource(r io.Reader) (*source, error) {
	if r == nil {
		if st, err := os.Stdin.Stat(); err == nil && st.Mode()&fs.ModeCharDevice != 0 && isTerminal(os.Stdin) {
			return nil, ferr(StdinName, "is a terminal; pipe or redirect the data (e.g. --data - < table.csv)")
		}
		r = os.Stdin
	}
	return newSource(r, StdinName, unknownSize, false)
}
