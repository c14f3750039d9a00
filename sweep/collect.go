package sweep

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/ising"
)

// Table holds one row per run: its index, settings, state and error, and its
// steps' --json results, flattened: the key "ising.model.energy" of the step
// named eval is the column "eval.ising.model.energy" (a second eval step's is
// "eval2.ising.model.energy").
type Table struct {
	Columns []string
	Axes    []string // the columns that are axes
	Rows    []Row
}

// Row is one run's cells: nil (missing), float64, string or bool.
type Row struct {
	Index int
	State State
	Cells map[string]any
}

// Fixed column names.
const (
	ColRun   = "run"
	ColState = "state"
	ColError = "error"
)

// Collect reads every run's settings, state and results into a table. A step
// whose output holds no JSON object adds no columns; a run that is pending or
// failed keeps the results of the steps it finished.
func (sw *Sweep) Collect() (*Table, error) {
	t := &Table{Axes: sw.Axes}
	seen := map[string]bool{}
	var results []string
	for i := range sw.Runs {
		r := &sw.Runs[i]
		st := sw.Status(i)
		row := Row{Index: i, State: st.State, Cells: map[string]any{ColRun: float64(i), ColState: st.State.String()}}
		if st.Err != "" {
			row.Cells[ColError] = st.Err
		}
		for _, s := range r.Settings {
			if s.Value.IsNum {
				row.Cells[s.Axis] = s.Value.Num
			} else {
				row.Cells[s.Axis] = s.Value.Text
			}
		}
		names := stepNames(r.Steps)
		for k := 0; k < st.Steps; k++ {
			obj, err := lastJSONObject(filepath.Join(sw.Dir, r.Dir, stepFile(k, "out")))
			if err != nil {
				return nil, err
			}
			if obj == nil {
				continue
			}
			flat := map[string]any{}
			flatten(names[k], obj, flat)
			keys := make([]string, 0, len(flat))
			for key := range flat {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			for _, key := range keys {
				if !seen[key] {
					seen[key] = true
					results = append(results, key)
				}
				row.Cells[key] = flat[key]
			}
		}
		t.Rows = append(t.Rows, row)
	}
	t.Columns = append(append(append([]string{ColRun}, sw.Axes...), ColState), results...)
	t.Columns = append(t.Columns, ColError)
	t.addOnsager()
	return t, nil
}

// addOnsager adds, to a table of an Ising scan, the columns onsager.energy,
// onsager.abs_mag and onsager.specific_heat: Onsager's exact values for the
// infinite lattice at each run's T, to read the model's and the data's
// against (their finite L differs from L = ∞ most near T_c).
func (t *Table) addOnsager() {
	step := t.IsingStep()
	if step == "" {
		return
	}
	cols := []string{"onsager.energy", "onsager.abs_mag", "onsager.specific_heat"}
	for _, r := range t.Rows {
		T, ok := numeric(r, step+".ising.T")
		if !ok || T <= 0 {
			continue
		}
		r.Cells[cols[0]] = ising.Onsager(T)
		r.Cells[cols[1]] = ising.OnsagerMag(T)
		if c := OnsagerSpecificHeat(T); !math.IsInf(c, 0) && !math.IsNaN(c) {
			r.Cells[cols[2]] = c
		}
	}
	t.Columns = append(t.Columns[:len(t.Columns)-1], append(cols, ColError)...)
}

// stepNames names each step by its subcommand, numbering repeats: train,
// eval, eval2.
func stepNames(steps [][]string) []string {
	count := map[string]int{}
	out := make([]string, len(steps))
	for k, s := range steps {
		name := s[0]
		count[name]++
		if count[name] > 1 {
			name += strconv.Itoa(count[name])
		}
		out[k] = name
	}
	return out
}

// lastJSONObject returns the last line of the file that is a JSON object, or
// nil when there is none.
func lastJSONObject(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var last map[string]any
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var obj map[string]any
		if json.Unmarshal(line, &obj) == nil {
			last = obj
		}
	}
	return last, nil
}

func flatten(prefix string, v any, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(prefix+"."+k, e, out)
		}
	case []any:
		b, _ := json.Marshal(x)
		out[prefix] = string(b)
	default:
		out[prefix] = x
	}
}

// Select keeps the run, axis, state and error columns and the result columns
// that match one of the patterns (path.Match syntax: "eval.ising.*.energy").
// It fails on a pattern that matches no column.
func (t *Table) Select(patterns []string) error {
	if len(patterns) == 0 {
		return nil
	}
	keep := map[string]bool{ColRun: true, ColState: true, ColError: true}
	for _, a := range t.Axes {
		keep[a] = true
	}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("--columns: bad pattern %q", p)
		}
		hit := false
		for _, c := range t.Columns {
			if ok, _ := path.Match(p, c); ok {
				keep[c] = true
				hit = true
			}
		}
		if !hit {
			return fmt.Errorf("--columns: %q matches no column (columns: %s)", p, strings.Join(t.Columns, ", "))
		}
	}
	cols := t.Columns[:0:0]
	for _, c := range t.Columns {
		if keep[c] {
			cols = append(cols, c)
		}
	}
	t.Columns = cols
	return nil
}

// Column returns the index of column name, or -1.
func (t *Table) Column(name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// cellText formats a cell for CSV (full precision) or Markdown (short).
func cellText(v any, short bool) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if short {
			return strconv.FormatFloat(x, 'g', 6, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// columns drops the error column when no run has an error.
func (t *Table) columns() []string {
	for _, r := range t.Rows {
		if _, ok := r.Cells[ColError]; ok {
			return t.Columns
		}
	}
	out := make([]string, 0, len(t.Columns))
	for _, c := range t.Columns {
		if c != ColError {
			out = append(out, c)
		}
	}
	return out
}

// WriteMarkdown writes the table as a Markdown table, numbers to 6 significant digits.
func (t *Table) WriteMarkdown(w io.Writer) error {
	cols := t.columns()
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	b.WriteString("|")
	for _, c := range cols {
		b.WriteString(" " + esc(c) + " |")
	}
	b.WriteString("\n|")
	for range cols {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString("|")
		for _, c := range cols {
			b.WriteString(" " + esc(cellText(r.Cells[c], true)) + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV writes the table as CSV with a header row, numbers in full precision.
func (t *Table) WriteCSV(w io.Writer) error {
	cols := t.columns()
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, r := range t.Rows {
		for i, c := range cols {
			rec[i] = cellText(r.Cells[c], false)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the table as a JSON array of objects, one per run, keys in
// column order; a missing cell is left out, a non-finite number is null.
func (t *Table) WriteJSON(w io.Writer) error {
	cols := t.columns()
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, r := range t.Rows {
		b.WriteString("  {")
		first := true
		for _, c := range cols {
			v, ok := r.Cells[c]
			if !ok {
				continue
			}
			if f, isF := v.(float64); isF && (math.IsNaN(f) || math.IsInf(f, 0)) {
				v = nil
			}
			kb, _ := json.Marshal(c)
			vb, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.Write(kb)
			b.WriteString(": ")
			b.Write(vb)
		}
		b.WriteString("}")
		if i < len(t.Rows)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}

// Write writes the table in format "md", "csv" or "json".
func (t *Table) Write(w io.Writer, format string) error {
	switch format {
	case "md", "markdown":
		return t.WriteMarkdown(w)
	case "csv":
		return t.WriteCSV(w)
	case "json":
		return t.WriteJSON(w)
	}
	return fmt.Errorf("--format: want md, csv or json, got %q", format)
}
