package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"
)

// Series is one curve of a line plot.
type Series struct {
	Name string
	X, Y []float64
}

// Palette is the colour cycle for series and labels (matplotlib's tab10).
var Palette = []color.NRGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

var (
	white = color.NRGBA{255, 255, 255, 255}
	black = color.NRGBA{0, 0, 0, 255}
	grid  = color.NRGBA{225, 225, 225, 255}
)

// frame is a plot area with data-to-pixel mapping.
type frame struct {
	img                   *image.NRGBA
	left, top, right, bot int // plot area in pixels
	x0, x1, y0, y1        float64
	xticks, yticks        []float64
	xlabelFmt, ylabelFmt  int
	title, xlabel, ylabel string
}

func (f *frame) px(x float64) int {
	return f.left + int(math.Round((x-f.x0)/(f.x1-f.x0)*float64(f.right-f.left)))
}

func (f *frame) py(y float64) int {
	return f.bot - int(math.Round((y-f.y0)/(f.y1-f.y0)*float64(f.bot-f.top)))
}

// niceTicks returns about n round tick values covering [lo, hi] and the widened
// range [lo', hi'] that starts and ends on ticks.
func niceTicks(lo, hi float64, n int) (ticks []float64, a, b float64) {
	if !(hi > lo) {
		d := math.Max(math.Abs(lo)*0.1, 1e-9)
		if lo == 0 {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	a = math.Floor(lo/step) * step
	b = math.Ceil(hi/step) * step
	for i := 0; ; i++ {
		t := a + float64(i)*step
		if t > b+step*1e-9 {
			break
		}
		if math.Abs(t) < step*1e-9 {
			t = 0
		}
		ticks = append(ticks, t)
	}
	return ticks, a, b
}

func tickLabel(v float64) string {
	if v == 0 {
		return "0"
	}
	av := math.Abs(v)
	if av >= 1e5 || av < 1e-3 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func cleanLabel(v float64) string {
	// Round away float noise such as 0.30000000000000004.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 10, 64), 64)
	return tickLabel(r)
}

func newFrame(w, h int, title, xlabel, ylabel string, xmin, xmax, ymin, ymax float64) *frame {
	f := &frame{img: image.NewNRGBA(image.Rect(0, 0, w, h)), title: title, xlabel: xlabel, ylabel: ylabel}
	fill(f.img, f.img.Bounds(), white)
	f.xticks, f.x0, f.x1 = niceTicks(xmin, xmax, 6)
	f.yticks, f.y0, f.y1 = niceTicks(ymin, ymax, 6)
	ylw := 0
	for _, t := range f.yticks {
		ylw = max(ylw, textWidth(cleanLabel(t)))
	}
	f.left = 8 + ylw + 6
	if ylabel != "" {
		f.left += fontHeight + 4
	}
	f.top = 10
	if title != "" {
		f.top += fontHeight + 6
	}
	f.right = w - 16
	f.bot = h - (fontHeight + 12)
	if xlabel != "" {
		f.bot -= fontHeight + 4
	}
	return f
}

// drawAxes draws grid lines, ticks, tick labels, axis labels and the title.
func (f *frame) drawAxes() {
	img := f.img
	for _, t := range f.xticks {
		x := f.px(t)
		vline(img, x, f.top, f.bot, grid)
		vline(img, x, f.bot, f.bot+4, black)
		s := cleanLabel(t)
		drawText(img, x-textWidth(s)/2, f.bot+6, s, black)
	}
	for _, t := range f.yticks {
		y := f.py(t)
		hline(img, f.left, f.right, y, grid)
		hline(img, f.left-4, f.left, y, black)
		s := cleanLabel(t)
		drawText(img, f.left-6-textWidth(s), y-fontHeight/2-1, s, black)
	}
	hline(img, f.left, f.right, f.bot, black)
	hline(img, f.left, f.right, f.top, black)
	vline(img, f.left, f.top, f.bot, black)
	vline(img, f.right, f.top, f.bot, black)
	W, H := img.Bounds().Dx(), img.Bounds().Dy()
	if f.title != "" {
		drawText(img, (W-textWidth(f.title))/2, 6, f.title, black)
	}
	if f.xlabel != "" {
		drawText(img, (f.left+f.right-textWidth(f.xlabel))/2, H-fontHeight-4, f.xlabel, black)
	}
	if f.ylabel != "" {
		drawTextUp(img, 4, (f.top+f.bot-textWidth(f.ylabel))/2, f.ylabel, black)
	}
}

func legendWidth(names []string) int {
	w := 0
	for _, n := range names {
		w = max(w, textWidth(n))
	}
	return w + 30
}

// legend draws names with colour swatches in the top-right corner of the plot
// area, or right of it when outside is set.
func (f *frame) legend(names []string, colors []color.NRGBA, outside bool) {
	if len(names) == 0 {
		return
	}
	bw, bh := legendWidth(names), len(names)*(fontHeight+3)+6
	x0, y0 := f.right-bw-6, f.top+6
	if outside {
		x0, y0 = f.right+8, f.top
	}
	fill(f.img, image.Rect(x0, y0, x0+bw, y0+bh), white)
	rect(f.img, image.Rect(x0, y0, x0+bw, y0+bh), color.NRGBA{160, 160, 160, 255})
	for i, n := range names {
		y := y0 + 4 + i*(fontHeight+3)
		fill(f.img, image.Rect(x0+5, y+4, x0+20, y+fontHeight-3), colors[i])
		drawText(f.img, x0+24, y, n, black)
	}
}

func hline(img *image.NRGBA, x0, x1, y int, c color.NRGBA) {
	fill(img, image.Rect(x0, y, x1+1, y+1), c)
}

func vline(img *image.NRGBA, x, y0, y1 int, c color.NRGBA) {
	fill(img, image.Rect(x, y0, x+1, y1+1), c)
}

func rect(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	hline(img, r.Min.X, r.Max.X-1, r.Min.Y, c)
	hline(img, r.Min.X, r.Max.X-1, r.Max.Y-1, c)
	vline(img, r.Min.X, r.Min.Y, r.Max.Y-1, c)
	vline(img, r.Max.X-1, r.Min.Y, r.Max.Y-1, c)
}

// line draws a 2-pixel-wide segment, clipped to the plot area.
func (f *frame) line(x0, y0, x1, y1 int, c color.NRGBA) {
	clip := image.Rect(f.left, f.top, f.right+1, f.bot+1)
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		for _, p := range [...]image.Point{{x0, y0}, {x0 + 1, y0}, {x0, y0 + 1}, {x0 + 1, y0 + 1}} {
			if p.In(clip) {
				f.img.SetNRGBA(p.X, p.Y, c)
			}
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

func sign(a int) int {
	switch {
	case a > 0:
		return 1
	case a < 0:
		return -1
	}
	return 0
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ScatterImage draws the points (x[i], y[i]) on a w×h image, coloured by
// labels[i] through Palette (labels may be nil: one colour), with a legend of
// the labels present when there are at most len(Palette) of them.
func ScatterImage(w, h int, title string, x, y []float64, labels []int) (*image.NRGBA, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("viz: scatter %q: %d x values and %d y values", title, len(x), len(y))
	}
	if labels != nil && len(labels) != len(x) {
		return nil, fmt.Errorf("viz: scatter %q: %d labels for %d points", title, len(labels), len(x))
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range x {
		if finite(x[i]) && finite(y[i]) {
			xmin, xmax = math.Min(xmin, x[i]), math.Max(xmax, x[i])
			ymin, ymax = math.Min(ymin, y[i]), math.Max(ymax, y[i])
		}
	}
	if xmin > xmax {
		return nil, fmt.Errorf("viz: scatter %q: no finite points", title)
	}
	// Pad the range by 4% so that no point sits on the frame.
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
			cols = append(cols, Palette[((l%len(Palette))+len(Palette))%len(Palette)])
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
			c = Palette[((labels[i]%len(Palette))+len(Palette))%len(Palette)]
		}
		px, py := f.px(x[i]), f.py(y[i])
		fill(f.img, image.Rect(px-1, py-1, px+2, py+2).Intersect(clip), c)
	}
	f.legend(names, cols, true)
	return f.img, nil
}

// SaveScatter writes a 520×520 PNG scatter plot of (x[i], y[i]) coloured by
// labels[i] (nil: one colour) to path.
func SaveScatter(path, title string, x, y []float64, labels []int) error {
	img, err := ScatterImage(520, 520, title, x, y, labels)
	if err != nil {
		return err
	}
	return savePNG(path, img)
}
