package tensor

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelForCoversOnce: every index is visited exactly once, in pieces whose
// boundaries depend only on n and grain, for any number of workers.
func TestParallelForCoversOnce(t *testing.T) {
	defer SetWorkers(0)
	for _, w := range []int{1, 2, 3, 8} {
		SetWorkers(w)
		for _, n := range []int{0, 1, 7, 100, 1001} {
			for _, grain := range []int{0, 1, 3, 64, 5000} {
				hits := make([]int32, n)
				var mu sync.Mutex
				pieces := map[[2]int]bool{}
				ParallelFor(n, grain, func(lo, hi int) {
					mu.Lock()
					pieces[[2]int{lo, hi}] = true
					mu.Unlock()
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("w=%d n=%d grain=%d: index %d visited %d times", w, n, grain, i, h)
					}
				}
				g := max(grain, 1)
				for lo := 0; lo < n; lo += g {
					if !pieces[[2]int{lo, min(lo+g, n)}] {
						t.Fatalf("w=%d n=%d grain=%d: piece [%d,%d) missing", w, n, grain, lo, min(lo+g, n))
					}
				}
				if want := (n + g - 1) / g; len(pieces) != want {
					t.Fatalf("w=%d n=%d grain=%d: %d pieces, want %d", w, n, grain, len(pieces), want)
				}
			}
		}
	}
}

// TestParallelForNested: a ParallelFor (or Gemm) inside a ParallelFor piece, and
// ParallelFor from many goroutines at once, complete and cover every index.
func TestParallelForNested(t *testing.T) {
	defer SetWorkers(0)
	SetWorkers(2)
	var total atomic.Int64
	ParallelFor(8, 1, func(lo, hi int) {
		ParallelFor(100, 10, func(lo, hi int) { total.Add(int64(hi - lo)) })
		a, b, c := New(40, 50), New(50, 60), New(40, 60)
		Gemm(false, false, 1, a, b, 0, c)
	})
	if total.Load() != 800 {
		t.Fatalf("nested: covered %d of 800", total.Load())
	}
	var wg sync.WaitGroup
	total.Store(0)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 50; r++ {
				ParallelFor(64, 4, func(lo, hi int) { total.Add(int64(hi - lo)) })
			}
		}()
	}
	wg.Wait()
	if total.Load() != 8*50*64 {
		t.Fatalf("concurrent: covered %d of %d", total.Load(), 8*50*64)
	}
}

// TestParallelForWaits: ParallelFor returns only after every piece has run, on each
// of the pool's paths: helpers still polling from the last job, helpers that blocked
// after an idle gap longer than spinWait, and a caller that blocks because its
// helpers' pieces outlast spinWait.
func TestParallelForWaits(t *testing.T) {
	defer SetWorkers(0)
	SetWorkers(3)
	for it := 0; it < 60; it++ {
		var done, started atomic.Int64
		pieces := 3 + it%5
		switch it % 3 {
		case 1: // idle long enough for the helpers to block
			time.Sleep(2 * spinWait)
		}
		slow := it%3 == 2
		ParallelFor(pieces, 1, func(lo, hi int) {
			if slow && started.Add(1) > 1 { // all but the first piece outlast spinWait
				time.Sleep(spinWait + spinWait/2)
			}
			done.Add(1)
		})
		if n := done.Load(); n != int64(pieces) {
			t.Fatalf("iteration %d: ParallelFor returned after %d of %d pieces", it, n, pieces)
		}
	}
}

func TestWorkers(t *testing.T) {
	defer SetWorkers(0)
	SetWorkers(3)
	if Workers() != 3 {
		t.Fatalf("Workers() = %d after SetWorkers(3)", Workers())
	}
	SetWorkers(0)
	if Workers() < 1 {
		t.Fatalf("Workers() = %d by default", Workers())
	}
}

// BenchmarkParallelForOverhead measures the cost of one ParallelFor call with two
// trivial pieces: the price of waking the pool.
func BenchmarkParallelForOverhead(b *testing.B) {
	defer SetWorkers(0)
	SetWorkers(2)
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ParallelFor(2, 1, fn)
	}
}

// TestParallelRangeWorker checks that every piece runs once, that worker
// indices are below Workers(), and that no two pieces with the same index run
// at once (each index is one goroutine), at 1, 2 and 4 workers, and that a call
// from inside a running job (serial) passes index 0.
func TestParallelRangeWorker(t *testing.T) {
	defer SetWorkers(0)
	for _, w := range []int{1, 2, 4} {
		SetWorkers(w)
		var busy [8]atomic.Int32
		var bad atomic.Int32
		hits := make([]atomic.Int32, 1000)
		ParallelRangeWorker(1000, 7, &hits, func(ctx any, worker, lo, hi int) {
			if worker < 0 || worker >= w {
				bad.Add(1)
				return
			}
			if busy[worker].Add(1) != 1 {
				bad.Add(1)
			}
			h := ctx.(*[]atomic.Int32)
			for i := lo; i < hi; i++ {
				(*h)[i].Add(1)
			}
			time.Sleep(20 * time.Microsecond) // long enough for helpers to take pieces
			busy[worker].Add(-1)
		})
		if bad.Load() != 0 {
			t.Fatalf("%d workers: a worker index out of range or running two pieces at once", w)
		}
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("%d workers: item %d ran %d times", w, i, hits[i].Load())
			}
		}
		var nested atomic.Int32
		ParallelRange(4, 1, nil, func(_ any, lo, hi int) {
			ParallelRangeWorker(3, 1, nil, func(_ any, worker, lo, hi int) {
				if worker != 0 {
					nested.Add(1)
				}
			})
		})
		if nested.Load() != 0 {
			t.Fatalf("%d workers: a nested (serial) call passed a worker index other than 0", w)
		}
	}
}
