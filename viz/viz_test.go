package viz

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/latent-ml/latent/tensor"
)

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func rgb(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

func TestSaveGridGray(t *testing.T) {
	// Three 2×3 images; image k has value v_k(i, j) = (i*3+j)/5 except for the
	// special values below.
	x := tensor.New(3, 6)
	for k := 0; k < 3; k++ {
		for p := 0; p < 6; p++ {
			x.Set(k, p, float32(p)/5)
		}
	}
	x.Set(1, 0, -1)                  // clipped to 0
	x.Set(1, 1, 2)                   // clipped to 1
	x.Set(2, 5, float32(math.NaN())) // marked red
	path := filepath.Join(t.TempDir(), "g.png")
	if err := SaveGrid(path, x, 2, 3, 1, 2); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	// Scale: ceil(28/3) = 10, so tiles are 30×20; 2 columns, 2 rows, 1-px lines.
	const s, tw, th = 10, 30, 20
	if b := img.Bounds(); b.Dx() != 2*(tw+1)+1 || b.Dy() != 2*(th+1)+1 {
		t.Fatalf("size %v, want %dx%d", b.Size(), 2*(tw+1)+1, 2*(th+1)+1)
	}
	px := func(k, i, j int) color.NRGBA {
		r, c := k/2, k%2
		return rgb(img, 1+c*(tw+1)+j*s+s/2, 1+r*(th+1)+i*s+s/2)
	}
	for p := 0; p < 6; p++ {
		want := uint8(float64(p)/5*255 + 0.5)
		if got := px(0, p/3, p%3); got != (color.NRGBA{want, want, want, 255}) {
			t.Errorf("image 0 pixel %d = %v, want grey %d", p, got, want)
		}
	}
	if got := px(1, 0, 0); got != (color.NRGBA{0, 0, 0, 255}) {
		t.Errorf("value -1 drawn as %v, want black", got)
	}
	if got := px(1, 0, 1); got != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("value 2 drawn as %v, want white", got)
	}
	if got := px(2, 1, 2); got != NaNColor {
		t.Errorf("NaN drawn as %v, want %v", got, NaNColor)
	}
	// Separators: the border, the line between the columns, and the empty 4th slot.
	for _, p := range []image.Point{{0, 0}, {tw + 1, 5}, {5, th + 1}, {tw + 1 + 10, th + 1 + 10}} {
		if got := rgb(img, p.X, p.Y); got != SeparatorColor {
			t.Errorf("pixel %v = %v, want separator", p, got)
		}
	}
}

func TestGridRGBAndScale(t *testing.T) {
	// One 1×2 RGB image, channel last: a red pixel and a blue one.
	x := tensor.FromSlice(1, 6, []float32{1, 0, 0, 0, 0, 1})
	img, err := Grid{Height: 1, Width: 2, Channels: 3, Scale: 1}.Image(x)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 4 || b.Dy() != 3 {
		t.Fatalf("size %v, want 4x3", b.Size())
	}
	if got := img.NRGBAAt(1, 1); got != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("first pixel %v, want red", got)
	}
	if got := img.NRGBAAt(2, 1); got != (color.NRGBA{0, 0, 255, 255}) {
		t.Errorf("second pixel %v, want blue", got)
	}
	// 4×4 bars are scaled up to 28×28 tiles by default.
	img, err = Grid{Height: 4, Width: 4, Channels: 1}.Image(tensor.New(4, 16))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*29+1 || b.Dy() != 2*29+1 {
		t.Errorf("4x4 grid size %v, want 59x59", b.Size())
	}
}

func TestGridCaptions(t *testing.T) {
	x := tensor.New(2, 4)
	img, err := Grid{Height: 2, Width: 2, Channels: 1, Scale: 10, Captions: []string{"7", "cat"}}.Image(x)
	if err != nil {
		t.Fatal(err)
	}
	// Tiles grow to fit "cat" (21 px) - they are 20 wide - and get a caption row.
	if b := img.Bounds(); b.Dy() != 20+fontHeight+2+2 || b.Dx() != 2*(23+1)+1 {
		t.Errorf("size %v", b.Size())
	}
	dark := 0
	for y := 21; y < 21+fontHeight; y++ {
		for x := 1; x < 24; x++ {
			if c := img.NRGBAAt(x, y); c.R < 128 && c.G < 128 && c.B < 128 {
				dark++
			}
		}
	}
	if dark < 5 {
		t.Errorf("caption of tile 0 has %d dark pixels; text not drawn", dark)
	}
}

func TestGridErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		x       *tensor.Mat
		h, w, c int
		want    string
	}{
		{tensor.New(2, 5), 2, 2, 1, "need 4 values per row, matrix has 5"},
		{tensor.New(2, 8), 2, 2, 2, "channels must be 1 or 3, got 2"},
		{tensor.New(0, 4), 2, 2, 1, "no images"},
		{tensor.New(1, 4), 0, 4, 1, "must be positive"},
	}
	for _, c := range cases {
		err := SaveGrid(filepath.Join(dir, "x.png"), c.x, c.h, c.w, c.c, 0)
		if err == nil || !strings.HasPrefix(err.Error(), "viz: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if err := SaveGrid(filepath.Join(dir, "no", "such", "dir.png"), tensor.New(1, 4), 2, 2, 1, 0); err == nil {
		t.Error("write into a missing folder: no error")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed saves left %d files", len(ents))
	}
}

func TestNiceTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 10, []float64{0, 2, 4, 6, 8, 10}},
		{-150, -100.5, []float64{-150, -140, -130, -120, -110, -100}},
		{0.13, 0.91, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{3, 3, []float64{2.7, 2.8, 2.9, 3, 3.1, 3.2, 3.3}},
	}
	for _, c := range cases {
		got, _, _ := niceTicks(c.lo, c.hi, 6)
		ok := len(got) == len(c.want)
		for i := range got {
			if ok && math.Abs(got[i]-c.want[i]) > 1e-9 {
				ok = false
			}
		}
		if !ok {
			t.Errorf("niceTicks(%g, %g) = %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
	for v, want := range map[float64]string{0.30000000000000004: "0.3", -140: "-140", 1e6: "1e+06", 2.5e-5: "2.5e-05"} {
		if got := cleanLabel(v); got != want {
			t.Errorf("cleanLabel(%v) = %q, want %q", v, got, want)
		}
	}
}

func count(img image.Image, c color.NRGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgb(img, x, y) == c {
				n++
			}
		}
	}
	return n
}

// near reports whether a has b's hue: the line plots are anti-aliased, so a
// line's pixels are b blended with the white background. Only Palette[0]
// (blue) and Palette[1] (orange) are told apart; tol is unused by them.
func near(a, b color.NRGBA, tol int) bool {
	r, g, bl := int(a.R), int(a.G), int(a.B)
	switch b {
	case Palette[0]:
		return bl > r+40 && bl > g+20
	case Palette[1]:
		return r > bl+60 && r > g+30
	}
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

func TestLinePlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.png")
	// A flat series at y=5 and a rising one from (0,0) to (10,10), broken by a NaN.
	flat := Series{Name: "flat", X: []float64{0, 10}, Y: []float64{5, 5}}
	rise := Series{Name: "rise", X: []float64{0, 5, math.NaN(), 10}, Y: []float64{0, 5, 7, 10}}
	if err := SaveLinePlot(path, "title", "epoch", "nats", flat, rise); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 420 {
		t.Fatalf("size %v", b.Size())
	}
	// The flat series is a horizontal line: some row holds Palette[0] over most
	// of the width, and it is the row halfway between the rising series' ends.
	best, bestY := 0, 0
	for y := 0; y < 420; y++ {
		n := 0
		for x := 0; x < 640; x++ {
			if near(rgb(img, x, y), Palette[0], 30) {
				n++
			}
		}
		if n > best {
			best, bestY = n, y
		}
	}
	if best < 400 {
		t.Errorf("longest row of the flat series' colour: %d pixels", best)
	}
	// The rising series runs from the bottom-left corner of the plot area to
	// its middle (where it meets the flat line), then breaks at the NaN: no
	// orange between x≈55% and x≈95% of the width.
	var yLow, yHigh = 420, 0
	gap := 0
	for y := 0; y < 420; y++ {
		for x := 0; x < 640; x++ {
			if !near(rgb(img, x, y), Palette[1], 30) {
				continue
			}
			if x < 200 {
				yLow = min(yLow, 420-y)
				yHigh = max(yHigh, y)
			}
			if x > 380 && x < 600 && y > 60 {
				gap++
			}
		}
	}
	if yHigh < 300 {
		t.Errorf("rising series does not reach the bottom-left (lowest at y=%d)", yHigh)
	}
	if gap > 0 {
		t.Errorf("%d pixels of the rising series where its NaN should break it", gap)
	}
	// The crossing: the rising line reaches the flat line's row at mid-width.
	crossing := false
	for x := 250; x < 400; x++ {
		for y := bestY - 2; y <= bestY+2; y++ {
			crossing = crossing || near(rgb(img, x, y), Palette[1], 30)
		}
	}
	if !crossing {
		t.Error("the rising series does not meet the flat one")
	}
	if _, err := LinePlotImage(640, 420, "t", "", "", Series{X: []float64{1}, Y: nil}); err == nil || !strings.Contains(err.Error(), "1 x values and 0 y values") {
		t.Errorf("mismatched series: %v", err)
	}
	if _, err := LinePlotImage(640, 420, "t", "", ""); err == nil {
		t.Error("no series: no error")
	}
	if _, err := LinePlotImage(640, 420, "t", "", "", Series{X: []float64{math.NaN()}, Y: []float64{1}}); err == nil || !strings.Contains(err.Error(), "no finite points") {
		t.Errorf("no finite points: %v", err)
	}
}

func TestLinePlotSVG(t *testing.T) {
	b, err := LinePlotSVG(400, 300, "loss", "epoch", "nats", Series{Name: "train", X: []float64{1, 2, 3}, Y: []float64{3, 2, 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"<svg", "loss", "epoch", "nats", "train", "</svg>", "Arial"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	// One polyline path for the series, in Palette[0].
	if !strings.Contains(strings.ToLower(s), "stroke:#1f77b4") {
		t.Errorf("SVG has no stroke in Palette[0]")
	}
}

func TestScatter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.png")
	// Label 0 at the bottom-left corner, label 1 at the top-right corner.
	if err := SaveScatter(path, "codes", []float64{0, 1}, []float64{0, 1}, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	if b := img.Bounds(); b.Dx() != 520 || b.Dy() != 520 {
		t.Fatalf("size %v", b.Size())
	}
	// Each point is a 3×3 square; the legend (with swatches of the same
	// colours) lies right of the plot area, beyond x = 440.
	c0 := count(img, Palette[0], image.Rect(0, 260, 260, 520))
	c1 := count(img, Palette[1], image.Rect(260, 0, 440, 260))
	if c0 != 9 || c1 != 9 {
		t.Errorf("label 0 pixels in the lower left: %d, label 1 in the upper right: %d", c0, c1)
	}
	if n := count(img, Palette[1], image.Rect(0, 260, 260, 520)); n != 0 {
		t.Errorf("label 1 colour in the lower left: %d pixels", n)
	}
	// Labels 3 and 13 share a colour (10-colour palette).
	xs, ys := []float64{0, 0.5, 1}, []float64{0, 0.5, 1}
	a, err := ScatterImage(200, 200, "", xs, ys, []int{3, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ScatterImage(200, 200, "", xs, ys, []int{13, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	// Legends differ ("3" vs "3, 13"), the points do not: compare the lower half.
	low := image.Rect(0, 100, 200, 200)
	if count(a, Palette[3], low) != count(b, Palette[3], low) || count(a, Palette[3], low) == 0 {
		t.Error("label 13 is not drawn in label 3's colour")
	}
	if _, err := ScatterImage(200, 200, "", xs, ys, []int{1}); err == nil || !strings.Contains(err.Error(), "1 labels for 3 points") {
		t.Errorf("wrong label count: %v", err)
	}
	if _, err := ScatterImage(200, 200, "", []float64{math.NaN()}, []float64{1}, nil); err == nil {
		t.Error("no finite points: no error")
	}
	if !reflect.DeepEqual(len(Palette), 10) {
		t.Error("palette must have 10 colours")
	}
}

// TestSaveMissingFolder checks that a PNG in a folder that does not exist, or a
// folder given as the file, fails with an error naming the path and not the
// temporary file.
func TestSaveMissingFolder(t *testing.T) {
	dir := t.TempDir()
	x := tensor.New(1, 4)
	missing := filepath.Join(dir, "nodir", "g.png")
	want := "viz: " + missing + ": folder " + filepath.Join(dir, "nodir") + " does not exist"
	if err := SaveGrid(missing, x, 2, 2, 1, 0); err == nil || err.Error() != want {
		t.Errorf("SaveGrid(missing folder): %v, want %q", err, want)
	}
	if err := SaveGrid(dir, x, 2, 2, 1, 0); err == nil || !strings.Contains(err.Error(), dir+": is a folder") {
		t.Errorf("SaveGrid(folder): %v", err)
	}
}
