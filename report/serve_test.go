package report

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "http://127.0.0.1"+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestServer(t *testing.T) {
	root := t.TempDir()
	trainReport(t, filepath.Join(root, "em"), "bmm", "bars:4", 3, "--components", "2")
	trainReport(t, filepath.Join(root, "pix"), "pixels", "bars:4", 1)
	os.MkdirAll(filepath.Join(root, "not-a-report"), 0o755)
	os.WriteFile(filepath.Join(root, "secret.txt"), []byte("secret"), 0o644)

	// Folders: a parent of reports serves each; a missing folder and one
	// that holds no report are refused by name.
	srv, err := NewServer(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.Runs()) != 2 || srv.Runs()[0].Name != "em" || srv.Runs()[1].Name != "pix" {
		t.Fatalf("runs %+v", srv.Runs())
	}
	if _, err := NewServer(filepath.Join(root, "gone")); err == nil || !strings.Contains(err.Error(), "gone: no such folder") {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := NewServer(filepath.Join(root, "not-a-report")); err == nil || !strings.Contains(err.Error(), "not a training report") {
		t.Errorf("non-report folder: %v", err)
	}
	if _, err := NewServer(); err == nil {
		t.Error("no folders: no error")
	}

	// The index lists both runs and overlays their curves.
	w := get(t, srv, "/")
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `href="/runs/em/"`) || !strings.Contains(body, `href="/runs/pix/"`) {
		t.Fatalf("index %d:\n%s", w.Code, body)
	}
	// "seconds per epoch" is a curve of both runs: one plot, two lines.
	i := strings.Index(body, `data-curve="seconds per epoch"`)
	if i < 0 {
		t.Fatal("no overlay of seconds per epoch")
	}
	fig := body[i : i+strings.Index(body[i:], "</figure>")]
	if !strings.Contains(fig, "stroke:#1F77B4") || !strings.Contains(fig, "stroke:#FF7F0E") || !strings.Contains(fig, ">em<") || !strings.Contains(fig, ">pix<") {
		t.Errorf("overlay lacks a run's line or legend")
	}

	// status.json carries an ETag; asking again with it gets 304.
	w = get(t, srv, "/status.json")
	var st indexStatus
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &st) != nil || len(st.Runs) != 2 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if w2 := get(t, srv, "/status.json", "If-None-Match", w.Header().Get("ETag")); w2.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w2.Code)
	}

	// A run's page and files.
	if w = get(t, srv, "/runs/em/"); w.Code != 200 || !strings.Contains(w.Body.String(), "bmm on bars:4") {
		t.Errorf("run page %d", w.Code)
	}
	run, _ := ReadRun(filepath.Join(root, "em"))
	pic := run.Epochs[0].Pictures[0]
	if w = get(t, srv, "/runs/em/"+pic); w.Code != 200 || w.Header().Get("Content-Type") != "image/png" {
		t.Errorf("%s: %d %s", pic, w.Code, w.Header().Get("Content-Type"))
	}
	if w = get(t, srv, "/runs/em"); w.Code != http.StatusMovedPermanently {
		t.Errorf("/runs/em: %d", w.Code)
	}

	// Outside the folder, hidden files, unknown runs and pages: clear refusals.
	for path, want := range map[string]int{
		"/runs/em/..%2f..%2fsecret.txt": 400,
		"/runs/em/..%2fpix%2frun.json":  400,
		"/runs/em/%2e%2e/secret.txt":    400,
		"/runs/em/.run.json.tmp-1":      400,
		"/runs/em/epochs":               404,
		"/runs/em/nothing.png":          404,
		"/runs/nope/":                   404,
		"/favicon.ico":                  404,
	} {
		w := get(t, srv, path)
		if w.Code != want || strings.Contains(w.Body.String(), "secret") && !strings.Contains(w.Body.String(), "bad path") {
			t.Errorf("%s: %d %q, want %d", path, w.Code, w.Body.String(), want)
		}
	}
	// A link that leaves the folder is not followed.
	os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(root, "em", "link.txt"))
	if w = get(t, srv, "/runs/em/link.txt"); w.Code != 404 || strings.Contains(w.Body.String(), "secret\n") {
		t.Errorf("symlink out: %d %q", w.Code, w.Body.String())
	}
	if w := get(t, srv, "/runs/em/"); w.Code != 200 {
		t.Fatal(w.Code)
	}

	// A report folder that stops being one, or vanishes, while served.
	os.Remove(filepath.Join(root, "pix", RunFile))
	if w = get(t, srv, "/runs/pix/"); w.Code != 404 || !strings.Contains(w.Body.String(), "not a training report") {
		t.Errorf("run.json removed: %d %q", w.Code, w.Body.String())
	}
	os.RemoveAll(filepath.Join(root, "pix"))
	if w = get(t, srv, "/runs/pix/"); w.Code != 404 || !strings.Contains(w.Body.String(), "no such folder") {
		t.Errorf("folder removed: %d %q", w.Code, w.Body.String())
	}
	if w = get(t, srv, "/"); w.Code != 200 || !strings.Contains(w.Body.String(), "no such folder") {
		t.Errorf("index with a vanished run: %d", w.Code)
	}
	if w = get(t, srv, "/status.json"); w.Code != 200 {
		t.Errorf("status with a vanished run: %d", w.Code)
	}
}

// TestServerWhileWriting fetches a run's page and run.json over HTTP while its
// epochs are written: every answer is 200 and a whole document.
func TestServerWhileWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, _, s := newRun(t, "pixels", "bars:4", 1)
	rec, err := NewRecorder(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	reads := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, p := range []string{"/runs/run/", "/runs/run/run.json", "/"} {
				resp, err := http.Get(ts.URL + p)
				if err != nil {
					mu.Lock()
					bad = append(bad, err.Error())
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				ok := resp.StatusCode == 200
				if strings.HasSuffix(p, ".json") {
					var r Run
					ok = ok && json.Unmarshal(b, &r) == nil
				} else {
					ok = ok && strings.HasSuffix(string(b), "</html>\n")
				}
				mu.Lock()
				reads++
				if !ok {
					bad = append(bad, p+": "+resp.Status)
				}
				mu.Unlock()
			}
		}
	}()
	// Write many epochs' reports (the figures themselves do not matter here).
	run := rec.Run()
	for e := 1; e <= 40; e++ {
		s.EpochsDone = e
		run.Settings = s
		if err := rec.write(); err != nil {
			t.Fatal(err)
		}
		run.Epochs = append(run.Epochs, EpochRecord{Epoch: e, LossName: "loss", Loss: 1 / float64(e)})
	}
	close(stop)
	wg.Wait()
	if len(bad) > 0 || reads == 0 {
		t.Errorf("%d reads, %d bad: %v", reads, len(bad), bad)
	}
}
