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

// columns are the table's headings, in order; "published" comes before the
// note when a row has a published figure.
var columns = []string{"model", "file", "log-likelihood (nats)", "± s.e.", "estimator", "bits/dim", "FID", "parameters", "epochs", "note"}

// tableColumns returns the headings of rows' table.
func tableColumns(rows []Row) []string {
	if !anyPublished(rows) {
		return columns
	}
	c := append([]string{}, columns[:len(columns)-1]...)
	return append(c, "published", columns[len(columns)-1])
}

func anyPublished(rows []Row) bool {
	for _, r := range rows {
		if r.Published != nil {
			return true
		}
	}
	return false
}

// tableCells returns r's cells under tableColumns(rows).
func tableCells(r Row, rows []Row) []string {
	c := r.cells()
	if !anyPublished(rows) {
		return c
	}
	pub := ""
	if p := r.Published; p != nil {
		pub = strings.Replace(fmt.Sprintf("%.2f", p.LogLik), "-", "−", 1)
		if p.Source != "" {
			pub += " (" + p.Source + ")"
		}
	}
	n := len(c)
	return append(append(c[:n-1:n-1], pub), c[n-1])
}

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
		if r.Dequantized != "" {
			est += " at y = " + r.Dequantized
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
	c := fmt.Sprintf("Test log-likelihood on %s (%d examples), mean nats per example", rows[0].Data, n)
	for _, r := range rows {
		if r.Dequantized != "" {
			c += "; rows \"at y = (k+u)/256\" score the 8-bit levels k dequantised by u ~ U(0, 1), their bits/dim those of the 8-bit data, (d ln 256 − log p(y))/(d ln 2)"
			break
		}
	}
	return c
}

// WriteText writes rows as an aligned plain-text table.
func WriteText(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(tableColumns(rows), "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(tableCells(r, rows), "\t"))
	}
	return tw.Flush()
}

// WriteMarkdown writes rows as a GitHub Markdown table under a one-line caption.
func WriteMarkdown(w io.Writer, rows []Row) error {
	var b strings.Builder
	cols := tableColumns(rows)
	fmt.Fprintf(&b, "%s.\n\n| %s |\n|", caption(rows), strings.Join(cols, " | "))
	for range cols {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		c := tableCells(r, rows)
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
<tbody>{{range .Rows}}<tr{{if .Failed}} class="failed"{{end}}>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
</body></html>
`))

// WriteHTML writes rows as a self-contained HTML page.
func WriteHTML(w io.Writer, rows []Row) error {
	type htmlRow struct {
		Cells  []string
		Failed bool
	}
	cells := make([]htmlRow, len(rows))
	for i, r := range rows {
		cells[i] = htmlRow{tableCells(r, rows), r.Err != ""}
	}
	return tableTmpl.Execute(w, map[string]any{"Caption": caption(rows), "Columns": tableColumns(rows), "Rows": cells})
}
