// Package viz draws the pictures latent leaves behind: PNG grids of examples or
// samples, line plots of training curves, and scatter plots of 2-D latent codes.
// Everything is drawn with the standard library's image package and
// golang.org/x/image/font/basicfont; nothing needs cgo or a display.
package viz
