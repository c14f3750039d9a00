package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latent-ml/latent/internal/atomicfile"
)

// Executor runs one step: latent with args, in folder dir, its standard
// output and error going to stdout and stderr.
type Executor func(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) error

// ChildProcess returns an Executor that runs exe (the latent executable) as a
// child process with extra environment variables env added to this process's.
// Unless GOMAXPROCS is set already, each child gets GOMAXPROCS = procs (when
// procs > 0), so that N runs at a time share the cores instead of fighting
// over them; results do not depend on it.
func ChildProcess(exe string, env []string, procs int) Executor {
	return func(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) error {
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = stdout, stderr
		cmd.Env = append(os.Environ(), env...)
		if _, set := os.LookupEnv("GOMAXPROCS"); !set && procs > 0 {
			cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(procs))
		}
		cmd.WaitDelay = 5 * time.Second
		return cmd.Run()
	}
}

// RunOne runs the steps of run i that have not finished yet, in the run's
// folder, and returns nil when all have. Step k's output goes to stepK.out and
// stepK.err; stepK.done marks it finished. A failing step writes the run's
// "failed" file (the step and the last line of its stderr) and returns that
// error; a cancelled ctx leaves the run pending.
func (sw *Sweep) RunOne(ctx context.Context, i int, run Executor) error {
	r := &sw.Runs[i]
	dir := filepath.Join(sw.Dir, r.Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	failed := filepath.Join(dir, "failed")
	os.Remove(failed)
	for k, args := range r.Steps {
		if _, err := os.Stat(filepath.Join(dir, stepFile(k, "done"))); err == nil {
			continue
		}
		out, err := os.Create(filepath.Join(dir, stepFile(k, "out")))
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		errf, err := os.Create(filepath.Join(dir, stepFile(k, "err")))
		if err != nil {
			out.Close()
			return fmt.Errorf("sweep: %w", err)
		}
		var tail tailBuffer
		start := time.Now()
		runErr := run(ctx, dir, args, out, io.MultiWriter(errf, &tail))
		cerr := out.Close()
		errf.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if runErr == nil && cerr != nil {
			runErr = cerr
		}
		if runErr != nil {
			msg := fmt.Sprintf("step %d (%s): %v", k+1, args[0], runErr)
			if line := tail.lastLine(); line != "" {
				msg += ": " + line
			}
			if werr := atomicfile.Write(failed, func(w io.Writer) error {
				_, err := io.WriteString(w, msg+"\n")
				return err
			}); werr != nil {
				return fmt.Errorf("sweep: %w", werr)
			}
			return errors.New(msg)
		}
		secs := strconv.FormatFloat(time.Since(start).Seconds(), 'f', 3, 64)
		if err := atomicfile.Write(filepath.Join(dir, stepFile(k, "done")), func(w io.Writer) error {
			_, err := io.WriteString(w, secs+"\n")
			return err
		}); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	return nil
}

// tailBuffer keeps the last few KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 8192 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

// lastLine returns the last non-empty line, where latent puts its error.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(t.buf), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		// Progress bars rewrite a line with \r; keep what is after the last.
		l := lines[i]
		if j := bytes.LastIndexByte(l, '\r'); j >= 0 {
			l = l[j+1:]
		}
		if s := strings.TrimSpace(string(l)); s != "" {
			return s
		}
	}
	return ""
}

// Event reports a run's progress to a Local runner's caller.
type Event struct {
	Index   int
	Label   string
	State   State   // Pending when it starts; Done or Failed when it ends
	Err     error   // for Failed
	Seconds float64 // for Done and Failed
}

// Summary counts a local sweep's runs.
type Summary struct {
	Skipped int       // done before this call
	Done    int       // finished by this call
	Failed  []Failure // failed in this call
}

// Failure is a run that failed, with its error line.
type Failure struct {
	Index int
	Label string
	Err   string
}

// Local runs every run that has not finished, n at a time (n >= 1), in order
// of index, and reports each start and end to onEvent (which may be nil; calls
// are serialised). A failing run does not stop the others; it is listed in the
// summary. A cancelled ctx stops the runs in flight (they stay pending) and
// returns ctx's error.
func (sw *Sweep) Local(ctx context.Context, n int, run Executor, onEvent func(Event)) (Summary, error) {
	if n < 1 {
		return Summary{}, fmt.Errorf("sweep: --local %d: want 1 or more runs at a time", n)
	}
	var sum Summary
	var todo []int
	for i := range sw.Runs {
		if sw.Status(i).State == Done {
			sum.Skipped++
			continue
		}
		todo = append(todo, i)
	}
	var mu sync.Mutex
	emit := func(e Event) {
		if onEvent != nil {
			onEvent(e)
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(n, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &sw.Runs[i]
				mu.Lock()
				emit(Event{Index: i, Label: r.Label(), State: Pending})
				mu.Unlock()
				start := time.Now()
				err := sw.RunOne(ctx, i, run)
				e := Event{Index: i, Label: r.Label(), Seconds: time.Since(start).Seconds()}
				mu.Lock()
				switch {
				case ctx.Err() != nil:
				case err != nil:
					e.State, e.Err = Failed, err
					sum.Failed = append(sum.Failed, Failure{Index: i, Label: r.Label(), Err: err.Error()})
					emit(e)
				default:
					e.State = Done
					sum.Done++
					emit(e)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	sortFailures(sum.Failed)
	return sum, nil
}

func sortFailures(f []Failure) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Index < f[j-1].Index; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

// ProcsPerRun is GOMAXPROCS for each of n runs at a time on this machine.
func ProcsPerRun(n int) int {
	return max(1, runtime.NumCPU()/max(n, 1))
}
