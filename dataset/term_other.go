//go:build unix && !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package dataset

import "os"

func isTerminal(f *os.File) bool { return false }
