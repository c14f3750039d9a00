//go:build !amd64 || purego

package tensor

// cpuPause is a no-op where there is no spin-wait hint in assembly.
func cpuPause() {}
