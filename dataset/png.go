package dataset

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/latent-ml/latent/tensor"
)

// maxImagePixels bounds one PNG's width×height (checked from its header before
// decoding).
const maxImagePixels = 1 << 24

// ReadPNGDir reads a folder of PNG images, all the same size, as a data set
// with values in [0, 1]. Grey images give one channel; when any image has
// colour, every image is read as RGB (three channels, stored H×W×C per row).
// When the folder holds subfolders, each subfolder is a class: labels number
// the subfolder names in sorted order (ClassNames), and files directly in the
// folder are an error. Files are read in sorted order of their paths.
func ReadPNGDir(dir string) (*Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", dir, unwrapPathErr(err))
	}
	var files []string
	var labels []int
	var classes []string
	var subdirs []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			subdirs = append(subdirs, e.Name())
		} else if isPNGName(e.Name()) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(subdirs) > 0 {
		if len(files) > 0 {
			return nil, fmt.Errorf("dataset: %s: holds both PNG files and class subfolders (%s); use one or the other", dir, subdirs[0])
		}
		sort.Strings(subdirs)
		for c, sd := range subdirs {
			es, err := os.ReadDir(filepath.Join(dir, sd))
			if err != nil {
				return nil, fmt.Errorf("dataset: %s: %w", filepath.Join(dir, sd), unwrapPathErr(err))
			}
			n0 := len(files)
			for _, e := range es {
				if !e.IsDir() && isPNGName(e.Name()) {
					files = append(files, filepath.Join(dir, sd, e.Name()))
					labels = append(labels, c)
				}
			}
			sort.Strings(files[n0:])
			classes = append(classes, sd)
		}
	} else {
		sort.Strings(files)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dataset: %s: no .png files", dir)
	}
	// First pass: sizes and colour, from the headers and pixels.
	var w, h int
	imgs := make([]image.Image, 0, min(len(files), 4096))
	color3 := false
	for i, f := range files {
		img, err := readPNG(f)
		if err != nil {
			return nil, err
		}
		b := img.Bounds()
		if i == 0 {
			w, h = b.Dx(), b.Dy()
		} else if b.Dx() != w || b.Dy() != h {
			return nil, fmt.Errorf("dataset: %s: image is %d×%d but %s is %d×%d (all must be the same size)",
				f, b.Dx(), b.Dy(), files[0], w, h)
		}
		if !color3 && !isGrey(img) {
			color3 = true
		}
		imgs = append(imgs, img)
	}
	c := 1
	if color3 {
		c = 3
	}
	x := tensor.New(len(files), h*w*c)
	for i, img := range imgs {
		r := x.Row(i)
		b := img.Bounds()
		k := 0
		for yy := b.Min.Y; yy < b.Max.Y; yy++ {
			for xx := b.Min.X; xx < b.Max.X; xx++ {
				if c == 1 {
					g := color.Gray16Model.Convert(img.At(xx, yy)).(color.Gray16)
					r[k] = float32(g.Y) / 65535
					k++
				} else {
					cr, cg, cb, _ := img.At(xx, yy).RGBA()
					r[k], r[k+1], r[k+2] = float32(cr)/65535, float32(cg)/65535, float32(cb)/65535
					k += 3
				}
			}
		}
	}
	d := &Dataset{X: x, Height: h, Width: w, Channels: c, Binary: isBinary(x.Data)}
	if classes != nil {
		d.Labels, d.ClassNames, d.NumClasses = labels, classes, len(classes)
	}
	return d, nil
}

func isPNGName(n string) bool { return strings.EqualFold(filepath.Ext(n), ".png") }

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, unwrapPathErr(err))
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: not a valid PNG: %v", path, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, fmt.Errorf("dataset: %s: image is %d×%d, larger than %d pixels", path, cfg.Width, cfg.Height, maxImagePixels)
	}
	// The pixels are zlib-compressed: at 1 bit per pixel, a file of n bytes
	// holds at most 8·1032·n of them. Check before decode allocates the image.
	if st, err := f.Stat(); err == nil && int64(cfg.Width)*int64(cfg.Height) > 8*maxInflate*st.Size() {
		return nil, fmt.Errorf("dataset: %s: header claims %d×%d pixels, more than a %d-byte PNG can hold", path, cfg.Width, cfg.Height, st.Size())
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: not a valid PNG: %v", path, err)
	}
	return img, nil
}

func isGrey(img image.Image) bool {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r != g || g != bb {
				return false
			}
		}
	}
	return true
}
