package tensor

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var stressFlag = flag.Bool("stress", false, "run TestPoolStress for about a minute per worker count")

// stressNoProgress is how long TestPoolStress waits without a finished job before it
// dumps every goroutine and fails.
const stressNoProgress = 10 * time.Second

// stressPause stalls the calling goroutine for a random while, mostly not at all:
// often a runtime.Gosched, sometimes a busy spin of up to 20 µs, rarely one or a
// sleep longer than spinWait, so that a poller on the other side of the protocol
// times out and blocks. scale (≥ 1) makes the long stalls rarer.
func stressPause(scale int) {
	switch r := rand.IntN(1024 * scale); {
	case r < 2: // 1/512 of the time over scale: the other side's polling times out
		spinFor(spinWait + time.Duration(rand.IntN(int(spinWait))))
	case r < 4: // the same asleep: an idle pool, whose helpers block
		time.Sleep(spinWait + time.Duration(rand.IntN(int(spinWait))))
	case r < 4+16*scale: // 1/64
		spinFor(time.Duration(rand.IntN(20_000)) * time.Nanosecond)
	case r < 4+80*scale: // 1/16
		runtime.Gosched()
	}
}

func spinFor(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
	}
}

// stressCheck is one job's bookkeeping: hits[i] counts the runs of piece i.
type stressCheck struct {
	hits []atomic.Int32
	n    int
}

func (c *stressCheck) reset(n int) {
	c.n = n
	for i := range c.hits[:n] {
		c.hits[i].Store(0)
	}
}

func (c *stressCheck) piece(i int) {
	stressPause(1) // inside the job: helpers and caller finish in any order
	c.hits[i].Add(1)
}

// verify reports a piece that did not run exactly once by the time the call returned.
func (c *stressCheck) verify() error {
	for i := range c.hits[:c.n] {
		if h := c.hits[i].Load(); h != 1 {
			return fmt.Errorf("piece %d of %d ran %d times by the time the call returned", i, c.n, h)
		}
	}
	return nil
}

func stressEach(ctx any, i int) { ctx.(*stressCheck).piece(i) }

func stressRange(ctx any, lo, hi int) {
	c := ctx.(*stressCheck)
	for i := lo; i < hi; i++ {
		c.piece(i)
	}
}

// TestPoolStress drives the pool through many hand-overs with random stalls on the
// caller's side, inside the jobs, and (through poolHook) at every step of the
// hand-over protocol, so that every poll times out at every point, with jobs of
// varying width (helpers left out of some jobs), nested calls and a second
// goroutine competing for the pool. Each call must return only after each of its
// pieces ran exactly once; a watchdog dumps all goroutines and fails the test if no
// job completes for stressNoProgress (a lost wake-up or done signal).
//
// About two seconds by default (a quarter of that with -short); -stress runs for
// about a minute per worker count.
func TestPoolStress(t *testing.T) {
	budget, maxJobs := 700*time.Millisecond, 40_000
	switch {
	case *stressFlag:
		budget, maxJobs = time.Minute, 2_000_000
	case testing.Short():
		budget, maxJobs = 150*time.Millisecond, 10_000
	}
	defer SetWorkers(0)

	// Watchdog: a job finished by the main caller is progress (the second goroutine
	// runs its jobs serially while the pool is stuck).
	var progress atomic.Int64
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		last, since := progress.Load(), time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if p := progress.Load(); p != last {
				last, since = p, time.Now()
				continue
			}
			if time.Since(since) > stressNoProgress {
				fmt.Fprintf(os.Stderr, "TestPoolStress: no job finished for %v; goroutines:\n", stressNoProgress)
				pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
				panic(fmt.Sprintf("TestPoolStress: pool made no progress for %v (lost hand-over?)", stressNoProgress))
			}
		}
	}()
	defer func() {
		close(stop)
		watch.Wait()
	}()

	// Stall at every step of the protocol, and count the steps.
	var hits [numPoolHooks]atomic.Int64
	hookFn := func(at int) {
		hits[at].Add(1)
		stressPause(4)
	}
	poolHook.Store(&hookFn)
	defer poolHook.Store(nil)

	// Two and three workers, and more than GOMAXPROCS (helpers that never poll).
	ws := []int{2, 3}
	if g := runtime.GOMAXPROCS(0); g+1 > 3 {
		ws = append(ws, g+1)
	}
	for _, w := range ws {
		SetWorkers(w)
		jobs, err := stressRun(w, budget, maxJobs, &progress)
		if err != nil {
			t.Fatalf("workers %d (GOMAXPROCS %d), job %d: %v", w, runtime.GOMAXPROCS(0), jobs, err)
		}
		t.Logf("workers %d (GOMAXPROCS %d): %d jobs", w, runtime.GOMAXPROCS(0), jobs)
	}
	poolHook.Store(nil)
	var counts []int64
	for i := range hits {
		counts = append(counts, hits[i].Load())
	}
	t.Logf("protocol steps reached (hand-over, wake, retract, caller poll, caller block, helper sleep, take, done, send): %v", counts)
}

// stressRun issues jobs on the calling goroutine, and smaller ones on a second
// goroutine, until budget or maxJobs runs out.
func stressRun(w int, budget time.Duration, maxJobs int, progress *atomic.Int64) (int, error) {
	const maxPieces = 3 * 8
	deadline := time.Now().Add(budget)

	// A second caller: mostly finds the pool busy and runs serially, sometimes wins it.
	var other sync.WaitGroup
	otherErr := make(chan error, 1)
	quit := make(chan struct{})
	other.Add(1)
	go func() {
		defer other.Done()
		c := &stressCheck{hits: make([]atomic.Int32, maxPieces)}
		for {
			select {
			case <-quit:
				return
			default:
			}
			n := 1 + rand.IntN(2*w)
			c.reset(n)
			ParallelRange(n, 1, c, stressRange)
			if err := c.verify(); err != nil {
				otherErr <- fmt.Errorf("second goroutine: %v", err)
				return
			}
			time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
		}
	}()
	defer func() {
		close(quit)
		other.Wait()
	}()

	c := &stressCheck{hits: make([]atomic.Int32, maxPieces)}
	inner := &stressCheck{hits: make([]atomic.Int32, maxPieces)}
	var job int
	for job = 0; job < maxJobs && (job%64 != 0 || time.Now().Before(deadline)); job++ {
		select {
		case err := <-otherErr:
			return job, err
		default:
		}
		stressPause(1) // on the caller's side, between jobs
		n := 1 + rand.IntN(maxPieces)
		c.reset(n)
		switch rand.IntN(8) {
		case 0, 1, 2:
			parallelDo(n, 1+rand.IntN(w), c, stressEach)
		case 3, 4, 5:
			grain := 1 + rand.IntN(3)
			ParallelRange(n*grain, grain, c, func(ctx any, lo, hi int) {
				stressRange(ctx, lo/grain, (hi+grain-1)/grain)
			})
		case 6:
			ParallelFor(n, 1, func(lo, hi int) { stressRange(c, lo, hi) })
		case 7: // nested: the inner call runs serially inside a piece
			var nested atomic.Int32
			ParallelFor(n, 1, func(lo, hi int) {
				if lo == 0 {
					inner.reset(5)
					ParallelRange(5, 1, inner, stressRange)
					if inner.verify() == nil {
						nested.Store(1)
					}
				}
				stressRange(c, lo, hi)
			})
			if nested.Load() != 1 {
				return job, fmt.Errorf("nested call did not run its 5 pieces once each")
			}
		}
		if err := c.verify(); err != nil {
			return job, err
		}
		progress.Add(1)
	}
	return job, nil
}
