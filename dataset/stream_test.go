package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// within fails the test when f does not return within d (a reader that never
// stops would hang the test otherwise).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still reading after %v", what, d)
	}
}

// TestEndlessZeros: every reader given an endless stream of zero bytes stops
// with an error at once, whether the zeros are the whole input or follow a
// valid header.
func TestEndlessZeros(t *testing.T) {
	zeros := func() *endless { return &endless{[]byte{0}} }
	after := func(head []byte) *multiReader { return &multiReader{head: head, tail: zeros()} }
	cases := []struct {
		what string
		read func() error
		part string
	}{
		{"csv", func() error { _, err := ReadCSV(zeros(), "z", unknownSize, CSVOptions{}); return err }, "NUL byte"},
		{"amat", func() error { _, err := ReadAmat(zeros(), "z", unknownSize); return err }, "NUL byte"},
		{"npy", func() error { _, _, err := ReadNPY(zeros(), "z", unknownSize); return err }, "bad magic"},
		{"idx", func() error { _, err := ReadIDX(zeros(), "z", unknownSize, false); return err }, "bad magic"},
		{"npy header then zeros", func() error {
			_, _, err := ReadNPY(after(npyBytes("<f4", false, "(2, 3)", nil)), "z", unknownSize)
			return err
		}, "unexpected data after the last value"},
		{"idx header then zeros", func() error {
			_, err := ReadIDX(after(idxBytes(0x08, []int{4, 4}, nil)), "z", unknownSize, false)
			return err
		}, "unexpected data after the last value"},
		{"csv rows then zeros", func() error {
			_, err := ReadCSV(after([]byte("1,2\n3,4\n")), "z", unknownSize, CSVOptions{})
			return err
		}, "line 3: NUL byte at byte 9"},
		{"stdin", func() error { _, err := Load("-", Options{Stdin: zeros()}); return err }, "stdin: line 1: NUL byte"},
		{"stdin format=npy", func() error { _, err := Load("-:format=npy", Options{Stdin: zeros()}); return err }, "stdin: bad magic"},
		{"stdin format=idx", func() error { _, err := Load("-:format=idx", Options{Stdin: zeros()}); return err }, "stdin: bad magic"},
		{"stdin format=amat", func() error { _, err := Load("-:format=amat", Options{Stdin: zeros()}); return err }, "stdin: line 1: NUL byte"},
	}
	for _, c := range cases {
		within(t, 10*time.Second, c.what, func() { wantErr(t, c.read(), c.part) })
	}
}

type multiReader struct {
	head []byte
	tail *endless
}

func (m *multiReader) Read(p []byte) (int, error) {
	if len(m.head) > 0 {
		n := copy(p, m.head)
		m.head = m.head[n:]
		return n, nil
	}
	return m.tail.Read(p)
}

// TestLoadStdin reads "-" in each format that streams, sniffed or named by
// format=, and refuses .npz.
func TestLoadStdin(t *testing.T) {
	stdin := func(b []byte) Options { return Options{Stdin: bytes.NewReader(b)} }
	d, err := Load("-", stdin([]byte("a,b\n1,2\n3,4\n")))
	if err != nil || d.Len() != 2 || d.Name != "-" {
		t.Fatalf("csv: %v", err)
	}
	if want := "stdin: read 2 rows of 2 values, comma-separated; header row skipped (a, b)"; d.Source != want {
		t.Errorf("Source %q, want %q", d.Source, want)
	}
	d, err = Load("-:sep=tab,label=last", stdin(gz([]byte("1\t2\t0\n3\t4\t1\n"))))
	if err != nil || d.Dim() != 2 || d.NumClasses != 2 {
		t.Fatalf("gzipped tab csv: %v", err)
	}
	npy := npyBytes("<f4", false, "(2, 2)", le32f(1, 2, 3, 4))
	for _, spec := range []string{"-", "-:format=npy"} {
		for _, b := range [][]byte{npy, gz(npy)} {
			d, err = Load(spec, stdin(b))
			if err != nil {
				t.Fatalf("%s npy: %v", spec, err)
			}
			eqF(t, "stdin npy", d.X.Data, []float32{1, 2, 3, 4})
			if d.Source != "stdin: read 2 rows of 2 values (npy)" {
				t.Errorf("Source %q", d.Source)
			}
		}
	}
	d, err = Load("-", stdin(idxBytes(0x08, []int{2, 2}, []byte{0, 255, 51, 102})))
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "stdin idx", d.X.Data, []float32{0, 1, 0.2, 0.4})
	d, err = Load("-:format=amat", stdin([]byte("0 1\n1 0\n")))
	if err != nil || d.Len() != 2 {
		t.Fatalf("amat: %v", err)
	}
	_, err = Load("-", stdin(npzBytes(t, map[string][]byte{"x": npy}, false)))
	wantErr(t, err, "dataset: stdin: an .npz archive cannot be read from a pipe", "save it to a file")
	_, err = Load("-:format=npz", stdin([]byte("1,2\n")))
	wantErr(t, err, "dataset: stdin: an .npz archive cannot be read")
	_, err = Load("-:format=png", stdin([]byte("1,2\n")))
	wantErr(t, err, `dataset: stdin: option format="png": want csv, npy, npz, idx, amat`)
	_, err = Load("-:test", stdin(nil))
	wantErr(t, err, `dataset: -: unexpected "test"`)
	_, err = Load("-", stdin(nil))
	wantErr(t, err, "dataset: stdin: no data rows")
	_, err = Load("-:format=npy,sep=tab", stdin(npy))
	wantErr(t, err, `unknown option "sep"`)
}

// TestFormatOption: format= overrides what the name says.
func TestFormatOption(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "table.dat", []byte("0 1\n1 0\n"))
	d, err := Load(p+":format=amat", Options{})
	if err != nil || d.Len() != 2 || d.Dim() != 2 {
		t.Fatalf("format=amat: %v", err)
	}
	d, err = Load(p+":format=csv", Options{})
	if err != nil || d.Len() != 2 || d.Dim() != 2 {
		t.Fatalf("format=csv: %v", err)
	}
}

// TestDevices: a character device is a stream of unknown length: /dev/zero
// fails at once, /dev/null is empty.
func TestDevices(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	within(t, 10*time.Second, "/dev/zero", func() {
		_, err := Load("/dev/zero", Options{})
		wantErr(t, err, "dataset: /dev/zero: line 1: NUL byte")
		_, err = Load("/dev/zero:format=npy", Options{})
		wantErr(t, err, "dataset: /dev/zero: bad magic")
		_, err = Load("/dev/zero:format=npz", Options{})
		wantErr(t, err, "dataset: /dev/zero: an .npz archive cannot be read from a pipe")
		_, err = Load("/dev/null", Options{})
		wantErr(t, err, "dataset: /dev/null: no data rows")
	})
}

// TestFIFO: a named pipe nobody writes to is an error after PipeWait, not a
// silent hang; one whose writer comes later is read; an .npz one is refused.
func TestFIFO(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	within(t, 10*time.Second, "FIFO without a writer", func() {
		start := time.Now()
		_, err := Load(p, Options{PipeWait: 200 * time.Millisecond})
		wantErr(t, err, "dataset: "+p+": is a named pipe (FIFO) and nothing wrote to it within 200ms")
		if el := time.Since(start); el < 200*time.Millisecond {
			t.Errorf("gave up after %v", el)
		}
	})
	within(t, 20*time.Second, "FIFO with a late writer", func() {
		go func() {
			time.Sleep(100 * time.Millisecond)
			w, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			w.WriteString("1,2\n")
			time.Sleep(50 * time.Millisecond) // a pause is not the end
			w.WriteString("3,4\n")
			w.Close()
		}()
		d, err := Load(p, Options{})
		if err != nil || d.Len() != 2 {
			t.Errorf("late writer: %v", err)
		} else {
			eqF(t, "fifo", d.X.Data, []float32{1, 2, 3, 4})
		}
	})
	pz := filepath.Join(dir, "pipe.npz")
	if err := syscall.Mkfifo(pz, 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "npz FIFO", func() {
		_, err := Load(pz, Options{PipeWait: 50 * time.Millisecond})
		wantErr(t, err, "pipe.npz", "nothing wrote to it")
		go func() {
			if w, err := os.OpenFile(pz, os.O_WRONLY, 0); err == nil {
				w.Write(npzBytes(t, map[string][]byte{"x": npyBytes("<f4", false, "(1,)", le32f(1))}, false))
				w.Close()
			}
		}()
		_, err = Load(pz, Options{})
		wantErr(t, err, "pipe.npz: an .npz archive cannot be read from a pipe")
	})
}
