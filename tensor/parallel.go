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

// ParallelRangeWorker is ParallelRange with the index of the worker that runs
// each piece passed to fn: 0 for the calling goroutine (and for every piece
// when the pieces run serially), 1, 2, … for the pool's helpers, always below
// Workers(). A worker runs its pieces one after another, so state indexed by
// worker needs no locking, and index k is the same goroutine from call to
// call, so such state tends to stay in one core's cache.
func ParallelRangeWorker(n, grain int, ctx any, fn func(ctx any, worker, lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	pieces := (n + grain - 1) / grain
	w := min(Workers(), pieces)
	if w <= 1 || !workPool.mu.TryLock() {
		for lo := 0; lo < n; lo += grain {
			fn(ctx, 0, lo, min(lo+grain, n))
		}
		return
	}
	j := &workPool.job
	j.n, j.grain, j.pieces = n, grain, pieces
	j.rngW, j.ctx = fn, ctx
	workPool.run(w)
	j.rngW, j.ctx = nil, nil
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
	rng      func(lo, hi int)                  // ParallelFor's fn, or nil
	rngCtx   func(ctx any, lo, hi int)         // ParallelRange's fn, or nil
	rngW     func(ctx any, worker, lo, hi int) // ParallelRangeWorker's fn, or nil
	each     func(ctx any, i int)              // parallelDo's fn
	ctx      any
}

// work runs pieces until none is left; worker is the caller's index (0) or a
// helper's (its index + 1).
func (j *poolJob) work(worker int) {
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
		case j.rngW != nil:
			j.rngW(j.ctx, worker, lo, min(lo+j.grain, j.n))
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
//
// Each side of the protocol is one atomic word whose read-modify-write operations
// decide, by the value they return, who must send a token on a channel, so that a
// token is sent exactly when the other side has committed to receive it:
//
//   - Hand-over, helper.state: run swaps in helperJob and sends on wake only if the
//     Swap returned helperAsleep; a helper that stops polling blocks on wake only if
//     its CompareAndSwap helperIdle → helperAsleep succeeded (if it failed, the job is
//     there). The helper resets the word to helperIdle when it takes the job, before
//     it counts itself out of the job, so run (which waits for that) never hands a
//     job to a helper that has not taken the last one, and an asleep state always
//     belongs to the next hand-over.
//   - Retraction: once every piece is taken, run takes the job back from each helper
//     that has not taken it yet (CompareAndSwap helperJob → helperIdle) and counts
//     that helper out itself; the helper takes a job only by the opposite
//     CompareAndSwap, so exactly one of them wins. A helper woken by a token for a
//     job taken back finds the word idle and goes back to polling.
//   - Completion, pool.pending: the number of helpers still working on the job, plus
//     waitBit once the caller blocks. The caller blocks on done only if its Or
//     found helpers still working; the helper whose decrement leaves exactly waitBit
//     sends.
//
// Until issue 13 the hand-over used two words per helper, a sequence number and a
// sleeping flag: run incremented the sequence, then sent a token if it could clear
// the flag. Between those two steps a polling helper could take job k, finish it,
// count itself out and set the flag to block for job k+1; run cleared that flag as
// if it were job k's and sent a token, which the helper took for job k+1. It ran the
// job's (empty) remainder and counted itself out a second time (pending went to −1,
// or reached 0 early), and from then on waited for a sequence number one ahead. The
// caller blocked on done for a count that never reached waitBit and the helper on
// wake: the hang of issue 13. TestPoolProtocolModel checks both protocols over every
// interleaving of their atomic steps.
type pool struct {
	mu      sync.Mutex // held by the goroutine whose job is running
	job     poolJob
	helpers []*helper
	start   sync.Mutex // guards helpers
	// pending is the number of helpers of the running job that have not finished
	// it, plus waitBit once the caller blocks on done.
	pending atomic.Int64
	done    chan struct{}
}

const waitBit = 1 << 40

// Values of helper.state.
const (
	helperIdle   = iota // between jobs, awake (polling, or about to block)
	helperAsleep        // between jobs, blocked on wake (or about to block)
	helperJob           // a job has been handed over and not yet taken
)

// helper is one helper goroutine's mailbox.
type helper struct {
	index int          // helpers[index]: runs with the caller and index other helpers
	state atomic.Int32 // helperIdle, helperAsleep or helperJob
	wake  chan struct{}
	_     [64]byte // keep helpers' words on separate cache lines
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
	p.pending.Store(int64(nh))
	for _, h := range p.helpers[:nh] {
		poolTestHook(hookHandOver)
		switch h.state.Swap(helperJob) {
		case helperAsleep:
			poolTestHook(hookWake)
			h.wake <- struct{}{} // never blocks: the helper took the last token
		case helperJob:
			panic("tensor: pool: job handed to a helper that has not taken the last one")
		}
	}
	p.job.work(0)
	// Every piece is taken. A helper that has not taken the job by now (it is
	// descheduled, or its wake-up has not run) would only find it empty, so take it
	// back rather than wait for that thread to get a processor: on a busy machine
	// that wait is a whole scheduling quantum.
	for _, h := range p.helpers[:nh] {
		poolTestHook(hookRetract)
		if h.state.CompareAndSwap(helperJob, helperIdle) {
			p.pending.Add(-1)
		}
	}
	poolTestHook(hookCallerPoll)
	// Poll only while every participant can have a processor: a poller occupying
	// one that a helper is waiting for would delay the job itself.
	spin := newSpinner(w)
	for p.pending.Load() != 0 && spin.more() {
	}
	poolTestHook(hookCallerBlock)
	// Block, unless the helpers have finished; the helper whose decrement leaves
	// exactly waitBit sends.
	if p.pending.Load() != 0 && p.pending.Or(waitBit) != 0 {
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
	for {
		spin := newSpinner(h.index + 2)
		for h.state.Load() != helperJob && spin.more() {
		}
		poolTestHook(hookHelperSleep)
		// Block, unless the job has arrived (then the CompareAndSwap fails: run
		// found the helper awake and sends nothing). Only this goroutine moves
		// the word away from helperJob, so a Load that sees it is final.
		if h.state.Load() != helperJob && h.state.CompareAndSwap(helperIdle, helperAsleep) {
			<-h.wake
		}
		poolTestHook(hookHelperTake)
		// Take the job, unless run took it back (then a wake-up token, if any, was
		// for the job it retracted).
		if !h.state.CompareAndSwap(helperJob, helperIdle) {
			continue
		}
		p.job.work(h.index + 1)
		poolTestHook(hookHelperDone)
		if p.pending.Add(-1) == waitBit {
			poolTestHook(hookHelperSend)
			p.done <- struct{}{}
		}
	}
}

// The steps of the protocol at which poolTestHook calls the test's hook.
const (
	hookHandOver    = iota // run: before handing the job to the next helper
	hookWake               // run: that helper was asleep, before the wake-up token
	hookRetract            // run: pieces all taken, before taking the job back from a helper
	hookCallerPoll         // run: the caller's share done, before it polls
	hookCallerBlock        // run: polling over, before the caller decides to block
	hookHelperSleep        // helper: polling over, before it decides to block
	hookHelperTake         // helper: its job has come, before it takes it
	hookHelperDone         // helper: job done, before it counts itself out
	hookHelperSend         // helper: last one out while the caller blocks, before sending
	numPoolHooks
)

// poolHook, when set (only by tests), is called at each step of the protocol, so
// that a stress test can stall either side at any point.
var poolHook atomic.Pointer[func(at int)]

func poolTestHook(at int) {
	if f := poolHook.Load(); f != nil {
		(*f)(at)
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
