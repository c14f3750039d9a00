package nn

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// TestNormAsmSameBits: BatchNorm and GroupNorm give the same bits, forward
// (training and evaluation), backward and running statistics, with the AVX2
// channel loops and with the Go loops alone, for channel counts below 8, a
// multiple of 8 and with a tail (skipped where there is no assembly).
func TestNormAsmSameBits(t *testing.T) {
	if !normAsm {
		t.Skip("no assembly channel loops on this CPU")
	}
	for _, c := range []int{3, 8, 21, 64} {
		for _, kind := range []string{"batch", "group"} {
			run := func(asm bool) []float32 {
				old := normAsm
				normAsm = asm
				defer func() { normAsm = old }()
				s := rng.New(41)
				var l Layer
				if kind == "batch" {
					bn := NewBatchNorm2D(3, 5, c)
					l = bn
					defer func() { bn.SetTraining(true) }()
				} else {
					l = NewGroupNorm(1, 3, 5, c)
				}
				for _, p := range l.Params() {
					s.FillNormal(p.W, 0.5, 1)
				}
				x := randMat(s, 4, 15*c, 2)
				out := append([]float32(nil), l.Forward(x).Data...)
				out = append(out, l.Backward(randMat(s, 4, 15*c, 1)).Data...)
				for _, p := range l.Params() {
					out = append(out, p.G...)
				}
				if bn, ok := l.(*BatchNorm); ok {
					out = append(append(out, bn.RunMean.W...), bn.RunVar.W...)
					bn.SetTraining(false)
					out = append(out, bn.Forward(x).Data...)
				}
				return out
			}
			sameBits(t, fmt.Sprintf("%s norm, %d channels: asm vs Go", kind, c), run(true), run(false))
		}
	}
}
