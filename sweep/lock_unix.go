//go:build unix

package sweep

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes the sweep folder's lock (an flock on DIR/.lock), so that two
// local sweeps of one folder cannot run the same runs at once; the lock goes
// when unlock is called or the process ends.
func (sw *Sweep) Lock() (unlock func(), err error) {
	path := filepath.Join(sw.Dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sweep: another latent sweep is running the runs of %s; wait for it to end", sw.Dir)
		}
		return nil, fmt.Errorf("sweep: locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
