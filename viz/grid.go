package viz

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"github.com/latent-ml/latent/internal/atomicfile"
	"github.com/latent-ml/latent/tensor"
)

// SeparatorColor is the colour of the 1-pixel lines between grid tiles. It is not
// a grey, so it cannot be mistaken for pixel values of grayscale images.
var SeparatorColor = color.NRGBA{R: 60, G: 90, B: 150, A: 255}

// NaNColor marks pixels whose value is NaN.
var NaNColor = color.NRGBA{R: 255, G: 0, B: 0, A: 255}

// Grid lays rows of a matrix out as a grid of images.
type Grid struct {
	Height, Width int // image size in pixels
	Channels      int // 1 (grayscale) or 3 (RGB, interleaved: row-major, channel last)
	// Cols is the number of tiles per grid row; 0 means ceil(sqrt(n)).
	Cols int
	// Scale enlarges every pixel to Scale×Scale; 0 picks the smallest scale that
	// makes a tile at least 28 pixels tall or wide (so 4×4 bars become 28×28).
	Scale int
	// Captions, when not nil, holds one short text per row (a label, say),
	// drawn under its tile.
	Captions []string
}

// SaveGrid writes the rows of x (values in [0, 1], clipped) as a PNG grid of
// height×width images with channels 1 or 3, cols tiles per row (0: square-ish).
func SaveGrid(path string, x *tensor.Mat, height, width, channels, cols int) error {
	return Grid{Height: height, Width: width, Channels: channels, Cols: cols}.Save(path, x)
}

// Image draws the grid of the rows of x.
func (g Grid) Image(x *tensor.Mat) (*image.NRGBA, error) {
	if x == nil || x.Rows == 0 {
		return nil, fmt.Errorf("viz: grid: no images to draw")
	}
	if g.Height <= 0 || g.Width <= 0 {
		return nil, fmt.Errorf("viz: grid: image size %d×%d must be positive", g.Height, g.Width)
	}
	if g.Channels != 1 && g.Channels != 3 {
		return nil, fmt.Errorf("viz: grid: channels must be 1 or 3, got %d", g.Channels)
	}
	if g.Height*g.Width*g.Channels != x.Cols {
		return nil, fmt.Errorf("viz: grid: %d×%d×%d images need %d values per row, matrix has %d",
			g.Height, g.Width, g.Channels, g.Height*g.Width*g.Channels, x.Cols)
	}
	if g.Captions != nil && len(g.Captions) != x.Rows {
		return nil, fmt.Errorf("viz: grid: %d captions for %d images", len(g.Captions), x.Rows)
	}
	n := x.Rows
	cols := g.Cols
	if cols <= 0 {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	cols = min(cols, n)
	rows := (n + cols - 1) / cols
	scale := g.Scale
	if scale <= 0 {
		scale = max(1, (28+max(g.Height, g.Width)-1)/max(g.Height, g.Width))
	}
	if scale > 64 {
		return nil, fmt.Errorf("viz: grid: scale %d is larger than 64", scale)
	}
	tw, th := g.Width*scale, g.Height*scale
	capH := 0
	if g.Captions != nil {
		capH = fontHeight + 2
		maxw := 0
		for _, c := range g.Captions {
			maxw = max(maxw, textWidth(c))
		}
		tw = max(tw, maxw+2)
	}
	W := cols*(tw+1) + 1
	H := rows*(th+capH+1) + 1
	if int64(W)*int64(H) > 1<<28 {
		return nil, fmt.Errorf("viz: grid: image of %d×%d pixels is too large", W, H)
	}
	img := image.NewNRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), SeparatorColor)
	for k := 0; k < n; k++ {
		r, c := k/cols, k%cols
		x0 := 1 + c*(tw+1)
		y0 := 1 + r*(th+capH+1)
		// Centre the image when captions made the tile wider.
		ox := x0 + (tw-g.Width*scale)/2
		if capH > 0 {
			fill(img, image.Rect(x0, y0, x0+tw, y0+th+capH), color.NRGBA{255, 255, 255, 255})
		}
		row := x.Row(k)
		for i := 0; i < g.Height; i++ {
			for j := 0; j < g.Width; j++ {
				var col color.NRGBA
				if g.Channels == 1 {
					v := row[i*g.Width+j]
					if v != v {
						col = NaNColor
					} else {
						b := to8(v)
						col = color.NRGBA{b, b, b, 255}
					}
				} else {
					p := row[(i*g.Width+j)*3:]
					if p[0] != p[0] || p[1] != p[1] || p[2] != p[2] {
						col = NaNColor
					} else {
						col = color.NRGBA{to8(p[0]), to8(p[1]), to8(p[2]), 255}
					}
				}
				px, py := ox+j*scale, y0+i*scale
				fill(img, image.Rect(px, py, px+scale, py+scale), col)
			}
		}
		if capH > 0 {
			c := g.Captions[k]
			drawText(img, x0+(tw-textWidth(c))/2, y0+th+1, c, color.NRGBA{0, 0, 0, 255})
		}
	}
	return img, nil
}

// Save writes the grid of the rows of x to path as a PNG.
func (g Grid) Save(path string, x *tensor.Mat) error {
	img, err := g.Image(x)
	if err != nil {
		return err
	}
	return savePNG(path, img)
}

// to8 maps [0, 1] to 0..255, clipping values outside.
func to8(v float32) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(v*255 + 0.5)
}

func fill(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := img.PixOffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R, c.G, c.B, c.A
			o += 4
		}
	}
}

// savePNG writes img to path through a temporary file, so a failed write never
// leaves a half-written picture under the final name.
func savePNG(path string, img image.Image) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := png.Encode(bw, img); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	return nil
}
