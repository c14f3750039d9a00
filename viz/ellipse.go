package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"
)

// Ellipse is the contour of a 2-D Gaussian to draw over a scatter: the points
// p with (p − μ)ᵀ Σ⁻¹ (p − μ) = R², R = Radius, and a cross at the mean μ.
type Ellipse struct {
	Mean [2]float64
	// Cov is Σ as [Σxx, Σxy, Σyy]; it must be positive definite.
	Cov [3]float64
	// Radius is R in standard deviations (Mahalanobis distance); 0 means 2.
	Radius float64
	// Label picks the colour through Palette, as the points' labels do.
	Label int
}

// points returns n points on e's contour: μ + R L (cos t, sin t) with Σ = L Lᵀ
// (Cholesky), or nil when Σ is not positive definite.
func (e Ellipse) points(n int) [][2]float64 {
	a, b, c := e.Cov[0], e.Cov[1], e.Cov[2]
	if !(a > 0) || !(a*c-b*b > 0) || !finite(a) || !finite(c) {
		return nil
	}
	r := e.Radius
	if r == 0 {
		r = 2
	}
	l11 := math.Sqrt(a)
	l21 := b / l11
	l22 := math.Sqrt(c - l21*l21)
	out := make([][2]float64, n+1)
	for i := range out {
		t := 2 * math.Pi * float64(i) / float64(n)
		u, v := math.Cos(t), math.Sin(t)
		out[i] = [2]float64{e.Mean[0] + r*l11*u, e.Mean[1] + r*(l21*u+l22*v)}
	}
	return out
}

// darker returns c with its colour scaled by 0.6, for outlines over points of c.
func darker(c color.NRGBA) color.NRGBA {
	return color.NRGBA{uint8(float64(c.R) * 0.6), uint8(float64(c.G) * 0.6), uint8(float64(c.B) * 0.6), 255}
}

func paletteColor(l int) color.NRGBA { return Palette[((l%len(Palette))+len(Palette))%len(Palette)] }

// ScatterEllipsesImage draws the points (x[i], y[i]) coloured by labels[i] as
// ScatterImage does, and over them each ellipse as an outline in a darker shade
// of its label's colour with a black cross at its mean. The axes cover the
// points and the ellipses.
func ScatterEllipsesImage(w, h int, title string, x, y []float64, labels []int, ellipses []Ellipse) (*image.NRGBA, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("viz: scatter %q: %d x values and %d y values", title, len(x), len(y))
	}
	if labels != nil && len(labels) != len(x) {
		return nil, fmt.Errorf("viz: scatter %q: %d labels for %d points", title, len(labels), len(x))
	}
	const segments = 96
	curves := make([][][2]float64, len(ellipses))
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	grow := func(px, py float64) {
		if finite(px) && finite(py) {
			xmin, xmax = math.Min(xmin, px), math.Max(xmax, px)
			ymin, ymax = math.Min(ymin, py), math.Max(ymax, py)
		}
	}
	for i := range x {
		grow(x[i], y[i])
	}
	for k, e := range ellipses {
		curves[k] = e.points(segments)
		for _, p := range curves[k] {
			grow(p[0], p[1])
		}
		grow(e.Mean[0], e.Mean[1])
	}
	if xmin > xmax {
		return nil, fmt.Errorf("viz: scatter %q: no finite points", title)
	}
	px, py := 0.04*(xmax-xmin), 0.04*(ymax-ymin)
	present := map[int]bool{}
	for i := range x {
		if labels != nil && finite(x[i]) && finite(y[i]) {
			present[labels[i]] = true
		}
	}
	var names []string
	var cols []color.NRGBA
	if labels != nil && len(present) <= len(Palette) {
		keys := make([]int, 0, len(present))
		for l := range present {
			keys = append(keys, l)
		}
		sort.Ints(keys)
		for _, l := range keys {
			names = append(names, strconv.Itoa(l))
			cols = append(cols, paletteColor(l))
		}
	}
	f := newFrame(w, h, title, "", "", xmin-px, xmax+px, ymin-py, ymax+py)
	if names != nil {
		f.right -= legendWidth(names) + 8
	}
	f.drawAxes()
	clip := image.Rect(f.left+1, f.top+1, f.right, f.bot)
	for i := range x {
		if !finite(x[i]) || !finite(y[i]) {
			continue
		}
		c := Palette[0]
		if labels != nil {
			c = paletteColor(labels[i])
		}
		qx, qy := f.px(x[i]), f.py(y[i])
		fill(f.img, image.Rect(qx-1, qy-1, qx+2, qy+2).Intersect(clip), c)
	}
	for k, e := range ellipses {
		c := darker(paletteColor(e.Label))
		pts := curves[k]
		for i := 1; i < len(pts); i++ {
			f.line(f.px(pts[i-1][0]), f.py(pts[i-1][1]), f.px(pts[i][0]), f.py(pts[i][1]), c)
		}
		if finite(e.Mean[0]) && finite(e.Mean[1]) {
			mx, my := f.px(e.Mean[0]), f.py(e.Mean[1])
			f.line(mx-5, my, mx+5, my, black)
			f.line(mx, my-5, mx, my+5, black)
		}
	}
	f.legend(names, cols, true)
	return f.img, nil
}

// SaveScatterEllipses writes a 520×520 PNG of ScatterEllipsesImage to path.
func SaveScatterEllipses(path, title string, x, y []float64, labels []int, ellipses []Ellipse) error {
	img, err := ScatterEllipsesImage(520, 520, title, x, y, labels, ellipses)
	if err != nil {
		return err
	}
	return savePNG(path, img)
}
