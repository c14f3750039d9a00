package helmholtz

import (
	"testing"

	"github.com/latent-ml/latent/rng"
)

// TestStepAllocs: once warm, a training step allocates (almost) nothing.
func TestStepAllocs(t *testing.T) {
	x := binaryRows(32, 20, 1)
	tr, _ := NewTrainer(New([]int{20, 10, 5}, rng.New(1)), Reweighted(3))
	tr.StepBatch(x)
	if a := testing.AllocsPerRun(20, func() { tr.StepBatch(x) }); a > 16 {
		t.Logf("allocs %v", a)
		t.Errorf("%v allocations per step", a)
	}
}

func BenchmarkStep(b *testing.B) {
	for _, k := range []int{1, 5} {
		b.Run(map[int]string{1: "ws", 5: "rws5"}[k], func(b *testing.B) {
			x := binaryRows(100, 784, 1)
			cfg := WakeSleep()
			if k > 1 {
				cfg = Reweighted(k)
			}
			tr, _ := NewTrainer(New([]int{784, 200, 200}, rng.New(1)), cfg)
			tr.StepBatch(x)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.StepBatch(x)
			}
		})
	}
}
