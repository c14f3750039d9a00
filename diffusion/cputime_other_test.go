//go:build !unix

package diffusion

func cpuSeconds() float64 { return 0 }
