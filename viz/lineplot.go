package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// LinePlot returns a gonum plot of series as lines (non-finite points break a
// line), coloured through Palette, with a title, axis labels and a legend of the
// named series. It is an error to pass no series, a series whose X and Y
// differ in length, or no finite point at all.
func LinePlot(title, xlabel, ylabel string, series ...Series) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("viz: line plot %q: no series", title)
	}
	points := 0
	for _, s := range series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("viz: line plot %q: series %q has %d x values and %d y values", title, s.Name, len(s.X), len(s.Y))
		}
		for i := range s.X {
			if finite(s.X[i]) && finite(s.Y[i]) {
				points++
			}
		}
	}
	if points == 0 {
		return nil, fmt.Errorf("viz: line plot %q: no finite points", title)
	}
	p := plot.New()
	sans(p)
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = plot.TickerFunc(ticks)
	if integerX(series) { // epochs, iterations: no label at 1.5
		p.X.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
			t := ticks(lo, hi)
			for i := range t {
				if t[i].Value != math.Trunc(t[i].Value) {
					t[i].Label = ""
				}
			}
			return t
		})
	}
	p.Y.Tick.Marker = plot.TickerFunc(ticks)
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	named := 0
	for k, s := range series {
		c := Palette[k%len(Palette)]
		var first *plotter.Line
		for _, seg := range segments(s) {
			var err error
			var l *plotter.Line
			var sc *plotter.Scatter
			if len(seg) == 1 { // a lone point is drawn as a dot
				if sc, err = plotter.NewScatter(seg); err != nil {
					return nil, fmt.Errorf("viz: line plot %q: %w", title, err)
				}
				sc.GlyphStyle.Color = c
				sc.GlyphStyle.Shape = vgdraw.CircleGlyph{}
				sc.GlyphStyle.Radius = vg.Points(2)
				p.Add(sc)
				continue
			}
			if l, err = plotter.NewLine(seg); err != nil {
				return nil, fmt.Errorf("viz: line plot %q: %w", title, err)
			}
			l.LineStyle.Color = c
			l.LineStyle.Width = vg.Points(1.5)
			p.Add(l)
			if first == nil {
				first = l
			}
		}
		if s.Name != "" {
			if first == nil {
				first = &plotter.Line{LineStyle: vgdraw.LineStyle{Color: c, Width: vg.Points(1.5)}}
			}
			p.Legend.Add(s.Name, first)
			named++
		}
	}
	if named > 0 { // head-room above the data for the legend
		ymin, ymax := math.Inf(1), math.Inf(-1)
		for _, s := range series {
			for i := range s.Y {
				if finite(s.X[i]) && finite(s.Y[i]) {
					ymin, ymax = math.Min(ymin, s.Y[i]), math.Max(ymax, s.Y[i])
				}
			}
		}
		if r := ymax - ymin; r > 0 {
			p.Y.Max = ymax + 0.06*float64(named+1)*r
		}
	}
	return p, nil
}

// segments splits s at its non-finite points.
func segments(s Series) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range s.X {
		if !finite(s.X[i]) || !finite(s.Y[i]) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, plotter.XY{X: s.X[i], Y: s.Y[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// LinePlotImage draws a LinePlot on a w×h image (one pixel a point).
func LinePlotImage(w, h int, title, xlabel, ylabel string, series ...Series) (*image.NRGBA, error) {
	p, err := LinePlot(title, xlabel, ylabel, series...)
	if err != nil {
		return nil, err
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(72), vgimg.UseBackgroundColor(color.White))
	p.Draw(vgdraw.New(c))
	src := c.Image()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Src)
	return img, nil
}

// WriteLinePlotSVG writes a LinePlot as a w×h (points) SVG document to out.
func WriteLinePlotSVG(out io.Writer, w, h int, title, xlabel, ylabel string, series ...Series) error {
	p, err := LinePlot(title, xlabel, ylabel, series...)
	if err != nil {
		return err
	}
	c := vgsvg.NewWith(vgsvg.UseWH(vg.Length(w), vg.Length(h)))
	p.Draw(vgdraw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return fmt.Errorf("viz: line plot %q: %w", title, err)
	}
	// Liberation Sans has Arial's metrics: a browser without it falls back to
	// a face of the same widths.
	svg := bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	if _, err := out.Write(svg); err != nil {
		return fmt.Errorf("viz: line plot %q: %w", title, err)
	}
	return nil
}

// LinePlotSVG returns WriteLinePlotSVG's document.
func LinePlotSVG(w, h int, title, xlabel, ylabel string, series ...Series) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteLinePlotSVG(&b, w, h, title, xlabel, ylabel, series...); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SaveLinePlot writes a 640×420 PNG line plot of series to path, atomically.
func SaveLinePlot(path, title, xlabel, ylabel string, series ...Series) error {
	img, err := LinePlotImage(640, 420, title, xlabel, ylabel, series...)
	if err != nil {
		return err
	}
	return savePNG(path, img)
}

// sans sets every text of p in Liberation Sans, the title larger and padded.
func sans(p *plot.Plot) {
	f := font.Font{Typeface: "Liberation", Variant: "Sans"}
	set := func(st *text.Style, size vg.Length) { st.Font = font.From(f, size) }
	set(&p.Title.TextStyle, 14)
	p.Title.Padding = vg.Points(6)
	set(&p.X.Label.TextStyle, 12)
	set(&p.Y.Label.TextStyle, 12)
	set(&p.X.Tick.Label, 10)
	set(&p.Y.Tick.Label, 10)
	set(&p.Legend.TextStyle, 11)
	p.Legend.XOffs = -vg.Points(6)
	p.Legend.YOffs = -vg.Points(4)
}

// ticks marks about five round values in [lo, hi] (those of niceTicks),
// labelled as short as keeps them distinct, with four minor ticks between.
func ticks(lo, hi float64) []plot.Tick {
	major, _, _ := niceTicks(lo, hi, 5)
	var out []plot.Tick
	step := 0.0
	if len(major) > 1 {
		step = major[1] - major[0]
	}
	for i, v := range major {
		if v >= lo-1e-9*math.Abs(step) && v <= hi+1e-9*math.Abs(step) {
			out = append(out, plot.Tick{Value: v, Label: cleanLabel(v)})
		}
		if i+1 < len(major) {
			for k := 1; k < 5; k++ {
				if m := v + float64(k)*step/5; m >= lo && m <= hi {
					out = append(out, plot.Tick{Value: m})
				}
			}
		}
	}
	return out
}

// integerX reports whether every finite x of series is a whole number.
func integerX(series []Series) bool {
	for _, s := range series {
		for _, x := range s.X {
			if finite(x) && x != math.Trunc(x) {
				return false
			}
		}
	}
	return true
}
