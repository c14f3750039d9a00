package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ParallelFor runs fn over [0, n) split into pieces of at most grain items, on up to
// Workers() goroutines. The pieces depend only on n and grain, never on the number of
// workers, so a fn that writes disjoint outputs per piece gives identical results
// whatever GOMAXPROCS is. fn must not panic.
//
// The work runs on a persistent pool of helper goroutines plus the caller, so a call
// costs a few microseconds, not a goroutine start per piece. A ParallelFor issued while
// the pool is busy (from inside fn, or from another goroutine) runs its pieces serially
// on the calling goroutine: nested calls never deadlock.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	pieces := (n + grain - 1) / grain
	w := min(Workers(), pieces)
	if w <= 1 || !workPool.mu.TryLock() {
		for lo := 0; lo < n; lo += grain {
			fn(lo, min(lo+grain, n))
		}
		return
	}
	j := &workPool.job
	j.n, j.grain, j.pieces = n, grain, pieces
	j.rng = fn
	workPool.run(w)
	j.rng = nil
	workPool.mu.Unlock()
}

// ParallelRange is ParallelFor for callers that must not allocate: fn should be a
// top-level function and ctx a pointer carrying its arguments (a closure handed to
// ParallelFor escapes to the pool and is allocated on every call). The pieces are
// ParallelFor's: fn(ctx, lo, hi) over [0, n) in pieces of at most grain items.
func ParallelRange(n, grain int, ctx any, fn func(ctx any, lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	pieces := (n + grain - 1) / grain
	w := min(Workers(), pieces)
	if w <= 1 || !workPool.mu.TryLock() {
		for lo := 0; lo < n; lo += grain {
			fn(ctx, lo, min(lo+grain, n))
		}
		return
	}
	j := &workPool.job
	j.n, j.grain, j.pieces = n, grain, pieces
	j.rngCtx, j.ctx = fn, ctx
	workPool.run(w)
	j.rngCtx, j.ctx = nil, nil
	workPool.mu.Unlock()
}

// parallelDo calls fn(ctx, i) for i in [0, pieces), spread over up to w workers of
// the pool (w is capped by Workers()). It is ParallelFor for callers that must not
// allocate: fn should be a top-level function and ctx a pointer.
func parallelDo(pieces, w int, ctx any, fn func(ctx any, i int)) {
	w = min(w, Workers(), pieces)
	if w <= 1 || !workPool.mu.TryLock() {
		for i := 0; i < pieces; i++ {
			fn(ctx, i)
		}
		return
	}
	j := &workPool.job
	j.pieces = pieces
	j.each, j.ctx = fn, ctx
	workPool.run(w)
	j.each, j.ctx = nil, nil
	workPool.mu.Unlock()
}

// poolJob is the one job the pool runs at a time.
type poolJob struct {
	pieces   int
	n, grain int
	next     atomic.Int64
	rng      func(lo, hi int)          // ParallelFor's fn, or nil
	rngCtx   func(ctx any, lo, hi int) // ParallelRange's fn, or nil
	each     func(ctx any, i int)      // parallelDo's fn
	ctx      any
}

func (j *poolJob) work() {
	for {
		p := int(j.next.Add(1) - 1)
		if p >= j.pieces {
			return
		}
		switch lo := p * j.grain; {
		case j.rng != nil:
			j.rng(lo, min(lo+j.grain, j.n))
		case j.rngCtx != nil:
			j.rngCtx(j.ctx, lo, min(lo+j.grain, j.n))
		default:
			j.each(j.ctx, p)
		}
	}
}

// pool is a set of helper goroutines that live for the whole program. Helpers are
// started on first need and never stop; an idle helper blocks on its channel.
type pool struct {
	mu    sync.Mutex // held by the goroutine whose job is running
	job   poolJob
	wake  []chan struct{}
	wg    sync.WaitGroup
	start sync.Mutex // guards wake
}

var workPool pool

// run executes workPool.job on the caller and w-1 helpers. mu must be held.
func (p *pool) run(w int) {
	p.job.next.Store(0)
	nh := w - 1
	if len(p.wake) < nh {
		p.grow(nh)
	}
	p.wg.Add(nh)
	for i := 0; i < nh; i++ {
		p.wake[i] <- struct{}{}
	}
	p.job.work()
	p.wg.Wait()
}

func (p *pool) grow(n int) {
	p.start.Lock()
	defer p.start.Unlock()
	for len(p.wake) < n {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
		go p.helper(ch)
	}
}

func (p *pool) helper(wake chan struct{}) {
	for range wake {
		p.job.work()
		p.wg.Done()
	}
}

var workers atomic.Int64

// Workers returns the number of workers parallel kernels use: SetWorkers' value, or
// GOMAXPROCS when unset.
func Workers() int {
	if w := workers.Load(); w > 0 {
		return int(w)
	}
	return runtime.GOMAXPROCS(0)
}

// SetWorkers sets the number of workers (n <= 0 restores the GOMAXPROCS default).
// Results of every kernel in this package are the same for any number of workers;
// only the speed changes. It should not be called while kernels are running.
func SetWorkers(n int) { workers.Store(int64(n)) }
