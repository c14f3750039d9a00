package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
)

// TestStateRoundTrip saves parameters and optimiser state into a checkpoint.File and
// loads them into fresh objects: the next step must give identical bits.
func TestStateRoundTrip(t *testing.T) {
	mk := func() []*Param {
		s := rng.New(1)
		return NewLinear(4, 3, Glorot, s).Params()
	}
	grad := func(ps []*Param, k int) {
		for _, p := range ps {
			for i := range p.G {
				p.G[i] = float32((i*7+k)%5) - 2
			}
		}
	}
	for _, name := range []string{"adam", "sgd"} {
		a := mk()
		var oa, ob Optimizer
		if name == "adam" {
			oa, ob = NewAdam(0.01), NewAdam(0.01)
		} else {
			oa, ob = &SGD{LR: 0.01, Momentum: 0.9}, &SGD{LR: 0.01, Momentum: 0.9}
		}
		for k := 0; k < 3; k++ {
			grad(a, k)
			oa.Step(a)
		}
		f := &checkpoint.File{Kind: "test"}
		SaveParams(f, "p", a)
		b := mk()
		switch o := oa.(type) {
		case *Adam:
			o.Save(f, "opt")
			if err := ob.(*Adam).Load(f, "opt", b); err != nil {
				t.Fatal(err)
			}
		case *SGD:
			o.Save(f, "opt")
			if err := ob.(*SGD).Load(f, "opt", b); err != nil {
				t.Fatal(err)
			}
		}
		if err := LoadParams(f, "p", b); err != nil {
			t.Fatal(err)
		}
		grad(a, 3)
		grad(b, 3)
		oa.Step(a)
		ob.Step(b)
		for k := range a {
			for i := range a[k].W {
				if math.Float32bits(a[k].W[i]) != math.Float32bits(b[k].W[i]) {
					t.Fatalf("%s: param %d[%d] differs after reload", name, k, i)
				}
			}
		}
	}
	if err := LoadParams(&checkpoint.File{Kind: "test"}, "p", mk()); err == nil {
		t.Error("LoadParams from an empty file gave no error")
	}
}
