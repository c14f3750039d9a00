package viz

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// ShowOptions choose what ShowData draws.
type ShowOptions struct {
	N        int    // examples to show (a scatter of 2-D data shows every point unless AllN is false)
	AllN     bool   // a scatter shows only N points
	Cols     int    // tiles per row (0: square)
	Shuffle  bool   // a random selection (from Seed) instead of the first N
	Seed     uint64 //
	Captions bool   // write each example's label under it
}

// Shown says what ShowData drew.
type Shown struct {
	Scatter bool    // a scatter of 2-D points, not an image grid
	K       int     // examples drawn
	H, W, C int     // the image shape of a grid
	Lo, Hi  float32 // the values' range, when it was stretched to [0, 1]
	Scaled  bool
}

// ShowData writes a PNG of d's rows to path: a grid of images when the rows are
// images (a square grayscale guess when d records no shape), or a scatter
// coloured by label when they are 2-D points. Rows outside [0, 1] are stretched
// from their min..max to black..white.
func ShowData(path string, d *dataset.Dataset, o ShowOptions) (Shown, error) {
	if d.Len() == 0 {
		return Shown{}, fmt.Errorf("%s has no examples", d.Name)
	}
	if d.Dim() == 2 && d.Height == 0 {
		k := d.Len()
		if o.AllN {
			k = min(o.N, k)
		}
		var labels []int
		if d.Labels != nil {
			labels = d.Labels[:k]
		}
		x := d.X.Slice(0, k)
		return Shown{Scatter: true, K: k}, SaveScatter(path, fmt.Sprintf("%s (%d points)", d.Name, k), column(x, 0), column(x, 1), labels)
	}
	h, w, c, err := imageShape(d)
	if err != nil {
		return Shown{}, err
	}
	k := min(max(o.N, 1), d.Len())
	idx := make([]int, k)
	if o.Shuffle {
		copy(idx, rng.New(o.Seed).Perm(d.Len())[:k])
	} else {
		for i := range idx {
			idx[i] = i
		}
	}
	x := d.Gather(nil, idx)
	sh := Shown{K: k, H: h, W: w, C: c}
	sh.Lo, sh.Hi = rangeOf(x)
	if sh.Lo < 0 || sh.Hi > 1 {
		sh.Scaled = true
		scaleUnit(x, sh.Lo, sh.Hi)
	}
	g := Grid{Height: h, Width: w, Channels: c, Cols: o.Cols}
	if o.Captions && d.Labels != nil {
		g.Captions = make([]string, k)
		for i, r := range idx {
			g.Captions[i] = labelText(d, d.Labels[r])
		}
	}
	return sh, g.Save(path, x)
}

// SaveSamples writes the rows of x as a float32 .npy file (labels, when not nil,
// beside it in PATH.labels.npy), or as a PNG: an image grid when h×w×c is the row
// width, else a scatter of the first two columns coloured by label. Both are
// written atomically.
func SaveSamples(path string, x *tensor.Mat, labels []int, h, w, c int) error {
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		return dataset.SaveNPY(path, &dataset.Dataset{X: x, Labels: labels, Height: h, Width: w, Channels: c})
	}
	if h > 0 && w > 0 && h*w*max(c, 1) == x.Cols {
		return SaveGrid(path, x, h, w, max(c, 1), 0)
	}
	ys := make([]float64, x.Rows)
	if x.Cols > 1 {
		ys = column(x, 1)
	}
	return SaveScatter(path, "samples (first two dimensions)", column(x, 0), ys, labels)
}

func column(x *tensor.Mat, j int) []float64 {
	out := make([]float64, x.Rows)
	for i := range out {
		out[i] = float64(x.At(i, j))
	}
	return out
}

// imageShape returns the image shape of d's rows: the data set's own, or a
// square grayscale guess.
func imageShape(d *dataset.Dataset) (h, w, c int, err error) {
	if d.Height > 0 && d.Width > 0 {
		c = max(d.Channels, 1)
		if d.Height*d.Width*c == d.Dim() {
			return d.Height, d.Width, c, nil
		}
	}
	s := int(math.Round(math.Sqrt(float64(d.Dim()))))
	if s*s == d.Dim() {
		return s, s, 1, nil
	}
	return 0, 0, 0, fmt.Errorf("%s has %d values per example, which is not an image shape", d.Name, d.Dim())
}

// labelText is the caption of label l: its class name when every class name
// is short, else the number.
func labelText(d *dataset.Dataset, l int) string {
	short := len(d.ClassNames) > 0
	for _, n := range d.ClassNames {
		short = short && len(n) <= 8
	}
	if short && l >= 0 && l < len(d.ClassNames) {
		return d.ClassNames[l]
	}
	return strconv.Itoa(l)
}

func rangeOf(x *tensor.Mat) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

func scaleUnit(x *tensor.Mat, lo, hi float32) {
	s := float32(1)
	if hi > lo {
		s = 1 / (hi - lo)
	}
	for i := 0; i < x.Rows; i++ {
		r := x.Row(i)
		for j := range r {
			r[j] = (r[j] - lo) * s
		}
	}
}
