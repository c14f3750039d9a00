package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/latent-ml/latent/viz"
)

// Curve is one plot of the page: a training figure and, under the same name,
// its held-out counterpart, against the epoch.
type Curve struct {
	Name   string
	Series []viz.Series
}

// Curves groups the run's series into plots: "train elbo" and "test elbo"
// share the plot "elbo"; the loss comes first, the epoch time last.
func (r *Run) Curves() []Curve {
	all, order := r.Series()
	var out []Curve
	idx := map[string]int{}
	for _, name := range order {
		base, label := name, "train"
		switch {
		case strings.HasPrefix(name, "train "):
			base = strings.TrimPrefix(name, "train ")
		case strings.HasPrefix(name, "test "):
			base, label = strings.TrimPrefix(name, "test "), "test"
		default:
			label = ""
		}
		i, ok := idx[base]
		if !ok {
			i = len(out)
			idx[base] = i
			out = append(out, Curve{Name: base})
		}
		s := all[name]
		if label == "train" && base != "loss" && constantCount(s[1]) {
			continue // a count that never changes (rows monitored) is no curve
		}
		out[i].Series = append(out[i].Series, viz.Series{Name: label, X: s[0], Y: s[1]})
	}
	kept := out[:0]
	for _, c := range out {
		if len(c.Series) > 0 {
			kept = append(kept, c)
		}
	}
	return kept
}

// constantCount reports whether ys are one integer value, more than once.
func constantCount(ys []float64) bool {
	if len(ys) < 2 {
		return false
	}
	for _, y := range ys {
		if y != ys[0] || y != math.Trunc(y) {
			return false
		}
	}
	return true
}

// curveTitle names a plot for people.
func curveTitle(name string) string {
	t := strings.ReplaceAll(name, "_", " ")
	if name == "free_energy" {
		t += " (EM: never increases)"
	}
	return t
}

type pagePicture struct {
	Name string
	Src  template.URL
}

type pageEpoch struct {
	Epoch    int
	Pictures []pagePicture
}

type pageSetting struct{ Name, Value string }

type pageCurve struct {
	Name, Title string
	SVG         template.HTML
	Err         string
}

// Page renders the run as one self-contained HTML page: the settings, every
// curve as inline SVG, the last epoch's pictures inline, earlier epochs'
// pictures (files under dir/epochs, loaded when opened), and the final
// evaluation. A script polls StatusFile and reloads the page when it changes.
func Page(r *Run, dir string) ([]byte, error) {
	st := r.Status()
	data := map[string]any{"Status": st, "Title": "latent training report"}
	if s := r.Settings; s != nil {
		data["Title"] = fmt.Sprintf("%s on %s", s.Model, s.Data)
		set := []pageSetting{{"model", s.Model}, {"data", s.Data}}
		if s.Binarize != "" {
			set = append(set, pageSetting{"binarize", s.Binarize})
		}
		set = append(set, pageSetting{"seed", fmt.Sprint(s.Seed)},
			pageSetting{"epochs", fmt.Sprintf("%d of %d", s.EpochsDone, s.Epochs)},
			pageSetting{"training rows", fmt.Sprintf("%d × %d", s.Rows, s.Dim)})
		if h, w, c, ok := s.Image(); ok {
			set = append(set, pageSetting{"image", fmt.Sprintf("%d×%d×%d", h, w, c)})
		}
		names := make([]string, 0, len(s.Flags))
		for n := range s.Flags {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := s.Flags[n]
			if _, given := s.Given[n]; given {
				v += " (given)"
			}
			set = append(set, pageSetting{"--" + n, v})
		}
		data["Settings"] = set
		data["Command"] = fmt.Sprintf("latent train %s %s", s.Model, s.Summary())
	}
	var curves []pageCurve
	for _, c := range r.Curves() {
		pc := pageCurve{Name: c.Name, Title: curveTitle(c.Name)}
		svg, err := viz.LinePlotSVG(520, 300, pc.Title, "epoch", "", c.Series...)
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
	data["Curves"] = curves
	var eps []pageEpoch
	for i := len(r.Epochs) - 1; i >= 0; i-- {
		e := r.Epochs[i]
		pe := pageEpoch{Epoch: e.Epoch}
		for _, p := range e.Pictures {
			src := template.URL(p)
			if i == len(r.Epochs)-1 { // the latest inline: the page stands alone
				if u, err := dataURL(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
					src = u
				}
			}
			pe.Pictures = append(pe.Pictures, pagePicture{Name: path.Base(p), Src: src})
		}
		if len(pe.Pictures) > 0 {
			eps = append(eps, pe)
		}
	}
	if len(eps) > 0 {
		data["Latest"], data["Earlier"] = eps[0], eps[1:]
	}
	data["Final"] = r.Final
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func dataURL(p string) (template.URL, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	mime := "image/png"
	switch strings.ToLower(filepath.Ext(p)) {
	case ".svg":
		mime = "image/svg+xml"
	case ".jpg":
		mime = "image/jpeg"
	case ".gif":
		mime = "image/gif"
	}
	return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)), nil
}

func fmtFigure(f Figure) string {
	if f.Text != "" {
		return f.Text
	}
	if f.Value == nil {
		return "—"
	}
	return fmt.Sprintf("%.6g", *f.Value)
}

const css = `body{font-family:'Liberation Sans',Arial,Helvetica,sans-serif;margin:1.5em auto;max-width:1180px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.status{color:#555}.status .live{color:#2a7f2a;font-weight:bold}
table{border-collapse:collapse;font-size:.92em}td,th{padding:.2em .7em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f4f4f4}caption{text-align:left;font-weight:bold;padding:.4em 0}tr.failed td{color:#a33}
code{background:#f4f4f4;padding:.1em .3em;font-size:.9em}
.curves{display:flex;flex-wrap:wrap;gap:12px}.curve{margin:0;border:1px solid #e4e4e4;background:#fff}.curve svg{display:block;width:360px;height:auto}
.pics{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.pics figure{margin:0}
.pics img{image-rendering:pixelated;max-width:560px;border:1px solid #e4e4e4}figcaption{font-size:.85em;color:#555}
details{margin:.4em 0}summary{cursor:pointer}`

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{"fig": fmtFigure}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>` + css + `</style></head>
<body data-etag="{{.Status.Etag}}" data-done="{{.Status.Done}}">
<h1>{{.Title}}</h1>
<p class="status" id="status">epoch <span id="epoch">{{.Status.Epoch}}</span> of {{.Status.Total}}{{if .Status.Done}}: finished{{else}} <span class="live">· training (this page refreshes itself)</span>{{end}}</p>
{{with .Command}}<p><code>{{.}}</code></p>{{end}}
<h2>Curves</h2>
<div class="curves" id="curves">{{range .Curves}}<figure class="curve" data-curve="{{.Name}}">{{if .Err}}<figcaption>{{.Title}}: {{.Err}}</figcaption>{{else}}{{.SVG}}{{end}}</figure>
{{else}}<p>No epoch has finished yet.</p>{{end}}</div>
{{with .Latest}}<h2>Pictures after epoch {{.Epoch}}</h2>
<div class="pics" id="latest">{{range .Pictures}}<figure><img class="picture" alt="{{.Name}}" src="{{.Src}}"><figcaption>{{.Name}}</figcaption></figure>
{{end}}</div>{{end}}
{{with .Earlier}}<h2>Earlier epochs</h2>
{{range .}}<details class="epoch" data-epoch="{{.Epoch}}"><summary>epoch {{.Epoch}}</summary><div class="pics">{{range .Pictures}}<figure><img loading="lazy" alt="{{.Name}}" src="{{.Src}}"><figcaption>{{.Name}}</figcaption></figure>{{end}}</div></details>
{{end}}{{end}}
{{with .Final}}<h2>Final evaluation</h2>
<table id="final">{{range .}}<tr><th>{{.Name}}</th><td>{{fig .}}</td></tr>{{end}}</table>{{end}}
{{with .Settings}}<h2>Settings</h2>
<table id="settings">{{range .}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
<script>
(function () {
  var etag = document.body.dataset.etag;
  function poll() {
    fetch("status.json", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.etag !== etag) { location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  if (location.protocol !== "file:") { setTimeout(poll, 1000); }
})();
</script>
</body></html>
`))
