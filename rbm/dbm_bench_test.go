package rbm

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BenchmarkDBMStep is one joint training step of a 784-500-1000 DBM on a batch
// of 100 binary rows of MNIST's density (0.13): mean field with a fixed number
// of updates (tol 0) and the PCD-1 update of the bipartite form, beside the PCD-1
// step of a 784×500 RBM. ns/weight divides a step's time by the weights the model
// has, the work per unit that compares the two (600 steps are an MNIST epoch).
func BenchmarkDBMStep(b *testing.B) {
	data := tensor.New(100, 784)
	s := rng.New(1)
	for i := range data.Data {
		if s.Float32() < 0.13 {
			data.Data[i] = 1
		}
	}
	b.Run("rbm-784x500/pcd1", func(b *testing.B) {
		_, tr := trainNew(b, Bernoulli, 500, data, Config{Method: PCD, BatchSize: 100})
		tr.Update(data)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			tr.Update(data)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(784*500), "ns/weight")
	})
	for _, iters := range []int{0, 5, 10} {
		b.Run(fmt.Sprintf("dbm-784-500-1000/mf%d+pcd1", iters), func(b *testing.B) {
			d, err := NewDBM([]int{784, 500, 1000})
			if err != nil {
				b.Fatal(err)
			}
			if err := d.initFromData(data, rng.New(2)); err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(d.R, Config{Method: PCD, BatchSize: 100, LearningRate: 0.001})
			if err != nil {
				b.Fatal(err)
			}
			var mf *MeanField
			step := func() {
				if iters > 0 {
					mf = d.MeanField(mf, data, iters, 0)
				} else { // the update alone, on the rows of the last mean field
					if mf == nil {
						mf = d.MeanField(mf, data, 1, 0)
					}
				}
				tr.Update(mf.Even)
			}
			step()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(784*500+500*1000), "ns/weight")
		})
	}
}
