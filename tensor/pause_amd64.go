//go:build !purego

package tensor

// cpuPause executes the PAUSE instruction: a spin-wait hint that frees the core's
// resources for a sibling hardware thread while a worker polls for work.
//
//go:noescape
func cpuPause()
