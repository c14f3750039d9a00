//go:build !race

package diffusion

const raceEnabled = false
