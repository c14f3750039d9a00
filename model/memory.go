package model

import (
	"fmt"
	"math"
	"os"
	"strings"
)

// CheckMemory returns a FlagError naming flag when work that needs about bytes
// of memory would not fit in the memory this machine has available (80% of
// MemAvailable in /proc/meminfo; no check where that cannot be read). Call it
// before allocating what a flag sizes: a run that would die with an
// out-of-memory trace should instead refuse with one line.
func CheckMemory(flag string, bytes float64) error {
	avail := AvailableMemory()
	if avail > 0 && (bytes > 0.8*float64(avail) || math.IsInf(bytes, 0) || math.IsNaN(bytes)) {
		return Flagf(flag, "needs about %s of memory, and this machine has %s available", HumanBytes(bytes), HumanBytes(float64(avail)))
	}
	return nil
}

// AvailableMemory returns MemAvailable from /proc/meminfo in bytes, or 0 when
// it cannot be read.
func AvailableMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

// HumanBytes writes a size in bytes as "1.5 GiB".
func HumanBytes(b float64) string {
	if math.IsInf(b, 0) || math.IsNaN(b) {
		return "more than can be counted"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
