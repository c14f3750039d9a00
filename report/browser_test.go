package report

import (
	"bytes"
	"context"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latent-ml/latent/model"
)

// browser returns the path of a Chromium or Chrome, or "".
func browser() string {
	if p := os.Getenv("LATENT_CHROME"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

type shownCurve struct {
	Name  string  `json:"name"`
	Width float64 `json:"w"`
	Lines int     `json:"lines"` // paths stroked in a series colour
}

type shownImage struct {
	Src   string  `json:"src"`
	W     int     `json:"w"`
	H     int     `json:"h"`
	Shown float64 `json:"shown"`
}

type shownPage struct {
	Curves []shownCurve `json:"curves"`
	Images []shownImage `json:"images"`
	Epoch  string       `json:"epoch"`
}

const inspectJS = `(() => ({
  curves: [...document.querySelectorAll("figure.curve")].map(f => {
    const s = f.querySelector("svg");
    return {name: f.dataset.curve, w: s ? s.getBoundingClientRect().width : 0,
      lines: s ? [...s.querySelectorAll("path")].filter(p => /stroke:#(1F77B4|FF7F0E)/i.test(p.getAttribute("style") || "")).length : 0};
  }),
  images: [...document.querySelectorAll("#latest img")].map(i => ({src: i.src.slice(0, 30), w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width})),
  epoch: (document.getElementById("epoch") || {}).textContent || ""
}))()`

// TestBrowser loads a report written by a short training run in a real
// headless Chromium: every curve is drawn, every picture decoded, the
// screenshot is not blank, and the page shows a new epoch when one lands.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := browser()
	if exe == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium); the page is not checked in a browser")
	}
	dir := filepath.Join(t.TempDir(), "run")
	tr, d, s := newRun(t, "rbm", "bars:4", 2, "--hidden", "4", "--batch", "10")
	rec, err := NewRecorder(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	opts := model.TrainOptions{OnEpoch: rec.Epoch, Pictures: filepath.Join(dir, "pictures"), Test: d}
	os.MkdirAll(opts.Pictures, 0o755)
	if _, err := model.Train(context.Background(), tr, d, s, opts); err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	actx, cancelA := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1200, 900))...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil { // start the browser
		t.Skipf("%s does not start: %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	loaded := `document.readyState === "complete" && [...document.querySelectorAll("#latest img")].every(i => i.complete)`
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/runs/run/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](loaded)); err != nil {
		t.Fatal(err)
	}
	check := func(epoch string) {
		t.Helper()
		pg, err := chromedp.Run(ctx, chromedp.Evaluate[shownPage](inspectJS))
		if err != nil {
			t.Fatal(err)
		}
		run := rec.Run()
		curves := run.Curves()
		if pg.Epoch != epoch || len(pg.Curves) != len(curves) {
			t.Fatalf("page at epoch %q with %d curves, want %s and %d", pg.Epoch, len(pg.Curves), epoch, len(curves))
		}
		for i, c := range pg.Curves {
			if c.Name != curves[i].Name || c.Width < 100 || c.Lines < len(curves[i].Series) {
				t.Errorf("curve %q: %.0f px wide, %d lines drawn, want %q with %d", c.Name, c.Width, c.Lines, curves[i].Name, len(curves[i].Series))
			}
		}
		last := run.Epochs[len(run.Epochs)-1]
		if len(pg.Images) != len(last.Pictures) {
			t.Errorf("%d pictures shown, want %d", len(pg.Images), len(last.Pictures))
		}
		for _, im := range pg.Images {
			if im.W == 0 || im.H == 0 || im.Shown == 0 {
				t.Errorf("picture %s… not rendered (%d×%d, %.0f px shown)", im.Src, im.W, im.H, im.Shown)
			}
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		ink, blue := 0, 0
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				r, g, bb, _ := img.At(x, y).RGBA()
				if r>>8 < 200 || g>>8 < 200 || bb>>8 < 200 {
					ink++
				}
				if r>>8 < 90 && g>>8 > 90 && g>>8 < 150 && bb>>8 > 150 { // the curves' blue
					blue++
				}
			}
		}
		total := (b.Dx() / 2) * (b.Dy() / 2)
		if float64(ink) < 0.02*float64(total) || blue < 50 {
			t.Errorf("screenshot %v looks blank: %d of %d sampled pixels inked, %d in the curves' blue", b.Size(), ink, total, blue)
		}
		if out := os.Getenv("LATENT_REPORT_SCREENSHOT"); out != "" {
			os.WriteFile(out, shot, 0o644)
		}
	}
	check("2")

	// A new epoch lands: the open page reloads itself and shows it.
	s.Epochs = 3
	if _, err := model.Train(context.Background(), tr, d, s, opts); err != nil {
		t.Fatal(err)
	}
	// The reload replaces the document under a running script: ask again
	// until the new one answers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("epoch") !== null && document.getElementById("epoch").textContent === "3" && `+loaded))
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not show epoch 3 within 30 s (last error %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	check("3")

	// The runs index draws the run's curves too.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("figure.curve svg")].filter(s => s.getBoundingClientRect().width > 100).length`))
	if err != nil || n != len(rec.Run().Curves()) {
		t.Errorf("index shows %d curves (%v), want %d", n, err, len(rec.Run().Curves()))
	}
}
