package atomicfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if processAlive(pid) {
		t.Skipf("pid %d was reused at once", pid)
	}
	return pid
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// TestCleanStale sets up temporary files of every kind next to a target and
// checks that the next Write removes exactly the stale ones of that target.
func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "m.ckpt")
	dead := strconv.Itoa(deadPID(t))
	live := strconv.Itoa(os.Getppid())
	own := strconv.Itoa(os.Getpid())
	old := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)
	files := []struct {
		name    string
		mtime   time.Time
		removed bool
	}{
		{".m.ckpt.tmp-" + dead + "-123", old, true},         // killed writer
		{".m.ckpt.tmp-" + dead + "-124", time.Time{}, true}, // killed a moment ago
		{".m.ckpt.tmp-" + dead + "-125", future, false},     // modified after the Write started
		{".m.ckpt.tmp-" + live + "-126", old, false},        // a live process's
		{".m.ckpt.tmp-" + own + "-127", old, true},          // this process's, not in flight
		{".m.ckpt.tmp-4242424242", old, true},               // earlier versions' name, an hour old
		{".m.ckpt.tmp-4242424243", time.Time{}, false},      // earlier versions' name, fresh
		{".m.ckpt.tmp-" + dead + "-12x", old, false},        // not the pattern
		{".m.ckpt.tmp-" + dead + "-", old, false},           // not the pattern
		{".m.ckpt.tmp-x-1", old, false},                     // not the pattern
		{".m.ckpt.tmp-0-1", old, false},                     // pid 0 is no process
		{"m.ckpt.tmp-" + dead + "-1", old, false},           // not hidden
		{".n.ckpt.tmp-" + dead + "-1", old, false},          // another target
		{".m.ckpt.tmp-" + dead + "-1.tmp-" + dead + "-2", old, false},
		{".m.ckpt.old", old, false},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
		if !f.mtime.IsZero() {
			if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A folder with a matching name is not touched.
	if err := os.Mkdir(filepath.Join(dir, ".m.ckpt.tmp-"+dead+"-999"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the fresh files are older than the Write
	if err := Write(target, writeString("new")); err != nil {
		t.Fatal(err)
	}
	want := []string{".m.ckpt.tmp-" + dead + "-999", "m.ckpt"}
	for _, f := range files {
		if !f.removed {
			want = append(want, f.name)
		}
	}
	sort.Strings(want)
	if got := names(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after Write:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
	// CleanStale alone finds nothing more.
	if got, err := CleanStale(target); err != nil || len(got) != 0 {
		t.Errorf("CleanStale again: %v, %v", got, err)
	}
}

// TestCleanStaleKeepsConcurrentWrite: a Write in progress in this process is
// not stale for another Write to the same path.
func TestCleanStaleKeepsConcurrentWrite(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "f")
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- Write(target, func(w io.Writer) error {
			io.WriteString(w, "first")
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	time.Sleep(20 * time.Millisecond)
	if got, _ := CleanStale(target); len(got) != 0 {
		t.Errorf("CleanStale removed a write in progress: %v", got)
	}
	if err := Write(target, writeString("second")); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the first write failed: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "first" {
		t.Errorf("target holds %q, want the last rename's \"first\"", b)
	}
	if got := names(t, dir); len(got) != 1 {
		t.Errorf("left: %v", got)
	}
}

// TestRemoveInFlight: the temporary file of a Write in progress is removed,
// that Write fails with ErrInterrupted, and the old target stays.
func TestRemoveInFlight(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "f")
	os.WriteFile(target, []byte("old"), 0o644)
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- Write(target, func(w io.Writer) error {
			io.WriteString(w, "half")
			close(started)
			<-release
			io.WriteString(w, " and the rest")
			return nil
		})
	}()
	<-started
	got := RemoveInFlight()
	if len(got) != 1 || !strings.HasPrefix(filepath.Base(got[0]), ".f.tmp-"+strconv.Itoa(os.Getpid())+"-") {
		t.Fatalf("RemoveInFlight = %v", got)
	}
	if _, err := os.Stat(got[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file still there: %v", err)
	}
	if again := RemoveInFlight(); len(again) != 0 {
		t.Errorf("second RemoveInFlight = %v", again)
	}
	close(release)
	err := <-done
	if !errors.Is(err, ErrInterrupted) || !strings.HasPrefix(err.Error(), target+": ") {
		t.Errorf("interrupted Write: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "old" {
		t.Errorf("target now %q", b)
	}
	if n := names(t, dir); len(n) != 1 {
		t.Errorf("left: %v", n)
	}
	if RemoveInFlight() != nil {
		t.Error("nothing in flight, yet something removed")
	}
}

// TestKilledWriterLeftoverRemoved kills a child process in the middle of a
// Write (SIGKILL: no cleanup runs) and checks that the next Write to the same
// path removes the temporary file it left.
func TestKilledWriterLeftoverRemoved(t *testing.T) {
	if os.Getenv("ATOMICFILE_CHILD") == "hang" {
		childWrite(false)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "m.bin")
	cmd := startChild(t, "hang", target)
	cmd.Process.Kill()
	cmd.Wait()
	left, _ := filepath.Glob(filepath.Join(dir, ".m.bin.tmp-*"))
	if len(left) != 1 || !strings.HasPrefix(filepath.Base(left[0]), ".m.bin.tmp-"+strconv.Itoa(cmd.Process.Pid)+"-") {
		t.Fatalf("temporary files after the kill: %v", left)
	}
	if err := Write(target, writeString("ok")); err != nil {
		t.Fatal(err)
	}
	if n := names(t, dir); len(n) != 2 || n[0] != "m.bin" { // m.bin and m.bin.ready
		t.Errorf("after the next Write: %v", n)
	}
}

// TestCleanupOnSignal interrupts a child process in the middle of a Write
// with SIGINT and SIGTERM: its temporary file is gone and it died of the
// signal.
func TestCleanupOnSignal(t *testing.T) {
	if os.Getenv("ATOMICFILE_CHILD") == "signal" {
		childWrite(true)
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := t.TempDir()
		target := filepath.Join(dir, "m.bin")
		cmd := startChild(t, "signal", target)
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%v: child exit: %v", sig, err)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != sig {
			t.Errorf("%v: child ended with %v, want killed by the signal", sig, err)
		}
		if n := names(t, dir); len(n) != 1 || n[0] != "m.bin.ready" {
			t.Errorf("%v: left %v", sig, n)
		}
	}
}

// childWrite is the child's side: write half a file to the target named by
// ATOMICFILE_TARGET, say so in TARGET.ready, then wait to be killed.
func childWrite(onSignal bool) {
	target := os.Getenv("ATOMICFILE_TARGET")
	if onSignal {
		CleanupOnSignal()
	}
	Write(target, func(w io.Writer) error {
		w.Write(make([]byte, 1<<20))
		os.WriteFile(target+".ready", nil, 0o644)
		select {}
	})
	os.Exit(3)
}

func startChild(t *testing.T, mode, target string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD="+mode, "ATOMICFILE_TARGET="+target)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(target + ".ready"); err == nil {
			return cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child never started writing")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
