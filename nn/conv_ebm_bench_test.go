package nn

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// BenchmarkEBMLayers times the four convolutions of the deep EBM's energy
// network (package ebm, the tutorial's CNNModel with 32 channels) at batch 128:
// the forward pass and the input gradient alone (NoParamGrad), the two passes of
// a Langevin step. GFLOP/s counts 2·MACs of one pass.
func BenchmarkEBMLayers(b *testing.B) {
	gs := []ConvGeom{
		{InH: 28, InW: 28, InC: 1, OutC: 16, K: 5, Stride: 2, Pad: 4},
		{InH: 16, InW: 16, InC: 16, OutC: 32, K: 3, Stride: 2, Pad: 1},
		{InH: 8, InW: 8, InC: 32, OutC: 64, K: 3, Stride: 2, Pad: 1},
		{InH: 4, InW: 4, InC: 64, OutC: 64, K: 3, Stride: 2, Pad: 1},
	}
	for i, g := range gs {
		s := rng.New(1)
		l := NewConv2D(g, He, s)
		l.NoParamGrad = true
		x := randMat(s, 128, g.InH*g.InW*g.InC, 1)
		dy := randMat(s, 128, g.OutH()*g.OutW()*g.OutC, 1)
		l.Forward(x)
		l.Backward(dy)
		fl := 2 * float64(128*g.OutH()*g.OutW()*g.OutC*g.K*g.K*g.InC)
		b.Run(fmt.Sprintf("L%d/fwd", i+1), func(b *testing.B) {
			for range b.N {
				l.Forward(x)
			}
			b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("L%d/igrad", i+1), func(b *testing.B) {
			for range b.N {
				l.Backward(dy)
			}
			b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
