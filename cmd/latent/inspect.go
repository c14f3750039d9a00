package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/model"
)

// cmdInspect prints what a model file holds: `latent inspect FILE [--json] [--meta]`.
func cmdInspect(env *Env, args []string) error {
	fs := newFlags("inspect")
	asJSON := fs.Bool("json", false, "print one JSON object")
	showMeta := fs.Bool("meta", false, "also print the family's raw metadata and every byte blob")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("inspect: want exactly one model file, got %d arguments", len(pos))
	}
	in, err := model.Inspect(pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printInspectJSON(env, in)
	}
	return printInspectText(env, in, *showMeta)
}

func printInspectJSON(env *Env, in *model.Inspection) error {
	f := in.File
	meta := f.Meta
	if len(meta) == 0 {
		meta = json.RawMessage("null")
	}
	out := map[string]any{
		"file": in.Path, "bytes": in.Size, "kind": f.Kind, "latent_version": f.LatentVersion,
		"format_version": f.FormatVersion, "meta": meta, "tensors": in.Stats,
	}
	if in.Settings != nil {
		out["settings"] = in.Settings
	}
	if in.Summary != nil {
		sm := map[string]any{}
		for _, m := range in.Summary {
			sm[m.Name] = m.Value
		}
		out["summary"] = sm
	}
	return printJSON(env, out)
}

func printInspectText(env *Env, in *model.Inspection, showMeta bool) error {
	f, path, settings, summary := in.File, in.Path, in.Settings, in.Summary
	w := env.Stdout
	fmt.Fprintf(w, "file:      %s (%d bytes)\n", path, in.Size)
	fmt.Fprintf(w, "model:     %s (written by latent %s, format version %d)\n", f.Kind, f.LatentVersion, f.FormatVersion)
	if s := settings; s != nil {
		img := ""
		if h, wd, c, ok := s.Image(); ok {
			img = fmt.Sprintf(", images %d×%d", h, wd)
			if c > 1 {
				img += fmt.Sprintf("×%d", c)
			}
		}
		conv := ""
		if s.Converged {
			conv = " (converged)"
		}
		fmt.Fprintf(w, "trained:   %d of %d epochs%s on %s (%d×%d%s), seed %d\n", s.EpochsDone, s.Epochs, conv, s.Data, s.Rows, s.Dim, img, s.Seed)
		fmt.Fprintf(w, "command:   latent train %s %s\n", s.Model, s.Summary())
		for _, r := range s.Retuned {
			fmt.Fprintf(w, "resumed:   %s\n", r)
		}
		fmt.Fprintf(w, "settings:  %s\n", flagList(s.Flags))
	}
	if len(summary) > 0 {
		fmt.Fprintln(w, "summary:")
		for _, m := range summary {
			fmt.Fprintf(w, "  %-18s %v\n", m.Name, m.Value)
		}
	}
	if showMeta || settings == nil {
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
	}
	return printTensorTable(w, in.Stats, showMeta)
}

// printTensorTable prints a table of the tensors (byte blobs folded into one
// line unless showMeta).
func printTensorTable(w io.Writer, stats []checkpoint.TensorStats, showMeta bool) error {
	var blobs []string
	blobBytes := 0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tensors:\tdtype\tshape\tvalues\tmin\tmax\tmean\tstd")
	num := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	for _, s := range stats {
		if s.DType == "bytes" && !showMeta {
			blobs = append(blobs, s.Name)
			blobBytes += s.N
			continue
		}
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
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(blobs) > 0 {
		sort.Strings(blobs)
		fmt.Fprintf(w, "state:     %d byte blobs, %d bytes (settings, optimiser and random-stream state; --meta lists them)\n", len(blobs), blobBytes)
	}
	return nil
}

// flagList writes flags as "name=value" pairs, sorted.
func flagList(flags map[string]string) string {
	names := make([]string, 0, len(flags))
	for n := range flags {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + flags[n]
	}
	return strings.Join(parts, " ")
}
