package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/latent-ml/latent/checkpoint"
)

// tensorStats summarises one tensor for `latent inspect`.
type tensorStats struct {
	Name  string   `json:"name"`
	DType string   `json:"dtype"`
	Shape []int    `json:"shape"`
	N     int      `json:"n"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Mean  *float64 `json:"mean,omitempty"`
	Std   *float64 `json:"std,omitempty"`
	NaN   int      `json:"nan,omitempty"` // count of NaN or infinite values
}

func statsOf(t *checkpoint.Tensor) tensorStats {
	s := tensorStats{Name: t.Name, Shape: t.Shape}
	var n int
	at := func(i int) float64 { return 0 }
	switch {
	case t.F32 != nil:
		s.DType, n = "f32", len(t.F32)
		at = func(i int) float64 { return float64(t.F32[i]) }
	case t.F64 != nil:
		s.DType, n = "f64", len(t.F64)
		at = func(i int) float64 { return t.F64[i] }
	default:
		s.DType, s.N = "bytes", len(t.Bytes)
		return s
	}
	s.N = n
	lo, hi := math.Inf(1), math.Inf(-1)
	var sum, sum2 float64
	k := 0
	for i := 0; i < n; i++ {
		v := at(i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.NaN++
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
		sum += v
		sum2 += v * v
		k++
	}
	if k > 0 {
		mean := sum / float64(k)
		std := math.Sqrt(math.Max(0, sum2/float64(k)-mean*mean))
		s.Min, s.Max, s.Mean, s.Std = &lo, &hi, &mean, &std
	}
	return s
}

// cmdInspect prints what a model file holds: `latent inspect FILE [--json]`.
func cmdInspect(env *Env, args []string) error {
	fs := newFlags("inspect")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("inspect: want exactly one model file, got %d arguments", len(pos))
	}
	path := pos[0]
	f, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	stats := make([]tensorStats, len(f.Tensors))
	for i := range f.Tensors {
		stats[i] = statsOf(&f.Tensors[i])
	}
	if *asJSON {
		meta := f.Meta
		if len(meta) == 0 {
			meta = json.RawMessage("null")
		}
		return printJSON(env, map[string]any{
			"file": path, "bytes": st.Size(), "kind": f.Kind, "latent_version": f.LatentVersion,
			"format_version": f.FormatVersion, "meta": meta, "tensors": stats,
		})
	}
	w := env.Stdout
	fmt.Fprintf(w, "file:     %s (%d bytes)\n", path, st.Size())
	fmt.Fprintf(w, "kind:     %s\n", f.Kind)
	fmt.Fprintf(w, "written:  latent %s, format version %d\n", f.LatentVersion, f.FormatVersion)
	fmt.Fprintln(w, "metadata:")
	if len(f.Meta) == 0 {
		fmt.Fprintln(w, "  (none)")
	} else {
		var buf bytes.Buffer
		if err := json.Indent(&buf, f.Meta, "  ", "  "); err != nil {
			buf.Reset()
			buf.Write(f.Meta)
		}
		fmt.Fprintf(w, "  %s\n", buf.String())
	}
	fmt.Fprintf(w, "tensors:  %d\n", len(stats))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  name\tdtype\tshape\tvalues\tmin\tmax\tmean\tstd")
	num := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	for _, s := range stats {
		shape := make([]string, len(s.Shape))
		for i, d := range s.Shape {
			shape[i] = fmt.Sprint(d)
		}
		extra := ""
		if s.NaN > 0 {
			extra = fmt.Sprintf("  (%d NaN/Inf)", s.NaN)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\t%s%s\n", s.Name, s.DType, strings.Join(shape, "×"), s.N,
			num(s.Min), num(s.Max), num(s.Mean), num(s.Std), extra)
	}
	return tw.Flush()
}
