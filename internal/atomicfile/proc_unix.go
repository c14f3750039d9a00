//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"syscall"
	"time"
)

var defaultSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// processAlive reports whether process pid exists (signal 0 checks without
// sending anything; EPERM means it exists but belongs to someone else).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// reraise ends the process with sig, whose handler was just reset to the
// default.
func reraise(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), s)
		time.Sleep(time.Second) // the signal is delivered asynchronously
		os.Exit(128 + int(s))
	}
	os.Exit(1)
}
