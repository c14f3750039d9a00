package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/latent-ml/latent/model"

	"github.com/latent-ml/latent/internal/atomicfile"
	"github.com/latent-ml/latent/report"
)

// cmdCompare runs `latent compare FILE... --data SPEC [--json|--markdown|--html OUT]`.
func cmdCompare(env *Env, args []string) error {
	fs := newFlags("compare")
	data := fs.String("data", "", "data SPEC every model is scored on")
	seed := fs.Uint64("seed", 1, "random seed (as latent eval --seed)")
	n := fs.Int("n", 0, "score only the first N examples (0: all)")
	cls := fs.String("classifier", "", "digit classifier model file for the FID (default "+report.DefaultClassifier+" when it exists)")
	fidN := fs.Int("fid-n", 10000, "samples (and data examples) for the FID")
	noFID := fs.Bool("no-fid", false, "skip the FID")
	asJSON := fs.Bool("json", false, "print a JSON array, one object per model")
	md := fs.Bool("markdown", false, "print a Markdown table")
	html := fs.String("html", "", "also write the table as an HTML page to this file")
	deq := fs.String("dequantize", "auto", "auto|yes|no: score continuous data as densities at y = (k + u)/256 of their 8-bit levels k, u ~ U(0, 1) (the families' own --dequantize set to match); auto: when every value is a level k/255")
	published := fs.String("published", "", "CSV of published figures (match,data,log_likelihood,source) to print beside the rows")
	evalFlags := evalFlagsValue{}
	fs.Var(evalFlags, "eval", `a family's own eval flags, as "MODEL:--flag value ..." (e.g. "rbm:--ais-betas 14500"); repeatable`)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("compare: no model files given")
	}
	if *data == "" {
		return usagef("--data: missing data spec every model is scored on")
	}
	if *asJSON && *md {
		return usagef("--json and --markdown: choose one")
	}
	if *n < 0 {
		return usagef("--n: must be >= 0, got %d", *n)
	}
	if *fidN < 2 {
		return usagef("--fid-n: must be >= 2, got %d", *fidN)
	}
	if *deq != "auto" && *deq != "yes" && *deq != "no" {
		return usagef("--dequantize: want auto, yes or no, got %q", *deq)
	}
	if *html != "" {
		if err := checkOutFile("--html", *html); err != nil {
			return err
		}
	}
	var pubs []report.Published
	if *published != "" {
		if pubs, err = report.ReadPublished(*published); err != nil {
			return fmt.Errorf("--published: %w", err)
		}
	}
	if *cls == "" && !*noFID {
		if st, err := os.Stat(report.DefaultClassifier); err == nil && st.Mode().IsRegular() {
			*cls = report.DefaultClassifier
		}
	}
	if *noFID {
		*cls = ""
	}
	ctx, stop := signalContext(env)
	defer stop()
	rows, err := report.Compare(ctx, files, report.CompareOptions{Data: *data, DataDir: env.DataDir, Seed: *seed, N: *n, Classifier: *cls, FIDN: *fidN, EvalFlags: evalFlags, Dequantize: *deq})
	if err != nil {
		return err
	}
	report.JoinPublished(rows, pubs)
	if *html != "" {
		var b bytes.Buffer
		if err := report.WriteHTML(&b, rows); err != nil {
			return err
		}
		if err := atomicfile.Write(*html, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	switch {
	case *asJSON:
		return report.WriteJSON(env.Stdout, rows)
	case *md:
		return report.WriteMarkdown(env.Stdout, rows)
	}
	return report.WriteText(env.Stdout, rows)
}

// evalFlagsValue collects --eval "MODEL:--flag value ..." by family.
type evalFlagsValue map[string][]string

func (v evalFlagsValue) String() string { return "" }

func (v evalFlagsValue) Set(s string) error {
	fam, args, ok := strings.Cut(s, ":")
	if !ok || model.Lookup(fam) == nil {
		return fmt.Errorf("want MODEL:--flag value ..., with MODEL one of %s; got %q", model.Names(), s)
	}
	v[fam] = append(v[fam], strings.Fields(args)...)
	return nil
}
