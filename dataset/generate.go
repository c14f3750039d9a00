package dataset

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/ising"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// loadIsing handles "ising:L=16,T=2.27,n=20000[,burn=500,every=2,method=mixed,seed=S]":
// n configurations of the L×L periodic Ising model at temperature T (see
// package ising), drawn after burn steps and every `every` steps. A spin up
// is 1 and a spin down 0 in X (x = (s+1)/2), so Binary is true; Factors holds
// each configuration's energy per spin E/N and magnetisation per spin M/N.
func loadIsing(sp *Spec, opt Options) (*Dataset, error) {
	if sp.Arg != "" {
		return nil, fmt.Errorf("dataset: ising: unexpected %q (options are key=value, e.g. ising:L=16,T=2.27,n=20000)", sp.Arg)
	}
	if err := sp.checkOpts("L", "T", "n", "burn", "every", "method", "seed"); err != nil {
		return nil, err
	}
	L, err := sp.intOpt("L", 16, 2, 256)
	if err != nil {
		return nil, err
	}
	T, err := sp.floatOpt("T", 2.27, 1e-3, 1e6)
	if err != nil {
		return nil, err
	}
	n, err := sp.intOpt("n", 10000, 1, 1<<26/(L*L))
	if err != nil {
		return nil, err
	}
	burn, err := sp.intOpt("burn", 500, 0, 1<<24)
	if err != nil {
		return nil, err
	}
	every, err := sp.intOpt("every", 2, 1, 1<<20)
	if err != nil {
		return nil, err
	}
	method := ising.Mixed
	switch m := sp.Opts["method"]; m {
	case "", "mixed":
	case "metropolis":
		method = ising.Metropolis
	case "wolff":
		method = ising.Wolff
	default:
		return nil, fmt.Errorf("dataset: ising: option method=%q: want mixed, metropolis or wolff", m)
	}
	seed, err := sp.seed(opt)
	if err != nil {
		return nil, err
	}
	smp, err := ising.Sample(L, T, n, burn, every, method, rng.New(seed))
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	N := L * L
	x := tensor.New(n, N)
	for i, s := range smp.Spins {
		x.Data[i] = float32(s+1) / 2
	}
	f := tensor.New(n, 2)
	for i := 0; i < n; i++ {
		f.Set(i, 0, float32(float64(smp.Energy[i])/float64(N)))
		f.Set(i, 1, float32(float64(smp.Mag[i])/float64(N)))
	}
	return &Dataset{X: x, Height: L, Width: L, Channels: 1, Binary: true,
		Factors: f, FactorNames: []string{"energy_per_spin", "magnetization"}}, nil
}

// Shape classes of the shapes data set.
const (
	ShapeSquare = iota
	ShapeEllipse
	ShapeTriangle
)

// ShapeNames names the classes of Shapes.
var ShapeNames = []string{"square", "ellipse", "triangle"}

// Shapes draws n size×size grey images of one white shape each on black: a
// square, an ellipse (axes 1 and 0.6 of its scale) or an equilateral triangle
// (circumradius = scale), with class, centre, scale and rotation drawn
// uniformly: scale in [0.14, 0.28]·size, angle in [0, 2π), and the centre
// where the whole shape stays inside the image with a one-pixel margin. Pixels are the covered
// fraction of 4×4 sub-samples. Labels are the class; Factors holds x and y of
// the centre (pixels), the scale (pixels) and the angle (radians).
func Shapes(n, size int, s *rng.Stream) *Dataset {
	x := tensor.New(n, size*size)
	f := tensor.New(n, 4)
	labels := make([]int, n)
	const sub = 4
	for i := 0; i < n; i++ {
		cls := s.IntN(3)
		sc := float64(size) * (0.14 + 0.14*s.Float64())
		ang := 2 * math.Pi * s.Float64()
		reach := sc // circumradius of the shape
		if cls == ShapeSquare {
			reach = sc * math.Sqrt2
		}
		lo, hi := reach+1, float64(size)-reach-1
		cx := lo + (hi-lo)*s.Float64()
		cy := lo + (hi-lo)*s.Float64()
		labels[i] = cls
		f.Set(i, 0, float32(cx))
		f.Set(i, 1, float32(cy))
		f.Set(i, 2, float32(sc))
		f.Set(i, 3, float32(ang))
		cos, sin := math.Cos(ang), math.Sin(ang)
		row := x.Row(i)
		for py := 0; py < size; py++ {
			for px := 0; px < size; px++ {
				// Skip pixels farther than reach+1 from the centre.
				dx0, dy0 := float64(px)+0.5-cx, float64(py)+0.5-cy
				if dx0*dx0+dy0*dy0 > (reach+1)*(reach+1) {
					continue
				}
				hit := 0
				for sy := 0; sy < sub; sy++ {
					for sx := 0; sx < sub; sx++ {
						dx := float64(px) + (float64(sx)+0.5)/sub - cx
						dy := float64(py) + (float64(sy)+0.5)/sub - cy
						// Rotate into the shape's frame, in units of its scale.
						u := (cos*dx + sin*dy) / sc
						v := (-sin*dx + cos*dy) / sc
						if insideShape(cls, u, v) {
							hit++
						}
					}
				}
				row[py*size+px] = float32(hit) / (sub * sub)
			}
		}
	}
	return &Dataset{X: x, Labels: labels, NumClasses: 3, Height: size, Width: size, Channels: 1,
		ClassNames: append([]string(nil), ShapeNames...),
		Factors:    f, FactorNames: []string{"x", "y", "scale", "angle"}}
}

// insideShape reports whether (u, v), in the shape's own frame and units,
// lies inside shape cls.
func insideShape(cls int, u, v float64) bool {
	switch cls {
	case ShapeSquare:
		return math.Abs(u) <= 1 && math.Abs(v) <= 1
	case ShapeEllipse:
		return u*u+(v/0.6)*(v/0.6) <= 1
	default: // equilateral triangle with vertices on the unit circle at 90°, 210°, 330°
		// Inside when on the inner side of all three edges: each edge is at
		// distance 1/2 from the centre with outward normals at 270°, 30°, 150°.
		const c30 = 0.8660254037844386
		return -v <= 0.5 && c30*u+0.5*v <= 0.5 && -c30*u+0.5*v <= 0.5
	}
}

// loadShapes handles "shapes[,n=10000,size=28,seed=S]".
func loadShapes(sp *Spec, opt Options) (*Dataset, error) {
	if sp.Arg != "" {
		return nil, fmt.Errorf("dataset: shapes: unexpected %q (options are key=value, e.g. shapes,n=5000)", sp.Arg)
	}
	if err := sp.checkOpts("n", "size", "seed"); err != nil {
		return nil, err
	}
	size, err := sp.intOpt("size", 28, 8, 256)
	if err != nil {
		return nil, err
	}
	n, err := sp.intOpt("n", 10000, 1, 1<<26/(size*size))
	if err != nil {
		return nil, err
	}
	seed, err := sp.seed(opt)
	if err != nil {
		return nil, err
	}
	return Shapes(n, size, rng.New(seed)), nil
}
