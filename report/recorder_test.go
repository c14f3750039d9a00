package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latent-ml/latent/model"
)

// trainReport trains family on spec for epochs with a Recorder in dir and
// returns it, the stats the driver handed over, and the result.
func trainReport(t *testing.T, dir, family, spec string, epochs int, flags ...string) (*Recorder, []model.Stats, model.Result) {
	t.Helper()
	tr, d, s := newRun(t, family, spec, epochs, flags...)
	rec, err := NewRecorder(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	var seen []model.Stats
	opts := model.TrainOptions{Pictures: filepath.Join(dir, "pictures"), Test: d,
		OnEpoch: func(ctx context.Context, e model.EpochInfo) error {
			seen = append(seen, e.Stats)
			return rec.Epoch(ctx, e)
		}}
	os.MkdirAll(opts.Pictures, 0o755)
	res, err := model.Train(context.Background(), tr, d, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(res); err != nil {
		t.Fatal(err)
	}
	return rec, seen, res
}

func TestRecorderEM(t *testing.T) {
	dir := t.TempDir()
	_, seen, res := trainReport(t, dir, "bmm", "bars:4", 4, "--components", "3")
	run, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Done || len(run.Epochs) != res.EpochsRun || len(seen) != res.EpochsRun {
		t.Fatalf("done %v, %d epochs recorded, %d run", run.Done, len(run.Epochs), res.EpochsRun)
	}
	// Every epoch's free energy is the one the driver handed over, and EM's
	// free energy never increases.
	for i, e := range run.Epochs {
		if e.Epoch != i+1 || e.Loss != seen[i].Loss || e.LossName != "free_energy" {
			t.Errorf("epoch %d: recorded %d %s %v, driver %v", i+1, e.Epoch, e.LossName, e.Loss, seen[i].Loss)
		}
		if i > 0 && e.Loss > run.Epochs[i-1].Loss+1e-9 {
			t.Errorf("free energy rose at epoch %d: %v > %v", i+1, e.Loss, run.Epochs[i-1].Loss)
		}
		for _, p := range e.Pictures {
			if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
				t.Errorf("epoch %d: picture %s: %v", i+1, p, err)
			}
		}
		if !hasSamples(e.Pictures) {
			t.Errorf("epoch %d has no sample grid: %v", i+1, e.Pictures)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, PageFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	// One plot per curve, each an inline SVG with a line in it.
	curves := run.Curves()
	figs := regexp.MustCompile(`(?s)<figure class="curve" data-curve="([^"]+)"><svg.*?</svg>\s*</figure>`).FindAllStringSubmatch(html, -1)
	if len(figs) != len(curves) || len(curves) < 3 {
		t.Fatalf("%d inline SVG curves, %d curves", len(figs), len(curves))
	}
	for i, f := range figs {
		if f[1] != curves[i].Name || !strings.Contains(f[0], "stroke:#1F77B4") {
			t.Errorf("curve %d: %q lacks its line", i, f[1])
		}
	}
	if curves[0].Name != "free_energy" || len(curves[0].Series) != 1 || curves[0].Series[0].Y[0] != seen[0].Loss {
		t.Errorf("first curve %+v, want the free energy", curves[0])
	}
	// bmm monitors the held-out data: "log_likelihood" has a train and a test line.
	for _, c := range curves {
		if c.Name == "log_likelihood" && len(c.Series) != 2 {
			t.Errorf("log_likelihood curve has %d series, want train and test", len(c.Series))
		}
	}
	// The last epoch's pictures are inline; the earlier ones are files.
	last := run.Epochs[len(run.Epochs)-1]
	if n := strings.Count(html, `src="data:image/png;base64,`); n != len(last.Pictures) {
		t.Errorf("%d inline pictures, want %d", n, len(last.Pictures))
	}
	if !strings.Contains(html, `src="epochs/0001/`) {
		t.Error("no picture of epoch 1")
	}
	if !strings.Contains(html, `id="final"`) || !strings.Contains(html, "epochs run") {
		t.Error("no final evaluation")
	}
	var st Status
	b, _ := os.ReadFile(filepath.Join(dir, StatusFile))
	if err := json.Unmarshal(b, &st); err != nil || st.Etag != run.Status().Etag || !st.Done || st.Epoch != res.EpochsRun {
		t.Errorf("status %s (%v), run %+v", b, err, run.Status())
	}
}

func TestRecorderResume(t *testing.T) {
	dir := t.TempDir()
	trainReport(t, dir, "pixels", "bars:4", 1)
	run, _ := ReadRun(dir)
	// A resumed run from after epoch 0 drops what came after it; from after
	// epoch 1 keeps it.
	s := *run.Settings
	s.EpochsDone = 1
	rec, err := NewRecorder(dir, &s)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Run().Epochs) != 1 || rec.Run().Done {
		t.Errorf("resumed after epoch 1: %d epochs, done %v", len(rec.Run().Epochs), rec.Run().Done)
	}
	s.EpochsDone = 0
	if rec, _ = NewRecorder(dir, &s); len(rec.Run().Epochs) != 0 {
		t.Errorf("restarted: %d epochs kept", len(rec.Run().Epochs))
	}
}

// TestRecorderAtomic reads the page and run.json while epochs are written: every
// read is a whole document.
func TestRecorderAtomic(t *testing.T) {
	dir := t.TempDir()
	tr, d, s := newRun(t, "rbm", "bars:4", 5, "--hidden", "4", "--batch", "10")
	rec, err := NewRecorder(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var bad []string
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for reads := 0; ; reads++ {
			select {
			case <-done:
				if reads == 0 {
					mu.Lock()
					bad = append(bad, "no reads")
					mu.Unlock()
				}
				return
			default:
			}
			p, err1 := os.ReadFile(filepath.Join(dir, PageFile))
			j, err2 := os.ReadFile(filepath.Join(dir, RunFile))
			var r Run
			if err1 != nil || err2 != nil || !strings.HasSuffix(string(p), "</html>\n") || json.Unmarshal(j, &r) != nil {
				mu.Lock()
				bad = append(bad, "torn read")
				mu.Unlock()
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err = model.Train(context.Background(), tr, d, s, model.TrainOptions{OnEpoch: rec.Epoch})
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("%d bad reads: %v", len(bad), bad[0])
	}
}
