// Package atomicfile writes files so that a crash or an error never leaves a
// half-written file under the final name: the content goes to a temporary file in
// the same folder, which is synced and then renamed over the target.
//
// # Temporary files
//
// The temporary file of a write to folder/name is folder/.name.tmp-PID-N: PID
// is the writing process's id and N a random number. A process killed while
// writing leaves it behind; it is removed by the next Write to the same path
// (or by CleanStale), when all of these hold:
//
//   - its name is exactly .name.tmp-PID-N for this target (digits only), and
//     it is a regular file;
//   - it was last modified before that Write started;
//   - process PID is not running (or PID is this process and the file is not
//     one of its writes in progress).
//
// Files named .name.tmp-N (the pattern of earlier versions, without a process
// id) are removed when they were last modified more than LegacyAge before the
// Write started. Process ids are only meaningful on one machine: a folder
// written at the same time from several machines (a network file system) may
// lose a live writer's temporary file, which then makes that writer's Write
// fail with an error (never a corrupt target).
//
// A process that is interrupted can remove its own temporary files first:
// RemoveInFlight removes those of every Write in progress (whose Writes then
// fail), and CleanupOnSignal does so on SIGINT or SIGTERM and then ends the
// process as the signal would.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LegacyAge is how old an unowned temporary file (.name.tmp-N, without a
// process id) must be before Write removes it.
const LegacyAge = 10 * time.Minute

// ErrInterrupted is returned (wrapped) by a Write whose temporary file was
// removed by RemoveInFlight.
var ErrInterrupted = errors.New("write interrupted: temporary file removed")

// inFlight holds the temporary files of the Writes in progress. The rename
// that ends a Write happens under its lock, so RemoveInFlight either removes
// a temporary file before it is renamed or finds it gone.
var inFlight = struct {
	sync.Mutex
	m map[string]bool // temporary file → removed by RemoveInFlight
}{m: map[string]bool{}}

// Write creates or replaces path with what write writes. The new file keeps the
// permissions of the file it replaces, or gets 0644. On any error the temporary
// file is removed and the old file, if any, is left untouched. Errors start with
// path and say what is wrong ("is a folder", "folder X does not exist").
// Before writing, it removes stale temporary files of earlier writes to path
// (see the package documentation).
func Write(path string, write func(w io.Writer) error) (err error) {
	start := time.Now()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s: is a folder, want a file name", path)
	}
	dir := filepath.Dir(path)
	cleanStale(path, start)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: folder %s does not exist", path, dir)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	name := tmp.Name()
	inFlight.Lock()
	inFlight.m[name] = false
	inFlight.Unlock()
	defer func() {
		inFlight.Lock()
		removed := inFlight.m[name]
		delete(inFlight.m, name)
		inFlight.Unlock()
		if err != nil {
			tmp.Close()
			if !removed {
				os.Remove(name)
			}
			err = fmt.Errorf("%s: %w", path, err)
		}
	}()
	if err = tmp.Chmod(mode(path)); err != nil {
		return err
	}
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	inFlight.Lock()
	if inFlight.m[name] {
		err = ErrInterrupted
	} else {
		err = os.Rename(name, path)
	}
	inFlight.Unlock()
	if err != nil {
		return err
	}
	// Make the rename itself durable. Some file systems refuse to sync a folder;
	// the data is already safe then, so that error is ignored.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// tempPrefix is the start of the names of path's temporary files.
func tempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp-"
}

// RemoveInFlight removes the temporary files of every Write in progress in
// this process and returns their paths. Those Writes then fail with
// ErrInterrupted and leave their targets as they were. It is safe to call from
// any goroutine, e.g. a signal handler, just before the process exits.
func RemoveInFlight() []string {
	inFlight.Lock()
	defer inFlight.Unlock()
	var out []string
	for name, removed := range inFlight.m {
		if removed {
			continue
		}
		inFlight.m[name] = true
		if err := os.Remove(name); err == nil || errors.Is(err, fs.ErrNotExist) {
			out = append(out, name)
		}
	}
	return out
}

// CleanupOnSignal starts a goroutine that waits for the first of sigs
// (SIGINT and SIGTERM when none are given), then calls RemoveInFlight and
// ends the process as that signal would (on Unix, by raising it again with
// the default action; elsewhere, or if that returns, with exit status
// 128+signal number, or 1). stop stops waiting. A command that handles these
// signals itself to stop gracefully should call RemoveInFlight before it
// exits instead.
func CleanupOnSignal(sigs ...os.Signal) (stop func()) {
	if len(sigs) == 0 {
		sigs = defaultSignals
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case sig := <-ch:
			RemoveInFlight()
			signal.Reset(sig)
			reraise(sig)
		case <-done:
		}
	}()
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
		})
	}
}

// CleanStale removes the stale temporary files that earlier writes to path
// left behind (see the package documentation) and returns their paths. Write
// calls it; the error reports a folder that cannot be read.
func CleanStale(path string) ([]string, error) {
	return cleanStale(path, time.Now())
}

func cleanStale(path string, start time.Time) ([]string, error) {
	dir := filepath.Dir(path)
	prefix := tempPrefix(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		pid, ok := parseTempSuffix(e.Name()[len(prefix):])
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !info.ModTime().Before(start) {
			continue
		}
		full := filepath.Join(dir, e.Name())
		switch {
		case pid < 0: // no process id: judge by age
			if start.Sub(info.ModTime()) < LegacyAge {
				continue
			}
		case pid == os.Getpid():
			inFlight.Lock()
			_, live := inFlight.m[full]
			inFlight.Unlock()
			if live {
				continue
			}
		case processAlive(pid):
			continue
		}
		if err := os.Remove(full); err == nil {
			removed = append(removed, full)
		}
	}
	return removed, nil
}

// parseTempSuffix parses what follows ".name.tmp-": "PID-N" gives PID, a
// legacy "N" gives -1; anything else is not a temporary file of ours.
func parseTempSuffix(s string) (pid int, ok bool) {
	p, n, tagged := strings.Cut(s, "-")
	if !tagged {
		return -1, allDigits(s)
	}
	if !allDigits(p) || !allDigits(n) || len(p) > 9 {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

func allDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mode is the permission of the existing regular file at path, or 0644.
func mode(path string) os.FileMode {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return st.Mode().Perm()
	}
	return 0o644
}
