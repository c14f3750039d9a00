package sweep

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/latent-ml/latent/internal/atomicfile"
	"github.com/latent-ml/latent/ising"
)

// numeric returns row r's column c as a number.
func numeric(r Row, c string) (float64, bool) {
	v, ok := r.Cells[c].(float64)
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// DefaultX returns the first axis with two or more distinct numeric values,
// or "" when there is none.
func (t *Table) DefaultX() string {
	for _, a := range t.Axes {
		seen := map[float64]bool{}
		for _, r := range t.Rows {
			if v, ok := numeric(r, a); ok {
				seen[v] = true
			}
		}
		if len(seen) >= 2 {
			return a
		}
	}
	return ""
}

// series splits the rows into groups that share the values of every varying
// axis but x, labelled "seed=1 L=8" ("" when only x varies), in order of first
// appearance.
func (t *Table) series(x string) (labels []string, groups [][]Row) {
	var vary []string
	for _, a := range t.Axes {
		if a == x {
			continue
		}
		first, varies := "", false
		for i, r := range t.Rows {
			s := cellText(r.Cells[a], false)
			if i == 0 {
				first = s
			} else if s != first {
				varies = true
			}
		}
		if varies {
			vary = append(vary, a)
		}
	}
	at := map[string]int{}
	for _, r := range t.Rows {
		var parts []string
		for _, a := range vary {
			parts = append(parts, a+"="+cellText(r.Cells[a], false))
		}
		key := strings.Join(parts, " ")
		i, ok := at[key]
		if !ok {
			i = len(labels)
			at[key] = i
			labels = append(labels, key)
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return labels, groups
}

// points returns (x, y) of the rows that have both as numbers, sorted by x.
func points(rows []Row, x, y string) plotter.XYs {
	var xy plotter.XYs
	for _, r := range rows {
		xv, ok1 := numeric(r, x)
		yv, ok2 := numeric(r, y)
		if ok1 && ok2 {
			xy = append(xy, plotter.XY{X: xv, Y: yv})
		}
	}
	sort.SliceStable(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
	return xy
}

// addSeries draws xy as points joined by a line, in color i, with a legend entry.
func addSeries(p *plot.Plot, xy plotter.XYs, i int, shape int, label string) error {
	if len(xy) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	c := plotutil.Color(i)
	l.Color = c
	s.Color = c
	s.Shape = plotutil.Shape(shape)
	s.Radius = vg.Points(3)
	p.Add(l, s)
	if label != "" {
		p.Legend.Add(label, l, s)
	}
	return nil
}

// WritePlot draws each column of ys against column x, one panel each, one
// series per combination of the other varying axes, as a PNG.
func (t *Table) WritePlot(w io.Writer, x string, ys []string) error {
	if t.Column(x) < 0 {
		return fmt.Errorf("--x: no column %q (columns: %s)", x, strings.Join(t.Columns, ", "))
	}
	if len(ys) == 0 {
		return fmt.Errorf("--plot: name a result column to plot")
	}
	labels, groups := t.series(x)
	var panels [][]*plot.Plot
	for _, y := range ys {
		if t.Column(y) < 0 {
			return fmt.Errorf("--plot: no column %q (columns: %s)", y, strings.Join(t.Columns, ", "))
		}
		p := plot.New()
		p.X.Label.Text, p.Y.Label.Text = x, y
		p.Add(plotter.NewGrid())
		n := 0
		for gi, rows := range groups {
			xy := points(rows, x, y)
			n += len(xy)
			if err := addSeries(p, xy, gi, gi, labels[gi]); err != nil {
				return err
			}
		}
		if n == 0 {
			return fmt.Errorf("--plot: no run has numbers in both %q and %q", x, y)
		}
		p.Legend.Top = true
		panels = append(panels, []*plot.Plot{p})
	}
	return render(w, panels, 7*vg.Inch, vg.Length(len(ys))*3.5*vg.Inch)
}

// render draws a grid of panels (rows of columns) as one PNG.
func render(w io.Writer, panels [][]*plot.Plot, width, height vg.Length) error {
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: len(panels[0]),
		PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(panels, tiles, dc)
	for i := range panels {
		for j := range panels[i] {
			if panels[i][j] != nil {
				panels[i][j].Draw(canvases[i][j])
			}
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// IsingStep returns the step prefix ("eval") whose results hold the Ising
// observables of rbm's eval (ising.model.energy, ...), or "" when none does.
func (t *Table) IsingStep() string {
	for _, c := range t.Columns {
		if p, ok := strings.CutSuffix(c, ".ising.model.energy"); ok {
			return p
		}
	}
	return ""
}

// IsingObservables are the four panels of the Ising plot: the key under
// ising.model and ising.data, and its label.
var IsingObservables = []struct{ Key, Label string }{
	{"energy", "energy per spin E/N"},
	{"abs_mag", "magnetisation ⟨|m|⟩"},
	{"specific_heat", "specific heat C/N"},
	{"susceptibility", "susceptibility χ"},
}

// OnsagerSpecificHeat returns the exact specific heat per spin of the
// infinite lattice (J = k_B = 1), with K = 1/T and κ = 2 sinh 2K / cosh² 2K:
//
//	c = (4/π) (K coth 2K)² {K₁(κ) − E₁(κ) − (1 − tanh² 2K) [π/2 + (2 tanh² 2K − 1) K₁(κ)]}
//
// where K₁ and E₁ are the complete elliptic integrals of the first and second
// kind of modulus κ (Onsager 1944; see Huang, Statistical Mechanics, ch. 15).
// It diverges logarithmically at T_c. Checked against the derivative of
// ising.Onsager by finite differences.
func OnsagerSpecificHeat(T float64) float64 {
	K := 1 / T
	t2 := math.Pow(math.Tanh(2*K), 2)
	kappa := 2 * math.Sinh(2*K) / math.Pow(math.Cosh(2*K), 2)
	m := kappa * kappa
	if m >= 1 {
		return math.Inf(1)
	}
	k1, e1 := mathext.CompleteK(m), mathext.CompleteE(m)
	a := K / math.Tanh(2*K)
	return 4 / math.Pi * a * a * (k1 - e1 - (1-t2)*(math.Pi/2+(2*t2-1)*k1))
}

// WriteIsingPlot draws the Ising scan: energy per spin, ⟨|m|⟩, specific heat
// and susceptibility against T, the model's samples and the data's (one
// series per combination of the other varying axes), with Onsager's exact
// curves for the infinite lattice (energy, spontaneous magnetisation, specific
// heat; there is no closed form for χ) and T_c marked.
func (t *Table) WriteIsingPlot(w io.Writer) error {
	step := t.IsingStep()
	if step == "" {
		return fmt.Errorf("no run's results hold Ising observables (eval of an rbm on ising:... data with --json)")
	}
	x := step + ".ising.T"
	labels, groups := t.series(t.DefaultX())
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range t.Rows {
		if v, ok := numeric(r, x); ok {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if math.IsInf(lo, 0) {
		return fmt.Errorf("no run has finished its %s step", step)
	}
	pad := max(0.05*(hi-lo), 0.05)
	lo, hi = lo-pad, hi+pad
	panels := [][]*plot.Plot{{nil, nil}, {nil, nil}}
	for k, obs := range IsingObservables {
		p := plot.New()
		p.X.Label.Text, p.Y.Label.Text = "T", obs.Label
		p.Add(plotter.NewGrid())
		var ymax float64
		for gi, rows := range groups {
			suffix := ""
			if labels[gi] != "" {
				suffix = " " + labels[gi]
			}
			model := points(rows, x, step+".ising.model."+obs.Key)
			data := points(rows, x, step+".ising.data."+obs.Key)
			for _, q := range append(model, data...) {
				ymax = max(ymax, q.Y)
			}
			if err := addSeries(p, model, 2*gi, 0, "model"+suffix); err != nil {
				return err
			}
			if err := addSeries(p, data, 2*gi+1, 2, "data"+suffix); err != nil {
				return err
			}
		}
		var exact func(float64) float64
		switch obs.Key {
		case "energy":
			exact = ising.Onsager
		case "abs_mag":
			exact = ising.OnsagerMag
		case "specific_heat":
			exact = OnsagerSpecificHeat
		}
		if exact != nil {
			var xy plotter.XYs
			capY := math.Inf(1)
			if obs.Key == "specific_heat" {
				capY = 1.3*ymax + 0.1
			}
			for i := 0; i <= 400; i++ {
				T := lo + (hi-lo)*float64(i)/400
				if v := exact(T); v <= capY && math.Abs(T-ising.Tc) > 1e-3 {
					xy = append(xy, plotter.XY{X: T, Y: v})
				}
			}
			if len(xy) > 0 {
				l, err := plotter.NewLine(xy)
				if err != nil {
					return err
				}
				l.Color = color.Gray{Y: 60}
				l.Width = vg.Points(1)
				p.Add(l)
				p.Legend.Add("Onsager (L=∞)", l)
			}
		}
		p.X.Min, p.X.Max = lo, hi
		if ising.Tc > lo && ising.Tc < hi {
			tc, err := plotter.NewLine(plotter.XYs{{X: ising.Tc, Y: p.Y.Min}, {X: ising.Tc, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			tc.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			tc.Color = color.RGBA{R: 200, A: 255}
			p.Add(tc)
			p.Legend.Add(fmt.Sprintf("T_c = %.4f", ising.Tc), tc)
		}
		p.Legend.Top = obs.Key != "energy"
		p.Legend.Left = obs.Key == "abs_mag"
		if obs.Key == "abs_mag" {
			p.Legend.Top = false
		}
		panels[k/2][k%2] = p
	}
	return render(w, panels, 10*vg.Inch, 7.5*vg.Inch)
}

// WritePNG writes a file (a plot, a table) to path atomically.
func WritePNG(path string, draw func(io.Writer) error) error {
	return atomicfile.Write(path, draw)
}
