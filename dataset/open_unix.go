//go:build unix

package dataset

import (
	"os"
	"syscall"
)

// openNonblock opens a FIFO for reading without waiting for a writer.
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
