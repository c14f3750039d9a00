package tensor

import (
	"fmt"
	"strings"
	"testing"
)

// TestPoolProtocolModel explores every interleaving of the atomic steps of the
// pool's hand-over and completion protocol (parallel.go: run and helper), with a
// caller issuing mJobs jobs to up to mHelpers helpers, every poll free to time out
// at any point, and channels of capacity one. It checks that no state is stuck
// (caller waiting, nothing can move), that a helper runs only a job handed to it and
// each at most once, and that the caller returns only when its helpers are done.
//
// The model follows the code step for step; keep them in sync. It also checks that
// the protocol used before issue 13 (a sequence number and a sleeping flag per
// helper) fails: the exploration finds its hang.
func TestPoolProtocolModel(t *testing.T) {
	widths := map[string]func(job int) int{ // helpers in each job
		"all":    func(int) int { return mHelpers },
		"one":    func(int) int { return 1 },
		"grow":   func(j int) int { return 1 + j%mHelpers },
		"shrink": func(j int) int { return mHelpers - j%mHelpers },
	}
	for name, nh := range widths {
		n, err := explore(modelStep(false), nh)
		if err != nil {
			t.Fatalf("protocol, helpers per job %q: %v", name, err)
		}
		t.Logf("protocol, helpers per job %q: %d states, all good", name, n)
	}
	_, err := explore(modelStep(true), widths["one"])
	if err == nil {
		t.Fatalf("the old protocol passed the model check; the checker has lost its teeth")
	}
	t.Logf("old protocol, one helper: %v", err)
}

const (
	mHelpers = 3
	mJobs    = 4
	mWaitBit = 1 << 6
)

type mHelper struct {
	pc, word, wake, seq, job int8 // word: helper.state; old protocol: sleeping flag, seq, job
}

type mState struct {
	cpc, jobs, i, nh int8 // caller: step, jobs finished, helper handed to next, helpers in the job
	pending, done    int8 // pool.pending, tokens in done
	took             int8 // bit h: helper h took the current job
	ret              int8 // bit h: the caller took the current job back from helper h
	h                [mHelpers]mHelper
}

// Caller steps.
const (
	cIdle    = iota // between jobs
	cHand           // about to hand the job to helper i
	cOldLoad        // old protocol: sequence incremented, about to load sleeping
	cWake           // about to send helper i its token
	cRetract        // pieces all taken: about to take the job back from helper i
	cPoll           // own share done: poll pending (and maybe time out)
	cOr             // polling over, pending was not 0: about to Or in waitBit
	cBlock          // blocked on done
	cReturn         // about to return
)

// Helper steps.
const (
	hPoll   = iota // polling for a job (may time out)
	hOldSet        // old protocol: about to set sleeping
	hOldSeq        // old protocol: sleeping set, about to reload seq
	hSleep         // about to CompareAndSwap into asleep (old: out of sleeping)
	hBlock         // blocked on wake
	hTake          // has its job, about to take it
	hCount         // job run, about to count itself out
	hSend          // about to send on done
)

// modelStep returns the successor function of the protocol (old: the one before
// issue 13). A step that cannot proceed (a receive on an empty channel, a send on a
// full one) yields nothing; a violated invariant yields an error.
func modelStep(old bool) func(s mState, nhFor func(int) int) ([]mState, error) {
	return func(s mState, nhFor func(int) int) (out []mState, err error) {
		// The caller.
		c := s
		switch s.cpc {
		case cIdle:
			if s.jobs < mJobs {
				c.nh = int8(nhFor(int(s.jobs)))
				c.pending, c.i, c.took, c.ret, c.cpc = c.nh, 0, 0, 0, cHand
				out = append(out, c)
			}
		case cHand:
			if s.i == s.nh {
				c.cpc = cPoll
				if !old {
					c.i, c.cpc = 0, cRetract
				}
				out = append(out, c)
				break
			}
			h := &c.h[s.i]
			if old {
				h.seq++
				c.cpc = cOldLoad
			} else {
				prev := h.word
				h.word = helperJob
				switch prev {
				case helperAsleep:
					c.cpc = cWake
				case helperJob:
					return nil, fmt.Errorf("job handed to helper %d before it took the last one", s.i)
				default:
					c.i++
				}
			}
			out = append(out, c)
		case cOldLoad: // Load and CompareAndSwap of sleeping: one step is enough here
			if s.h[s.i].word == 1 {
				c.h[s.i].word = 0
				c.cpc = cWake
			} else {
				c.i++
				c.cpc = cHand
			}
			out = append(out, c)
		case cWake:
			if s.h[s.i].wake == 0 {
				c.h[s.i].wake = 1
				c.i++
				c.cpc = cHand
				out = append(out, c)
			}
		case cRetract: // CompareAndSwap(helperJob, helperIdle), then count it out
			if s.i == s.nh {
				c.cpc = cPoll
			} else {
				if s.h[s.i].word == helperJob {
					c.h[s.i].word = helperIdle
					c.pending--
					c.ret |= 1 << s.i
				}
				c.i++
			}
			out = append(out, c)
		case cPoll: // a poll that sees 0 returns; any poll may time out instead
			if s.pending == 0 {
				c.cpc = cReturn
			} else {
				c.cpc = cOr
			}
			out = append(out, c)
		case cOr:
			c.pending |= mWaitBit
			c.cpc = cReturn
			if s.pending != 0 {
				c.cpc = cBlock
			}
			out = append(out, c)
		case cBlock:
			if s.done > 0 {
				c.done--
				c.cpc = cReturn
				out = append(out, c)
			}
		case cReturn:
			for i := 0; i < int(s.nh); i++ {
				if s.ret&(1<<i) != 0 {
					continue
				}
				if s.took&(1<<i) == 0 || s.h[i].pc == hCount || s.h[i].pc == hSend {
					return nil, fmt.Errorf("caller returned before helper %d was done with the job", i)
				}
			}
			c.jobs++
			c.cpc = cIdle
			out = append(out, c)
		}

		// The helpers.
		for i := range s.h {
			n := s
			h := &n.h[i]
			switch s.h[i].pc {
			case hPoll:
				switch {
				case !old && s.h[i].word == helperJob, old && s.h[i].seq >= s.h[i].job:
					h.pc = hTake
				case old: // timed out; the reload of seq before blocking sees no job
					h.pc = hOldSet
				default:
					h.pc = hSleep
				}
				out = append(out, n)
			case hOldSet:
				h.word = 1
				h.pc = hOldSeq
				out = append(out, n)
			case hOldSeq:
				h.pc = hSleep
				if s.h[i].seq < s.h[i].job {
					h.pc = hBlock
				}
				out = append(out, n)
			case hSleep:
				if old { // CompareAndSwap(true, false): success means run did not see the flag
					h.pc = hBlock
					if s.h[i].word == 1 {
						h.word, h.pc = 0, hTake
					}
				} else {
					switch s.h[i].word {
					case helperIdle:
						h.word, h.pc = helperAsleep, hBlock
					case helperJob:
						h.pc = hTake
					default:
						return nil, fmt.Errorf("helper %d found itself asleep", i)
					}
				}
				out = append(out, n)
			case hBlock:
				if s.h[i].wake > 0 {
					h.wake = 0
					h.pc = hTake
					out = append(out, n)
				}
			case hTake: // take the job and run it (the pieces themselves are not modelled)
				if !old && s.h[i].word != helperJob { // taken back: poll again
					h.pc = hPoll
					out = append(out, n)
					break
				}
				if s.cpc == cIdle || s.cpc == cReturn || i >= int(s.nh) || s.took&(1<<i) != 0 {
					return nil, fmt.Errorf("helper %d ran a job not handed to it (caller step %d, job %d)", i, s.cpc, s.jobs)
				}
				n.took |= 1 << i
				if old {
					h.job++
				} else {
					h.word = helperIdle
				}
				h.pc = hCount
				out = append(out, n)
			case hCount:
				n.pending--
				h.pc = hPoll
				if n.pending == mWaitBit {
					h.pc = hSend
				}
				out = append(out, n)
			case hSend:
				if s.done == 0 {
					n.done = 1
					h.pc = hPoll
					out = append(out, n)
				}
			}
		}
		return out, nil
	}
}

// explore visits every state reachable from the start and returns their number, or
// the first violation or stuck state with the steps that lead to it.
func explore(step func(mState, func(int) int) ([]mState, error), nhFor func(int) int) (int, error) {
	var start mState
	for i := range start.h {
		start.h[i].job = 1
	}
	parent := map[mState]mState{start: start}
	trace := func(s mState) string {
		var lines []string
		for ; s != start; s = parent[s] {
			lines = append(lines, fmt.Sprintf("%+v", s))
		}
		for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
			lines[i], lines[j] = lines[j], lines[i]
		}
		return strings.Join(lines, "\n\t")
	}
	queue := []mState{start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		next, err := step(s, nhFor)
		if err != nil {
			return len(parent), fmt.Errorf("%v after\n\t%s", err, trace(s))
		}
		if len(next) == 0 && s.jobs < mJobs {
			return len(parent), fmt.Errorf("stuck (caller step %d, helpers %+v) after\n\t%s", s.cpc, s.h, trace(s))
		}
		for _, t := range next {
			if _, ok := parent[t]; !ok {
				parent[t] = s
				queue = append(queue, t)
			}
		}
	}
	return len(parent), nil
}
