// Package dataset loads the data latent trains on (IDX, amat, NPY/NPZ, CSV, PNG
// folders, named downloadable datasets) and generates built-in data (bars-and-stripes,
// Ising configurations, shapes).
package dataset

import (
	"fmt"

	"github.com/latent-ml/latent/tensor"
)

// Dataset is a loaded data set: one example per row of X.
type Dataset struct {
	Name       string      // the spec it was loaded from
	X          *tensor.Mat // (n, d); image data scaled to [0, 1]
	Labels     []int       // len n, or nil when there are none
	NumClasses int         // 1 + max label, or 0 without labels
	// Image shape of one row (Height*Width*Channels == d), zeros when the rows are not images.
	Height, Width, Channels int
	Binary                  bool // every value is 0 or 1

	// ClassNames names the classes when the labels came from names (CSV label
	// columns, PNG subfolders); nil otherwise.
	ClassNames []string
	// Factors holds per-example generating factors or measured quantities
	// (n × len(FactorNames)): x, y, scale, angle for shapes; energy and
	// magnetisation per spin for ising. Nil when there are none.
	Factors     *tensor.Mat
	FactorNames []string

	// Source says, in one line for people, how a file was read: for CSV, the
	// number of rows read, the separator, whether a header row was skipped and
	// which column held the labels. Empty for generated and named data sets.
	Source string
}

// Len returns the number of examples.
func (d *Dataset) Len() int { return d.X.Rows }

// Dim returns the number of values per example.
func (d *Dataset) Dim() int { return d.X.Cols }

// Gather copies rows idx of X into dst (len(idx)×Dim, reused when it has room) and
// returns it.
func (d *Dataset) Gather(dst *tensor.Mat, idx []int) *tensor.Mat {
	dst = tensor.Reuse(dst, len(idx), d.X.Cols)
	for i, r := range idx {
		if r < 0 || r >= d.X.Rows {
			panic(fmt.Sprintf("dataset: Gather: index %d out of %d rows", r, d.X.Rows))
		}
		copy(dst.Row(i), d.X.Row(r))
	}
	return dst
}
