// Package alloctest counts allocations in tests in a way that a loaded machine
// does not make flaky.
package alloctest

import "testing"

// Min returns the least of trials measurements of testing.AllocsPerRun(runs,
// f). An allocation a step really makes shows in every trial; with several
// workers on a loaded machine the runtime's hand-offs between them (sync.Pool
// refills, goroutine wake-ups) now and then add one, which seen alone would
// fail a test that is right. The least of a few trials keeps the first and
// drops the second.
func Min(trials, runs int, f func()) float64 {
	least := testing.AllocsPerRun(runs, f)
	for i := 1; i < trials && least > 0; i++ {
		least = min(least, testing.AllocsPerRun(runs, f))
	}
	return least
}
