// Package viz draws the pictures latent leaves behind: PNG grids of examples or
// samples, line plots of training curves, and scatter plots of 2-D latent codes.
// Grids and scatter plots are drawn with the standard library's image package
// and golang.org/x/image/font/basicfont; line plots with gonum.org/v1/plot, as
// PNG for files and SVG for the HTML training report, in Liberation Sans.
// Nothing needs cgo or a display.
package viz
