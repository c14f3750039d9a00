//go:build unix

package diffusion

import "syscall"

// cpuSeconds returns the CPU time (user + system) this process has used so far,
// or 0 where it cannot tell. Benchmarks report work per CPU-second next to work per
// wall-second: on a shared, loaded machine the first one is far less noisy.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
