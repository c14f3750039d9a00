package viz

import (
	"image"
	"image/color"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

const fontHeight = 13 // basicfont.Face7x13

func textWidth(s string) int {
	return font.MeasureString(basicfont.Face7x13, s).Ceil()
}

// drawText draws s with its top-left corner at (x, y).
func drawText(img *image.NRGBA, x, y int, s string, c color.NRGBA) {
	d := font.Drawer{
		Dst:  img,
		Src:  image.NewUniform(c),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, y+basicfont.Face7x13.Ascent),
	}
	d.DrawString(s)
}

// drawTextUp draws s rotated 90° counter-clockwise (reading bottom to top), with
// the top-left corner of its bounding box at (x, y).
func drawTextUp(img *image.NRGBA, x, y int, s string, c color.NRGBA) {
	w := textWidth(s)
	tmp := image.NewNRGBA(image.Rect(0, 0, w, fontHeight))
	drawText(tmp, 0, 0, s, c)
	for ty := 0; ty < fontHeight; ty++ {
		for tx := 0; tx < w; tx++ {
			p := tmp.NRGBAAt(tx, ty)
			if p.A == 0 {
				continue
			}
			// (tx, ty) -> (ty, w-1-tx)
			img.SetNRGBA(x+ty, y+w-1-tx, p)
		}
	}
}
