package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// columns are the table's headings, in order.
var columns = []string{"model", "file", "log-likelihood (nats)", "± s.e.", "estimator", "bits/dim", "FID", "parameters", "epochs", "note"}

// cells returns r's table cells, in the order of columns.
func (r Row) cells() []string {
	ll, se, est, bpd, fid, params, epochs := "—", "", "", "—", "—", "—", "—"
	if r.Err == "" {
		ll = fmt.Sprintf("%.2f", r.LogLik)
		if r.Bound == "lower" {
			ll = "≥ " + ll
		} else if r.Bound == "upper" {
			ll = "≤ " + ll
		}
		if r.StdErr > 0 {
			se = fmt.Sprintf("%.2f", r.StdErr)
		}
		est = r.Estimator
		if r.Bound != "" {
			est += " (" + r.Bound + " bound)"
		}
		if b := r.BitsPerDim(); !math.IsNaN(b) {
			bpd = fmt.Sprintf("%.4f", b)
		}
	}
	if !math.IsNaN(r.FID) {
		fid = fmt.Sprintf("%.2f", r.FID)
	}
	if r.Params >= 0 {
		params = strconv.Itoa(r.Params)
	}
	if r.Epochs >= 0 {
		epochs = strconv.Itoa(r.Epochs)
	}
	note := r.Err
	if note == "" && r.Quantity != "" {
		note = "mean " + r.Quantity
	}
	model := r.Model
	if model == "" {
		model = "?"
	}
	return []string{model, r.File, ll, se, est, bpd, fid, params, epochs, note}
}

// caption says what the table holds.
func caption(rows []Row) string {
	if len(rows) == 0 {
		return "no models"
	}
	n := 0
	for _, r := range rows {
		n = max(n, r.N)
	}
	return fmt.Sprintf("Test log-likelihood on %s (%d examples), mean nats per example", rows[0].Data, n)
}

// WriteText writes rows as an aligned plain-text table.
func WriteText(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	return tw.Flush()
}

// WriteMarkdown writes rows as a GitHub Markdown table under a one-line caption.
func WriteMarkdown(w io.Writer, rows []Row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.\n\n| %s |\n|", caption(rows), strings.Join(columns, " | "))
	for range columns {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		c := r.cells()
		for i := range c {
			c[i] = strings.ReplaceAll(strings.ReplaceAll(c[i], "|", `\|`), "\n", " ")
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(c, " | "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes rows as a JSON array of Row.JSON objects.
func WriteJSON(w io.Writer, rows []Row) error {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = r.JSON()
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

var tableTmpl = template.Must(template.New("table").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>latent compare: {{.Caption}}</title>
<style>` + css + `</style></head><body>
<h1>latent compare</h1>
<table class="compare"><caption>{{.Caption}}</caption>
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr{{if index . 9}} class="failed"{{end}}>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
</body></html>
`))

// WriteHTML writes rows as a self-contained HTML page.
func WriteHTML(w io.Writer, rows []Row) error {
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = r.cells()
	}
	return tableTmpl.Execute(w, map[string]any{"Caption": caption(rows), "Columns": columns, "Rows": cells})
}
