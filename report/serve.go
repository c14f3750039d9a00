package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/latent-ml/latent/viz"
)

// Server serves report folders over HTTP: "/" is a runs index whose curves
// overlay every run's, "/runs/NAME/" a run's own page and files, and
// "/status.json" a small document the index polls to refresh itself. It
// serves only regular files inside a run's folder (never "..", hidden or
// temporary files), and a run whose folder vanished or stopped being a report
// gets a plain 404 that says so.
type Server struct {
	runs []ServedRun
}

// ServedRun is one report folder and the name it is served under.
type ServedRun struct {
	Name, Dir string
}

// NewServer returns a Server for dirs: each a report folder or a folder whose
// immediate subfolders are report folders (as TensorBoard's logdir). It fails,
// naming the folder, when one is missing or holds no report.
func NewServer(dirs ...string) (*Server, error) {
	if len(dirs) == 0 {
		return nil, errors.New("report: no report folders to serve")
	}
	s := &Server{}
	taken := map[string]int{}
	add := func(dir string) {
		name := filepath.Base(filepath.Clean(dir))
		if name == "." || name == "/" || name == "" {
			name = "run"
		}
		name = strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r == '?' || r == '#' || r == '%' {
				return '_'
			}
			return r
		}, name)
		if k := taken[name]; k > 0 {
			taken[name]++
			name = fmt.Sprintf("%s-%d", name, k+1)
		} else {
			taken[name] = 1
		}
		s.runs = append(s.runs, ServedRun{Name: name, Dir: dir})
	}
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: no such folder", dir)
			}
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s: not a folder", dir)
		}
		if isReport(dir) {
			add(dir)
			continue
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		found := false
		for _, e := range ents {
			if sub := filepath.Join(dir, e.Name()); e.IsDir() && isReport(sub) {
				add(sub)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: not a training report, and no folder in it is one (latent train --report DIR writes one)", dir)
		}
	}
	return s, nil
}

func isReport(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, RunFile))
	return err == nil && st.Mode().IsRegular()
}

// Runs returns the served runs.
func (s *Server) Runs() []ServedRun { return s.runs }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html":
		s.serveIndex(w, r)
	case p == "/status.json":
		s.serveStatus(w, r)
	case strings.HasPrefix(p, "/runs/"):
		s.serveRun(w, r, strings.TrimPrefix(p, "/runs/"))
	default:
		http.Error(w, fmt.Sprintf("no page %q here: the runs index is at /", p), http.StatusNotFound)
	}
}

// serveRun serves a file of a run: rest is "NAME/" or "NAME/FILE...".
func (s *Server) serveRun(w http.ResponseWriter, r *http.Request, rest string) {
	name, file, ok := strings.Cut(rest, "/")
	if !ok {
		http.Redirect(w, r, "/runs/"+name+"/", http.StatusMovedPermanently)
		return
	}
	var run *ServedRun
	for i := range s.runs {
		if s.runs[i].Name == name {
			run = &s.runs[i]
		}
	}
	if run == nil {
		http.Error(w, fmt.Sprintf("no run %q (the runs are listed at /)", name), http.StatusNotFound)
		return
	}
	if file == "" {
		file = PageFile
	}
	if !validPath(file) {
		http.Error(w, fmt.Sprintf("bad path %q: only files inside the run's folder are served", file), http.StatusBadRequest)
		return
	}
	if _, err := ReadRun(run.Dir); err != nil {
		http.Error(w, fmt.Sprintf("run %s: %v", name, err), http.StatusNotFound)
		return
	}
	root, err := os.OpenRoot(run.Dir)
	if err != nil {
		http.Error(w, fmt.Sprintf("run %s: %v", name, err), http.StatusNotFound)
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(file))
	if err != nil {
		http.Error(w, fmt.Sprintf("run %s has no file %s", name, file), http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.Error(w, fmt.Sprintf("run %s: %s is not a file", name, file), http.StatusNotFound)
		return
	}
	// The whole file is read from the one inode opened: a report rewritten
	// meanwhile (by rename) is served as it was when opened, never half of each.
	b, err := io.ReadAll(f)
	if err != nil {
		http.Error(w, fmt.Sprintf("run %s: %s: %v", name, file, err), http.StatusInternalServerError)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(file)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, path.Base(file), st.ModTime(), bytes.NewReader(b))
}

// validPath reports whether p names a file inside a folder: relative, no
// "..", no hidden or temporary file (atomic writes' ".NAME.tmp-…"), no
// backslash or NUL.
func validPath(p string) bool {
	if p == "" || strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return false
		}
	}
	return true
}

// indexStatus is /status.json: every run's Status and one tag for them all.
type indexStatus struct {
	Etag string         `json:"etag"`
	Runs map[string]any `json:"runs"`
	At   string         `json:"at"`
	_    struct{}       `json:"-"`
}

func (s *Server) status() indexStatus {
	st := indexStatus{Runs: map[string]any{}, At: time.Now().UTC().Format(time.RFC3339)}
	var tags []string
	for _, run := range s.runs {
		r, err := ReadRun(run.Dir)
		if err != nil {
			st.Runs[run.Name] = map[string]string{"error": err.Error()}
			tags = append(tags, run.Name+":error")
			continue
		}
		rs := r.Status()
		st.Runs[run.Name] = rs
		tags = append(tags, run.Name+":"+rs.Etag)
	}
	st.Etag = strings.Join(tags, ",")
	return st
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	st := s.status()
	etag := fmt.Sprintf("%q", st.Etag)
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

type indexRun struct {
	Name, Dir, Model, Data, Status, Err string
	Epoch, Total                        int
	Last                                string
}

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	st := s.status()
	var rows []indexRun
	overlay := map[string][]viz.Series{}
	var order []string
	for _, run := range s.runs {
		ir := indexRun{Name: run.Name, Dir: run.Dir}
		rr, err := ReadRun(run.Dir)
		if err != nil {
			ir.Err = err.Error()
			rows = append(rows, ir)
			continue
		}
		rs := rr.Status()
		ir.Epoch, ir.Total = rs.Epoch, rs.Total
		ir.Status = "training"
		if rs.Done {
			ir.Status = "finished"
		}
		if rr.Settings != nil {
			ir.Model, ir.Data = rr.Settings.Model, rr.Settings.Data
		}
		if n := len(rr.Epochs); n > 0 {
			e := rr.Epochs[n-1]
			ir.Last = fmt.Sprintf("%s %.4g", e.LossName, e.Loss)
		}
		rows = append(rows, ir)
		for _, c := range rr.Curves() {
			if _, ok := overlay[c.Name]; !ok {
				order = append(order, c.Name)
			}
			for _, sr := range c.Series {
				name := run.Name
				if sr.Name != "" && sr.Name != "train" {
					name += " (" + sr.Name + ")"
				}
				overlay[c.Name] = append(overlay[c.Name], viz.Series{Name: name, X: sr.X, Y: sr.Y})
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return len(overlay[order[i]]) > len(overlay[order[j]]) })
	var curves []pageCurve
	for _, name := range order {
		pc := pageCurve{Name: name, Title: curveTitle(name)}
		svg, err := viz.LinePlotSVG(520, 300, pc.Title, "epoch", "", overlay[name]...)
		if err != nil {
			pc.Err = err.Error()
		} else {
			if i := bytes.Index(svg, []byte("<svg")); i > 0 {
				svg = svg[i:]
			}
			pc.SVG = template.HTML(svg)
		}
		curves = append(curves, pc)
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, map[string]any{"Runs": rows, "Curves": curves, "Etag": st.Etag}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>latent runs</title>
<style>` + css + `</style></head>
<body data-etag="{{.Etag}}">
<h1>latent runs</h1>
<table id="runs"><thead><tr><th>run</th><th>model</th><th>data</th><th>epoch</th><th>state</th><th>last</th></tr></thead><tbody>
{{range .Runs}}<tr{{if .Err}} class="failed"{{end}}><td><a href="/runs/{{.Name}}/">{{.Name}}</a></td>{{if .Err}}<td colspan="5">{{.Err}}</td>{{else}}<td>{{.Model}}</td><td>{{.Data}}</td><td>{{.Epoch}} of {{.Total}}</td><td>{{.Status}}</td><td>{{.Last}}</td>{{end}}</tr>
{{end}}</tbody></table>
<h2>Curves of every run</h2>
<div class="curves" id="curves">{{range .Curves}}<figure class="curve" data-curve="{{.Name}}">{{if .Err}}<figcaption>{{.Title}}: {{.Err}}</figcaption>{{else}}{{.SVG}}{{end}}</figure>
{{end}}</div>
<script>
(function () {
  var etag = document.body.dataset.etag;
  function poll() {
    fetch("/status.json", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.etag !== etag) { location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
</script>
</body></html>
`))
