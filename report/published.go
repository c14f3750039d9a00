package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Published is a figure from the literature to read a row against.
type Published struct {
	// Match is the model file's base name without its extension
	// ("rbm-cd1" for runs/rbm-cd1.model) or a family name ("rbm"); a file
	// name match wins over a family match.
	Match string
	// Data is the data set the figure is on (the SPEC's name, "mnist" for
	// mnist:test), or "" for any.
	Data   string
	LogLik float64 // nats per example
	Source string  // paper, table; for people
}

// publishedHeader is the first line of a published-figures file.
var publishedHeader = []string{"match", "data", "log_likelihood", "source"}

// ReadPublished reads a CSV file of published figures, with the header line
//
//	match,data,log_likelihood,source
//
// and one figure per line (lines starting with # are comments), e.g.
//
//	rbm-cd1,binarized-mnist,-125.53,"Salakhutdinov & Murray (2008), table 2"
//
// A malformed line is an error naming the file and the line.
func ReadPublished(path string) ([]Published, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parsePublished(f, path)
}

func parsePublished(r io.Reader, name string) ([]Published, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(publishedHeader)
	cr.TrimLeadingSpace = true
	var out []Published
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			if first {
				return nil, fmt.Errorf("%s: empty: want the header %s", name, strings.Join(publishedHeader, ","))
			}
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (want %d fields: %s)", name, err, len(publishedHeader), strings.Join(publishedHeader, ","))
		}
		if first {
			for i, h := range publishedHeader {
				if strings.TrimSpace(rec[i]) != h {
					return nil, fmt.Errorf("%s: line %d: the header is %q, want %s", name, line, strings.Join(rec, ","), strings.Join(publishedHeader, ","))
				}
			}
			continue
		}
		p := Published{Match: strings.TrimSpace(rec[0]), Data: strings.TrimSpace(rec[1]), Source: strings.TrimSpace(rec[3])}
		if p.Match == "" {
			return nil, fmt.Errorf("%s: line %d: empty match (a model file's base name or a family)", name, line)
		}
		// Figures copied from papers often carry a typographic minus.
		v := strings.Replace(strings.TrimSpace(rec[2]), "−", "-", 1)
		if p.LogLik, err = strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("%s: line %d: log_likelihood %q is not a number", name, line, rec[2])
		}
		out = append(out, p)
	}
}

// dataName returns the data set name of a SPEC: the part before its split or
// options ("mnist" for "mnist:test", "bars" for "bars:4,n=10").
func dataName(spec string) string {
	if _, err := os.Stat(spec); err == nil {
		return spec
	}
	name, _, _ := strings.Cut(spec, ":")
	name, _, _ = strings.Cut(name, ",")
	return name
}

// JoinPublished sets each row's Published to the figure of pubs that matches
// it: on its data (or any data), by its file's base name, else by its family.
func JoinPublished(rows []Row, pubs []Published) {
	for i := range rows {
		r := &rows[i]
		base := strings.TrimSuffix(filepath.Base(r.File), filepath.Ext(r.File))
		data := dataName(r.Data)
		var byFamily *Published
		for j := range pubs {
			p := &pubs[j]
			if p.Data != "" && p.Data != data {
				continue
			}
			if p.Match == base {
				byFamily = nil
				r.Published = p
				break
			}
			if p.Match == r.Model && byFamily == nil {
				byFamily = p
			}
		}
		if r.Published == nil && byFamily != nil {
			r.Published = byFamily
		}
	}
}
