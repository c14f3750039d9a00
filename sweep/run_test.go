package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestMain lets the test binary stand in for latent: with SWEEP_FAKE_LATENT=1
// it runs fakeLatent on its arguments.
func TestMain(m *testing.M) {
	if os.Getenv("SWEEP_FAKE_LATENT") == "1" {
		os.Exit(fakeMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeMain(args []string) int {
	if err := fakeLatent(".", args, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "latent: %v\n", err)
		return 1
	}
	return 0
}

// fakeLatent: "square --x X --out FILE" writes X² to FILE and prints
// {"y": X²}; "read --in FILE --x X" prints {"y2": y+X, "nested": {"a": X}}.
// X = 13 fails.
func fakeLatent(dir string, args []string, stdout io.Writer) error {
	opt := map[string]string{}
	for i := 1; i+1 < len(args); i += 2 {
		opt[strings.TrimPrefix(args[i], "--")] = args[i+1]
	}
	x, err := strconv.ParseFloat(opt["x"], 64)
	if err != nil {
		return fmt.Errorf("--x: %v", err)
	}
	if x == 13 {
		return errors.New("--x: 13 is unlucky")
	}
	switch args[0] {
	case "square":
		if err := os.WriteFile(filepath.Join(dir, opt["out"]), []byte(strconv.FormatFloat(x*x, 'g', -1, 64)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "progress line\n{\"y\": %g, \"seconds\": 0.5}\n", x*x)
	case "read":
		b, err := os.ReadFile(filepath.Join(dir, opt["in"]))
		if err != nil {
			return err
		}
		y, _ := strconv.ParseFloat(string(b), 64)
		fmt.Fprintf(stdout, "{\"y2\": %g, \"nested\": {\"a\": %g, \"tag\": \"t\"}}\n", y+x, x)
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return nil
}

// counting is an in-process Executor running fakeLatent that counts its calls.
type counting struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *counting) exec(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) error {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[strings.Join(args, " ")]++
	c.mu.Unlock()
	if err := fakeLatent(dir, args, stdout); err != nil {
		fmt.Fprintf(stderr, "latent: %v\n", err)
		return errors.New("exit status 1")
	}
	return nil
}

const fakeSweep = `
steps = ["square --x {x} --out m.txt", "read --in m.txt --x {x}"]
[axes]
x = [1, 2, 13, 4]
`

func planFake(t *testing.T, src string) (*Sweep, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "fake.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := Plan(f, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	return sw, path
}

func TestLocalResumeCollect(t *testing.T) {
	sw, path := planFake(t, fakeSweep)
	// Half-finished: run 1 alone, and run 3's first step alone.
	var c counting
	if err := sw.RunOne(context.Background(), 1, c.exec); err != nil {
		t.Fatal(err)
	}
	sw3 := *sw
	sw3.Runs = append([]Run(nil), sw.Runs...)
	sw3.Runs[3].Steps = sw.Runs[3].Steps[:1]
	if err := sw3.RunOne(context.Background(), 3, c.exec); err != nil {
		t.Fatal(err)
	}
	if st := sw.Status(3); st.State != Pending || st.Steps != 1 {
		t.Fatalf("run 3 after one step: %+v", st)
	}

	// Resume from the same file: Plan returns the sweep as it was.
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sw, err = Plan(f, sw.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	sum, err := sw.Local(context.Background(), 2, c.exec, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != 1 || sum.Done != 2 || len(sum.Failed) != 1 || sum.Failed[0].Index != 2 {
		t.Fatalf("summary %+v, want 1 skipped, 2 done, run 2 failed", sum)
	}
	if want := "step 1 (square): exit status 1: latent: --x: 13 is unlucky"; sum.Failed[0].Err != want {
		t.Errorf("failure %q, want %q", sum.Failed[0].Err, want)
	}
	for cmd, n := range c.calls {
		if n != 1 {
			t.Errorf("%q ran %d times, want once", cmd, n)
		}
	}
	if len(c.calls) != 7 { // 3 good runs × 2 steps + run 2's failing step
		t.Errorf("%d commands ran, want 7: %v", len(c.calls), c.calls)
	}
	if len(events) != 6 {
		t.Errorf("%d events, want 3 starts and 3 ends", len(events))
	}

	// Everything done but the failure: a second Local reruns run 2 alone.
	c.calls = nil
	sum, err = sw.Local(context.Background(), 3, c.exec, nil)
	if err != nil || sum.Skipped != 3 || sum.Done != 0 || len(sum.Failed) != 1 || len(c.calls) != 1 {
		t.Errorf("rerun: %+v %v, calls %v", sum, err, c.calls)
	}

	tab, err := sw.Collect()
	if err != nil {
		t.Fatal(err)
	}
	wantCols := "run x state square.seconds square.y read.nested.a read.nested.tag read.y2 error"
	if got := strings.Join(tab.Columns, " "); got != wantCols {
		t.Errorf("columns %q, want %q", got, wantCols)
	}
	for _, r := range tab.Rows {
		x := r.Cells["x"].(float64)
		if x == 13 {
			if r.State != Failed || !strings.Contains(r.Cells[ColError].(string), "unlucky") || r.Cells["square.y"] != nil {
				t.Errorf("failed row %+v", r)
			}
			continue
		}
		if r.State != Done || r.Cells["square.y"] != x*x || r.Cells["read.y2"] != x*x+x || r.Cells["read.nested.a"] != x {
			t.Errorf("row %d: %+v", r.Index, r.Cells)
		}
	}
	var md, csv, js bytes.Buffer
	if err := tab.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| 3 | 4 | done | 0.5 | 16 | 4 | t | 20 |  |") {
		t.Errorf("markdown:\n%s", md.String())
	}
	if err := tab.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(csv.String()), "\n"); len(lines) != 5 || lines[0] != strings.ReplaceAll(wantCols, " ", ",") {
		t.Errorf("csv:\n%s", csv.String())
	}
	if err := tab.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(js.Bytes(), &rows); err != nil || len(rows) != 4 || rows[1]["read.y2"] != 6.0 {
		t.Errorf("json %v:\n%s", err, js.String())
	}
	if err := tab.Select([]string{"read.*"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tab.Columns, " "); got != "run x state read.nested.a read.nested.tag read.y2 error" {
		t.Errorf("selected %q", got)
	}
	if err := tab.Select([]string{"nope*"}); err == nil || !strings.Contains(err.Error(), `"nope*" matches no column`) {
		t.Errorf("bad select: %v", err)
	}
}

// A sweep folder belongs to one sweep file: another file's folder is refused.
func TestPlanOtherFile(t *testing.T) {
	sw, path := planFake(t, fakeSweep)
	other := filepath.Join(filepath.Dir(path), "other.toml")
	os.WriteFile(other, []byte(strings.Replace(fakeSweep, "4]", "5]", 1)), 0o644)
	f, err := ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Plan(f, sw.Dir)
	if err == nil || !strings.Contains(err.Error(), "holds the sweep of another file") || strings.Contains(err.Error(), "\n") {
		t.Errorf("plan over another sweep: %v", err)
	}
	// A non-empty folder without a manifest is refused too.
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "x"), nil, 0o644)
	if _, err := Plan(f, junk); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("plan over a non-empty folder: %v", err)
	}
}

// The child-process executor runs the test binary as latent, in the run's folder.
func TestChildProcess(t *testing.T) {
	sw, _ := planFake(t, fakeSweep)
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	run := ChildProcess(exe, []string{"SWEEP_FAKE_LATENT=1"}, 1)
	if err := sw.RunOne(context.Background(), 0, run); err != nil {
		t.Fatal(err)
	}
	err = sw.RunOne(context.Background(), 2, run)
	if err == nil || err.Error() != "step 1 (square): exit status 1: latent: --x: 13 is unlucky" {
		t.Errorf("failing child: %v", err)
	}
	if st := sw.Status(2); st.State != Failed || st.Err != err.Error() {
		t.Errorf("status %+v", st)
	}
	tab, err := sw.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if r := tab.Rows[0]; r.Cells["read.y2"] != 2.0 || r.State != Done {
		t.Errorf("row 0 %+v", r)
	}
	if tab.Rows[1].State != Pending {
		t.Errorf("row 1 %+v", tab.Rows[1])
	}
}

func TestSlurmScript(t *testing.T) {
	sw, _ := planFake(t, fakeSweep+"\n[slurm]\ncpus = 2\ntime = \"00:05:00\"\nmem = \"1G\"\nmax_running = 3\noptions = [\"--account=phys\"]\nsetup = [\"module load x\"]\n")
	var c counting
	sw.RunOne(context.Background(), 1, c.exec)
	path, todo, err := sw.WriteSlurm("/opt/latent")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(todo) != "[0 2 3]" {
		t.Errorf("todo %v, want the runs not done", todo)
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	for _, want := range []string{
		"#SBATCH --array=0,2-3%3\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --time=00:05:00\n", "#SBATCH --mem=1G\n",
		"#SBATCH --account=phys\n", "module load x\n", "export GOMAXPROCS=2\n",
		"#SBATCH --output=" + filepath.Join(sw.Dir, "slurm", "%A_%a.out") + "\n",
		"exec /opt/latent sweep exec " + sw.Dir + " \"$SLURM_ARRAY_TASK_ID\"\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if ranges([]int{0, 1, 2, 5, 7, 8}) != "0-2,5,7-8" {
		t.Errorf("ranges: %s", ranges([]int{0, 1, 2, 5, 7, 8}))
	}
}

func TestParseJobID(t *testing.T) {
	for out, want := range map[string]string{"42\n": "42", "1234;cluster\n": "1234", "Submitted batch job 77\n": "77"} {
		if got, err := ParseJobID(out); err != nil || got != want {
			t.Errorf("ParseJobID(%q) = %q, %v; want %q", out, got, err, want)
		}
	}
	if _, err := ParseJobID("sbatch: error: nope"); err == nil {
		t.Error("ParseJobID accepted an error message")
	}
}

// sbatch missing and sbatch refusing are one line each.
func TestSubmitErrors(t *testing.T) {
	_, err := Submit(context.Background(), "no-such-sbatch-here", "/x/sweep.sbatch")
	if err == nil || !strings.Contains(err.Error(), "no-such-sbatch-here not found on PATH") {
		t.Errorf("missing sbatch: %v", err)
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "sbatch")
	os.WriteFile(fake, []byte("#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2\nexit 1\n"), 0o755)
	_, err = Submit(context.Background(), fake, "/x/sweep.sbatch")
	if err == nil || err.Error() != "sweep: sbatch refused /x/sweep.sbatch: sbatch: error: Batch job submission failed: Invalid partition name specified" {
		t.Errorf("refusing sbatch: %v", err)
	}
	os.WriteFile(fake, []byte("#!/bin/sh\necho 99\n"), 0o755)
	if id, err := Submit(context.Background(), fake, "/x/sweep.sbatch"); err != nil || id != "99" {
		t.Errorf("accepting sbatch: %q %v", id, err)
	}
}

func TestLock(t *testing.T) {
	sw, _ := planFake(t, fakeSweep)
	unlock, err := sw.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Lock(); err == nil || !strings.Contains(err.Error(), "another latent sweep is running") {
		t.Errorf("second lock: %v", err)
	}
	unlock()
	unlock2, err := sw.Lock()
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

// A sweep stopped part way (ctx cancelled while run 1 runs) keeps run 0,
// leaves run 1 pending, and the next Local runs the rest without redoing run 0.
func TestLocalInterrupted(t *testing.T) {
	sw, _ := planFake(t, strings.Replace(fakeSweep, "13", "3", 1))
	ctx, cancel := context.WithCancel(context.Background())
	var c counting
	stopAt := func(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) error {
		if args[0] == "read" && args[len(args)-1] == "2" {
			cancel() // Ctrl-C during run 1's second step
			<-ctx.Done()
			return ctx.Err()
		}
		return c.exec(ctx, dir, args, stdout, stderr)
	}
	sum, err := sw.Local(ctx, 1, stopAt, nil)
	if !errors.Is(err, context.Canceled) || sum.Done != 1 || len(sum.Failed) != 0 {
		t.Fatalf("interrupted: %+v, %v", sum, err)
	}
	if s0, s1 := sw.Status(0), sw.Status(1); s0.State != Done || s1.State != Pending || s1.Steps != 1 {
		t.Fatalf("after the interrupt: run 0 %+v, run 1 %+v", s0, s1)
	}
	c.calls = nil
	sum, err = sw.Local(context.Background(), 2, c.exec, nil)
	if err != nil || sum.Skipped != 1 || sum.Done != 3 {
		t.Fatalf("resumed: %+v, %v", sum, err)
	}
	// Run 1 ran its second step alone; run 0 nothing.
	if c.calls["square --x 1 --out m.txt"] != 0 || c.calls["square --x 2 --out m.txt"] != 0 || c.calls["read --in m.txt --x 2"] != 1 || len(c.calls) != 5 {
		t.Errorf("resumed calls: %v", c.calls)
	}
}
