package viz

import (
	"image"
	"math"
	"testing"
)

// TestEllipsePoints: the contour points lie at Mahalanobis distance R from the mean.
func TestEllipsePoints(t *testing.T) {
	e := Ellipse{Mean: [2]float64{1, -2}, Cov: [3]float64{4, 1.5, 1}, Radius: 3}
	det := 4*1 - 1.5*1.5
	for _, p := range e.points(40) {
		dx, dy := p[0]-1, p[1]+2
		// Σ⁻¹ = [[c, -b], [-b, a]] / det
		m := (1*dx*dx - 2*1.5*dx*dy + 4*dy*dy) / det
		if math.Abs(m-9) > 1e-9 {
			t.Fatalf("point %v at squared distance %v, want 9", p, m)
		}
	}
	if (Ellipse{Cov: [3]float64{1, 2, 1}}).points(8) != nil {
		t.Error("an indefinite covariance gave a contour")
	}
}

// TestScatterEllipses: the axes take in the ellipse, drawn in a darker shade of
// its label's colour, with a black cross at the mean.
func TestScatterEllipses(t *testing.T) {
	// Points near the origin; the ellipse reaches x = ±4, beyond them.
	xs, ys := []float64{-0.5, 0.5}, []float64{-0.5, 0.5}
	img, err := ScatterEllipsesImage(300, 300, "e", xs, ys, []int{1, 1}, []Ellipse{{Cov: [3]float64{4, 0, 1}, Label: 1}})
	if err != nil {
		t.Fatal(err)
	}
	dark := darker(Palette[1])
	if n := count(img, dark, img.Bounds()); n < 100 {
		t.Errorf("%d pixels of the ellipse's colour", n)
	}
	// The cross at the mean: black pixels around the plot's centre.
	b := img.Bounds()
	if n := count(img, black, image.Rect(b.Dx()/2-30, b.Dy()/2-30, b.Dx()/2+30, b.Dy()/2+30)); n < 10 {
		t.Errorf("%d black pixels near the centre", n)
	}
	if _, err := ScatterEllipsesImage(300, 300, "e", xs, ys, []int{1}, nil); err == nil {
		t.Error("wrong label count: no error")
	}
}
