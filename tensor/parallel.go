package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ParallelFor runs fn over [0, n) split into pieces of at most grain items, on up to
// Workers() goroutines. The pieces depend only on n and grain, never on the number of
// workers, so a fn that writes disjoint outputs per piece gives identical results
// whatever GOMAXPROCS is. fn must not panic.
//
// The work runs on a persistent pool of helper goroutines plus the caller, so a call
// costs well under a microsecond when the pool was busy in the last spinWait, and
// the wake-up of a blocked thread otherwise, not a goroutine start per piece. A ParallelFor issued while
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

// pool is a set of helper goroutines that live for the whole program, started on
// first need. Between jobs a helper polls for the next one for up to spinWait before
// it blocks on its channel, and the caller polls for the helpers' completion the same
// way: waking a blocked thread costs tens of microseconds on a virtual machine (it was
// ~30 µs on the 2-core development VM, the length of a whole small job), while
// polling sees a new job within a few hundred nanoseconds. Training loops issue a
// job every few tens of microseconds, so their helpers never block.
type pool struct {
	mu      sync.Mutex // held by the goroutine whose job is running
	job     poolJob
	helpers []*helper
	start   sync.Mutex // guards helpers
	// state is the number of helpers of the running job that have not finished
	// it, plus waitBit once the caller blocks on done (one word, so that the last
	// helper's decrement itself decides whether it must send).
	state atomic.Int64
	done  chan struct{}
}

const waitBit = 1 << 40

// helper is one helper goroutine's mailbox: run increments seq to hand it a job,
// and sends on wake when the helper said (sleeping) that it blocks.
type helper struct {
	index    int // helpers[index]: runs with the caller and index other helpers
	seq      atomic.Uint64
	sleeping atomic.Bool
	wake     chan struct{}
	_        [64]byte // keep helpers' words on separate cache lines
}

// spinWait is how long an idle helper, or a caller waiting for its helpers, polls
// before blocking.
const spinWait = 200 * time.Microsecond

var workPool = pool{done: make(chan struct{}, 1)}

// run executes workPool.job on the caller and w-1 helpers. mu must be held.
func (p *pool) run(w int) {
	p.job.next.Store(0)
	nh := w - 1
	if len(p.helpers) < nh {
		p.grow(nh)
	}
	p.state.Store(int64(nh))
	for _, h := range p.helpers[:nh] {
		h.seq.Add(1)
		if h.sleeping.Load() && h.sleeping.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	p.job.work()
	// Poll only while every participant can have a processor: a poller occupying
	// one that a helper is waiting for would delay the job itself.
	spin := newSpinner(w)
	for p.state.Load() != 0 && spin.more() {
	}
	// Block, unless the helpers have finished; the helper whose decrement leaves
	// exactly waitBit sends.
	if p.state.Load() != 0 && p.state.Or(waitBit) != 0 {
		<-p.done
	}
}

func (p *pool) grow(n int) {
	p.start.Lock()
	defer p.start.Unlock()
	for len(p.helpers) < n {
		h := &helper{index: len(p.helpers), wake: make(chan struct{}, 1)}
		p.helpers = append(p.helpers, h)
		go p.helper(h)
	}
}

func (p *pool) helper(h *helper) {
	for job := uint64(1); ; job++ { // waits for the job-th hand-over
		spin := newSpinner(h.index + 2)
		for h.seq.Load() < job && spin.more() {
		}
		if h.seq.Load() < job {
			// Block, unless the job arrives after sleeping is set: then the
			// CompareAndSwap decides whether run saw sleeping (and sends) or not.
			h.sleeping.Store(true)
			if h.seq.Load() < job || !h.sleeping.CompareAndSwap(true, false) {
				<-h.wake
			}
		}
		p.job.work()
		if p.state.Add(-1) == waitBit {
			p.done <- struct{}{}
		}
	}
}

// spinner paces a polling loop: more reports whether to poll again (after a pause)
// and turns false once spinWait has passed. A poller that finds it lost its
// processor for a while (other programs' threads want the CPUs) stops, and no
// loop polls for the next quietFor: polling then only takes time from them.
type spinner struct {
	n           int
	last, until time.Time
}

const (
	preemptedGap = 50 * time.Microsecond
	quietFor     = 2 * time.Millisecond
)

// quietUntil is the time (UnixNano) before which no loop polls.
var quietUntil atomic.Int64

// newSpinner returns a spinner for a loop that is one of threads polling or working
// threads; it never polls when they outnumber the processors (GOMAXPROCS).
func newSpinner(threads int) spinner {
	if threads > runtime.GOMAXPROCS(0) {
		return spinner{n: -1}
	}
	return spinner{}
}

func (s *spinner) more() bool {
	if s.n < 0 {
		return false
	}
	s.n++
	if s.n&63 == 1 {
		// Every 64 polls (≈ 1.5 µs), let the program's other goroutines have this
		// processor and other programs' threads this CPU if they are waiting (a
		// poller never blocks, so they would otherwise wait for preemption), then
		// read the clock. Both cost ≈ 0.1 µs when nobody is waiting.
		runtime.Gosched()
		osYield()
		now := time.Now()
		switch {
		case s.until.IsZero():
			if now.UnixNano() < quietUntil.Load() {
				s.n = -1
				return false
			}
			s.until = now.Add(spinWait)
		case now.Sub(s.last) > preemptedGap:
			quietUntil.Store(now.Add(quietFor).UnixNano())
			s.n = -1
			return false
		case now.After(s.until):
			return false
		}
		s.last = now
	}
	cpuPause()
	return true
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
