//go:build !linux

package tensor

// osYield is a no-op where the package does not call the system's yield.
func osYield() {}
