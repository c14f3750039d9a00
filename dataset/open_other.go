//go:build !unix

package dataset

import "os"

func openNonblock(path string) (*os.File, error) { return os.Open(path) }

func isTerminal(f *os.File) bool { return false }
