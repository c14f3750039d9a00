package tensor

import (
	"runtime"
	"sync"
)

// ParallelFor runs fn over [0, n) split into pieces of at most grain items, on up to
// Workers() goroutines. The pieces depend only on n and grain, never on the number of
// workers, so a fn that writes disjoint outputs per piece gives identical results
// whatever GOMAXPROCS is. fn must not panic.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	pieces := (n + grain - 1) / grain
	w := Workers()
	if w > pieces {
		w = pieces
	}
	if w <= 1 {
		for lo := 0; lo < n; lo += grain {
			fn(lo, min(lo+grain, n))
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for t := 0; t < w; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				p := next
				next++
				mu.Unlock()
				if p >= pieces {
					return
				}
				lo := p * grain
				fn(lo, min(lo+grain, n))
			}
		}()
	}
	wg.Wait()
}

var workers = 0

// Workers returns the number of workers parallel kernels use: SetWorkers' value, or
// GOMAXPROCS when unset.
func Workers() int {
	if workers > 0 {
		return workers
	}
	return runtime.GOMAXPROCS(0)
}

// SetWorkers sets the number of workers (n <= 0 restores the GOMAXPROCS default).
// It is not safe to call concurrently with running kernels.
func SetWorkers(n int) { workers = n }
