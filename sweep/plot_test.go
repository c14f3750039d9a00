package sweep

import (
	"bytes"
	"image/png"
	"math"
	"testing"

	"github.com/latent-ml/latent/ising"
)

// Onsager's specific heat is the temperature derivative of his energy per
// spin (ising.Onsager): checked by central differences away from T_c.
func TestOnsagerSpecificHeat(t *testing.T) {
	for _, T := range []float64{1.0, 1.5, 2.0, 2.2, 2.35, 2.5, 3.0, 4.0, 6.0} {
		const h = 1e-4
		fd := (ising.Onsager(T+h) - ising.Onsager(T-h)) / (2 * h)
		if c := OnsagerSpecificHeat(T); math.Abs(c-fd) > 1e-5*max(1, c) {
			t.Errorf("c(%v) = %.8f, du/dT by finite differences %.8f", T, c, fd)
		}
	}
	if c := OnsagerSpecificHeat(ising.Tc); !math.IsInf(c, 1) && c < 10 {
		t.Errorf("c(T_c) = %v, want a divergence", c)
	}
}

// A table with Ising observables draws the four-panel plot; one without does not.
func TestWriteIsingPlot(t *testing.T) {
	tab := &Table{Axes: []string{"T", "seed"}, Columns: []string{ColRun, "T", "seed", ColState, "eval.ising.T"}}
	for i, T := range []float64{1.5, 2.0, 2.5, 3.0} {
		for seed := 1.0; seed <= 2; seed++ {
			cells := map[string]any{"T": T, "seed": seed, "eval.ising.T": T}
			for _, o := range IsingObservables {
				cells["eval.ising.model."+o.Key] = ising.Onsager(T) + 0.01*seed
				cells["eval.ising.data."+o.Key] = ising.Onsager(T)
			}
			tab.Rows = append(tab.Rows, Row{Index: i, State: Done, Cells: cells})
		}
	}
	for _, o := range IsingObservables {
		tab.Columns = append(tab.Columns, "eval.ising.model."+o.Key, "eval.ising.data."+o.Key)
	}
	if tab.IsingStep() != "eval" || tab.DefaultX() != "T" {
		t.Fatalf("IsingStep %q, DefaultX %q", tab.IsingStep(), tab.DefaultX())
	}
	labels, groups := tab.series("T")
	if len(labels) != 2 || labels[1] != "seed=2" || len(groups[1]) != 4 {
		t.Errorf("series %q %v", labels, groups)
	}
	var b bytes.Buffer
	if err := tab.WriteIsingPlot(&b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil || img.Bounds().Dx() < 500 {
		t.Fatalf("ising plot: %v", err)
	}
	b.Reset()
	if err := tab.WritePlot(&b, "T", []string{"eval.ising.model.energy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Fatal(err)
	}
	if err := tab.WritePlot(&b, "T", []string{"nope"}); err == nil {
		t.Error("plot of a missing column")
	}
	empty := &Table{Axes: []string{"T"}, Columns: []string{ColRun, "T"}}
	if err := empty.WriteIsingPlot(&b); err == nil {
		t.Error("Ising plot without Ising results")
	}
}
