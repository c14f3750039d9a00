//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package dataset

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether f is a terminal (reading it would wait for typing).
func isTerminal(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	term := false
	rc.Control(func(fd uintptr) {
		_, err := unix.IoctlGetTermios(int(fd), unix.TIOCGETA)
		term = err == nil
	})
	return term
}
