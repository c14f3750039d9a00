//go:build !unix

package atomicfile

import "os"

var defaultSignals = []os.Signal{os.Interrupt}

// processAlive reports whether process pid exists.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

func reraise(sig os.Signal) {
	if sig == os.Interrupt {
		os.Exit(130)
	}
	os.Exit(1)
}
