//go:build !race

package gan

const raceEnabled = false
