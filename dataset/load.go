package dataset

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/tensor"
)

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 1<<16) }

// loadNamed loads a split of a named data set.
func loadNamed(n *Info, sp *Spec, opt Options) (*Dataset, error) {
	if err := sp.checkOpts(); err != nil {
		return nil, err
	}
	split := sp.Arg
	if split == "" {
		split = n.Splits[0]
	}
	found := false
	for _, s := range n.Splits {
		found = found || s == split
	}
	if !found {
		return nil, fmt.Errorf("dataset: %s: unknown split %q (known: %s)", n.Name, split, strings.Join(n.Splits, ", "))
	}
	switch n.Name {
	case "mnist", "fashion-mnist":
		pre := split
		if split == "test" {
			pre = "t10k"
		}
		return loadIDXPair(n, pre+"-images-idx3-ubyte.gz", pre+"-labels-idx1-ubyte.gz", opt)
	case "binarized-mnist":
		return loadBinarizedMNIST(n, split, opt)
	case "optdigits":
		base := "optdigits.tra"
		if split == "test" {
			base = "optdigits.tes"
		}
		return loadOptdigits(n, base, opt)
	}
	return nil, fmt.Errorf("dataset: %s: no loader", n.Name)
}

// readNamed opens one file of n, parses it with parse and verifies its hash.
func readNamed(n *Info, base string, opt Options, parse func(s *source) error) error {
	s, f, err := n.open(base, opt)
	if err != nil {
		return err
	}
	if err := parse(s); err != nil {
		s.Close()
		return err
	}
	return finish(s, f)
}

func loadIDXPair(n *Info, imgBase, lblBase string, opt Options) (*Dataset, error) {
	var img *Array
	var imgName string
	err := readNamed(n, imgBase, opt, func(s *source) (err error) {
		imgName = s.name
		img, err = readIDX(s, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(img.Shape) != 3 {
		return nil, ferr(imgName, "want a 3-D image array, got shape %v", img.Shape)
	}
	labels, err := readIDXLabels(n, lblBase, opt, img.Shape[0])
	if err != nil {
		return nil, err
	}
	h, w := img.Shape[1], img.Shape[2]
	return &Dataset{
		X:      tensor.FromSlice(img.Shape[0], h*w, img.Data),
		Labels: labels, NumClasses: numClasses(labels),
		Height: h, Width: w, Channels: 1,
	}, nil
}

func readIDXLabels(n *Info, base string, opt Options, want int) ([]int, error) {
	var labels []int
	err := readNamed(n, base, opt, func(s *source) error {
		a, err := readIDX(s, false)
		if err != nil {
			return err
		}
		if len(a.Shape) != 1 || a.Shape[0] != want {
			return ferr(s.name, "want %d labels, got shape %v", want, a.Shape)
		}
		labels, err = toLabels(s.name, a.Data)
		return err
	})
	return labels, err
}

func toLabels(name string, v []float32) ([]int, error) {
	labels := make([]int, len(v))
	for i, x := range v {
		if x < 0 || x != float32(math.Floor(float64(x))) || x > 1<<24 {
			return nil, ferr(name, "label %d is %v, want a non-negative integer", i, x)
		}
		labels[i] = int(x)
	}
	return labels, nil
}

func numClasses(labels []int) int {
	if labels == nil {
		return 0
	}
	m := -1
	for _, l := range labels {
		m = max(m, l)
	}
	return m + 1
}

func loadBinarizedMNIST(n *Info, split string, opt Options) (*Dataset, error) {
	base := "binarized_mnist_" + split + ".amat"
	var a *Array
	err := readNamed(n, base, opt, func(s *source) (err error) {
		a, err = readAmat(s, n.file(base).Size/2)
		if err == nil && (len(a.Shape) != 2 || a.Shape[1] != 784) {
			err = ferr(s.name, "want 784 values per line, got %d", a.Shape[1])
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	d := &Dataset{
		X:      tensor.FromSlice(a.Shape[0], a.Shape[1], a.Data),
		Height: 28, Width: 28, Channels: 1, Binary: isBinary(a.Data),
	}
	if split == "test" {
		// The test file is MNIST t10k stably sorted by label, so its labels
		// follow from the per-class counts of t10k-labels (when available).
		mn := lookupNamed("mnist")
		if mn.locate(mn.file("t10k-labels-idx1-ubyte.gz"), opt) != "" {
			tl, err := readIDXLabels(mn, "t10k-labels-idx1-ubyte.gz", opt, d.Len())
			if err != nil {
				return nil, err
			}
			d.Labels = sortedLabels(tl)
			d.NumClasses = numClasses(d.Labels)
		}
	}
	return d, nil
}

// sortedLabels returns labels sorted ascending (the labels of a set stably
// sorted by label).
func sortedLabels(l []int) []int {
	out := append([]int(nil), l...)
	sort.Ints(out)
	return out
}

func isBinary(x []float32) bool {
	for _, v := range x {
		if v != 0 && v != 1 {
			return false
		}
	}
	return true
}

func loadOptdigits(n *Info, base string, opt Options) (*Dataset, error) {
	var d *Dataset
	err := readNamed(n, base, opt, func(s *source) (err error) {
		d, err = readCSV(s, CSVOptions{Header: "no", Label: "last"})
		if err == nil && d.Dim() != 64 {
			err = ferr(s.name, "want 64 features per line, got %d", d.Dim())
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, v := range d.X.Data {
		if v < 0 || v > 16 {
			return nil, fmt.Errorf("dataset: optdigits/%s: value %v outside 0..16", base, v)
		}
	}
	d.X.Scale(1.0 / 16)
	d.Height, d.Width, d.Channels = 8, 8, 1
	return d, nil
}

// loadPath loads a file or a folder of PNG images.
func loadPath(sp *Spec, opt Options) (*Dataset, error) {
	p := sp.Name
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", p, unwrapPathErr(err))
	}
	if st.IsDir() {
		if err := sp.checkOpts("scale"); err != nil {
			return nil, err
		}
		d, err := ReadPNGDir(p)
		if err != nil {
			return nil, err
		}
		return d, applyScale(d, sp, "none")
	}
	if sp.Arg != "" {
		return nil, fmt.Errorf("dataset: %s: unexpected %q after the file name (options are key=value)", p, sp.Arg)
	}
	s, err := openSourceWait(p, p, false, opt.pipeWait())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return loadSource(s, sp)
}

// loadStdin loads the spec "-" from Options.Stdin.
func loadStdin(sp *Spec, opt Options) (*Dataset, error) {
	if sp.Arg != "" {
		return nil, fmt.Errorf("dataset: -: unexpected %q (options are key=value, e.g. -:format=npy)", sp.Arg)
	}
	s, err := stdinSource(opt.Stdin)
	if err != nil {
		return nil, err
	}
	return loadSource(s, sp)
}

var formats = []string{"csv", "npy", "npz", "idx", "amat"}

// loadSource reads an opened file or stream in the format the spec's format=
// option names, or else the one its first bytes and name say.
func loadSource(s *source, sp *Spec) (*Dataset, error) {
	p := s.name
	kind, given := sp.Opts["format"]
	if given {
		if !slices.Contains(formats, kind) {
			return nil, ferr(p, "option format=%q: want %s", kind, strings.Join(formats, ", "))
		}
	} else {
		kind = sniff(s, p)
	}
	if !streamable(kind) && s.f == nil {
		return nil, ferr(p, "an .%s archive cannot be read from a pipe or a stream (it is read from its end); save it to a file first", kind)
	}
	d, err := loadKind(s, sp, kind)
	if err != nil {
		return nil, err
	}
	if d.Source == "" {
		d.Source = fmt.Sprintf("%s: read %d rows of %d values (%s)", p, d.Len(), d.Dim(), kind)
	}
	return d, nil
}

func loadKind(s *source, sp *Spec, kind string) (*Dataset, error) {
	p := s.name
	switch kind {
	case "npy":
		if err := sp.checkOpts("format", "labels", "scale"); err != nil {
			return nil, err
		}
		a, isU8, err := readNPY(s)
		if err != nil {
			return nil, err
		}
		d, err := arrayDataset(p, a)
		if err != nil {
			return nil, err
		}
		def := "none"
		if isU8 {
			def = "255"
		}
		if err := applyScale(d, sp, def); err != nil {
			return nil, err
		}
		lp, given := sp.Opts["labels"]
		if !given && s.f != nil && strings.HasSuffix(p, ".npy") {
			if _, err := os.Stat(LabelsPath(p)); err == nil {
				lp = LabelsPath(p)
			}
		}
		return d, attachLabels(d, lp)
	case "npz":
		if err := sp.checkOpts("format", "x", "y", "scale"); err != nil {
			return nil, err
		}
		if s.gz {
			return nil, ferr(p, "a gzip-compressed .npz archive is not supported; gunzip it first")
		}
		return readNPZDataset(s.f, p, s.size, sp)
	case "idx":
		if err := sp.checkOpts("format", "labels", "scale"); err != nil {
			return nil, err
		}
		a, err := readIDX(s, false)
		if err != nil {
			return nil, err
		}
		d, err := arrayDataset(p, a)
		if err != nil {
			return nil, err
		}
		if err := applyScale(d, sp, "255"); err != nil {
			return nil, err
		}
		return d, attachLabels(d, sp.Opts["labels"])
	case "amat":
		if err := sp.checkOpts("format", "scale"); err != nil {
			return nil, err
		}
		a, err := readAmat(s, 0)
		if err != nil {
			return nil, err
		}
		d, err := arrayDataset(p, a)
		if err != nil {
			return nil, err
		}
		if a.Shape[1] == 784 {
			d.Height, d.Width, d.Channels = 28, 28, 1
		}
		return d, applyScale(d, sp, "none")
	default: // csv
		if err := sp.checkOpts("format", "header", "sep", "label", "scale"); err != nil {
			return nil, err
		}
		d, err := readCSV(s, CSVOptions{Header: sp.Opts["header"], Sep: sp.Opts["sep"], Label: sp.Opts["label"]})
		if err != nil {
			return nil, err
		}
		return d, applyScale(d, sp, "none")
	}
}

// sniff decides the format of an opened file from its first bytes, then its
// name.
func sniff(s *source, p string) string {
	head, _ := s.br.Peek(8)
	lower := strings.ToLower(strings.TrimSuffix(p, ".gz"))
	switch {
	case bytes.HasPrefix(head, []byte(npyMagic)):
		return "npy"
	case !s.gz && bytes.HasPrefix(head, []byte("PK\x03\x04")), strings.HasSuffix(lower, ".npz"):
		return "npz"
	case len(head) >= 4 && head[0] == 0 && head[1] == 0 && head[3] > 0:
		return "idx"
	case strings.HasSuffix(lower, ".amat"):
		return "amat"
	case strings.HasSuffix(lower, ".npy"):
		return "npy" // bad magic: readNPY says so
	}
	return "csv"
}

// arrayDataset turns an n-D array into a Dataset: 1-D → n×1, 2-D → n×d,
// 3-D (n, H, W) → grey images, 4-D (n, H, W, C) or (n, C, H, W) with C in
// {1, 3, 4} → images stored H×W×C per row, more → n × (product of the rest).
func arrayDataset(name string, a *Array) (*Dataset, error) {
	sh := a.Shape
	if len(sh) == 0 {
		sh = []int{1}
	}
	n := sh[0]
	d := 1
	for _, k := range sh[1:] {
		d *= k
	}
	if n == 0 || d == 0 {
		return nil, ferr(name, "empty array of shape %v", a.Shape)
	}
	ds := &Dataset{X: tensor.FromSlice(n, d, a.Data)}
	switch len(sh) {
	case 3:
		ds.Height, ds.Width, ds.Channels = sh[1], sh[2], 1
	case 4:
		switch {
		case sh[3] == 1 || sh[3] == 3 || sh[3] == 4:
			ds.Height, ds.Width, ds.Channels = sh[1], sh[2], sh[3]
		case sh[1] == 1 || sh[1] == 3 || sh[1] == 4:
			c, h, w := sh[1], sh[2], sh[3]
			ds.Height, ds.Width, ds.Channels = h, w, c
			if c > 1 { // CHW → HWC, row by row
				tmp := make([]float32, d)
				for i := 0; i < n; i++ {
					row := ds.X.Row(i)
					for ch := 0; ch < c; ch++ {
						for k := 0; k < h*w; k++ {
							tmp[k*c+ch] = row[ch*h*w+k]
						}
					}
					copy(row, tmp)
				}
			}
		}
	}
	ds.Binary = isBinary(a.Data)
	return ds, nil
}

// applyScale scales d.X according to the spec's scale= option (default def):
// "none", "max" (divide by the largest |value|), "minmax" (each column to
// [0, 1]), or a positive number to divide by (e.g. 255).
func applyScale(d *Dataset, sp *Spec, def string) error {
	mode, ok := sp.Opts["scale"]
	if !ok {
		mode = def
	}
	switch mode {
	case "none", "":
		return nil
	case "max":
		var m float32
		for _, v := range d.X.Data {
			m = max(m, float32(math.Abs(float64(v))))
		}
		if m > 0 {
			d.X.Scale(1 / m)
		}
	case "minmax":
		lo := make([]float32, d.Dim())
		hi := make([]float32, d.Dim())
		copy(lo, d.X.Row(0))
		copy(hi, d.X.Row(0))
		for i := 1; i < d.Len(); i++ {
			for j, v := range d.X.Row(i) {
				lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
			}
		}
		for i := 0; i < d.Len(); i++ {
			r := d.X.Row(i)
			for j := range r {
				if hi[j] > lo[j] {
					r[j] = (r[j] - lo[j]) / (hi[j] - lo[j])
				} else {
					r[j] = 0
				}
			}
		}
	default:
		c, err := strconv.ParseFloat(mode, 64)
		if err != nil || !(c > 0) || math.IsInf(c, 0) {
			return fmt.Errorf("dataset: %s: option scale=%q: want none, max, minmax or a positive number", sp.Name, mode)
		}
		d.X.Scale(float32(1 / c))
	}
	d.Binary = isBinary(d.X.Data)
	return nil
}

// attachLabels reads labels from a .npy or IDX file at lp ("" for none).
func attachLabels(d *Dataset, lp string) error {
	if lp == "" {
		return nil
	}
	s, err := openSource(lp, lp, false)
	if err != nil {
		return err
	}
	defer s.Close()
	head, _ := s.br.Peek(6)
	var a *Array
	if string(head) == npyMagic {
		a, _, err = readNPY(s)
	} else {
		a, err = readIDX(s, false)
	}
	if err != nil {
		return err
	}
	if len(a.Data) != d.Len() {
		return ferr(lp, "holds %d labels for %d examples", len(a.Data), d.Len())
	}
	d.Labels, err = toLabels(lp, a.Data)
	d.NumClasses = numClasses(d.Labels)
	return err
}

var (
	npzXKeys = []string{"x", "X", "data", "images", "x_train", "features", "arr_0"}
	npzYKeys = []string{"y", "Y", "labels", "label", "targets", "target", "y_train"}
)

func readNPZDataset(r io.ReaderAt, name string, size int64, sp *Spec) (*Dataset, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, ferr(name, "not a valid .npz (zip) archive: %v", err)
	}
	keys := npzKeys(zr)
	has := map[string]bool{}
	for _, k := range keys {
		has[k] = true
	}
	pick := func(opt string, cands []string, single bool) (string, error) {
		if k, ok := sp.Opts[opt]; ok {
			if !has[k] {
				return "", ferr(name, "no array %q (has %s)", k, strings.Join(keys, ", "))
			}
			return k, nil
		}
		if single && len(keys) == 1 {
			return keys[0], nil
		}
		for _, c := range cands {
			if has[c] {
				return c, nil
			}
		}
		return "", nil
	}
	xk, err := pick("x", npzXKeys, true)
	if err != nil {
		return nil, err
	}
	if xk == "" {
		return nil, ferr(name, "which array holds the data? name it with x=KEY (has %s)", strings.Join(keys, ", "))
	}
	yk, err := pick("y", npzYKeys, false)
	if err != nil {
		return nil, err
	}
	want := []string{xk}
	if yk != "" && yk != xk {
		want = append(want, yk)
	}
	all, u8, err := ReadNPZ(r, name, size, want)
	if err != nil {
		return nil, err
	}
	d, err := arrayDataset(name, all[xk])
	if err != nil {
		return nil, err
	}
	def := "none"
	if u8[xk] {
		def = "255"
	}
	if err := applyScale(d, sp, def); err != nil {
		return nil, err
	}
	if yk != "" {
		y := all[yk]
		if len(y.Data) != d.Len() {
			return nil, ferr(name, "array %q holds %d labels for %d examples", yk, len(y.Data), d.Len())
		}
		if d.Labels, err = toLabels(name+"["+yk+"]", y.Data); err != nil {
			return nil, err
		}
		d.NumClasses = numClasses(d.Labels)
	}
	return d, nil
}
