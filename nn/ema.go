package nn

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/tensor"
)

// EMA keeps an exponential moving average of parameters (Polyak averaging;
// the "EMA weights" of DCGAN and DDPM training, Ho et al. 2020 use decay 0.9999):
// after each optimiser step,
//
//	θ̄ ← d·θ̄ + (1 − d)·θ            (in float32; d = 0 copies θ, d = 1 keeps θ̄)
//
// Shadow[k] is the average of Params[k]. Sampling with the averaged weights is
// Swap, sample, Swap; CopyTo writes them into a second copy of the network.
// Buffers (BatchNorm's running statistics) may be included in Params: they are
// then averaged too; leave them out to use the live ones.
type EMA struct {
	Params []*Param
	Shadow [][]float32

	k   emaKernel
	run func(lo, hi int) // k.run, bound once so that Update does not allocate
}

type emaKernel struct {
	s, w []float32
	d, a float32 // decay and 1 − decay
}

// run sets s ← d·s + (1 − d)·w on [lo, hi).
func (k *emaKernel) run(lo, hi int) {
	s, w := k.s[lo:hi], k.w[lo:hi]
	for i, v := range w {
		s[i] = k.d*s[i] + k.a*v
	}
}

// NewEMA returns an average of params starting at their current values.
func NewEMA(params []*Param) *EMA {
	e := &EMA{Params: params, Shadow: make([][]float32, len(params))}
	for k, p := range params {
		e.Shadow[k] = append([]float32(nil), p.W...)
	}
	e.run = e.k.run
	return e
}

// Update moves the average towards the current parameters with decay d
// (0 ≤ d ≤ 1; d = 0 copies them, d = 1 leaves the average). Element-wise, so the
// result does not depend on the number of workers. It panics if d is outside [0, 1].
func (e *EMA) Update(d float64) {
	if !(d >= 0 && d <= 1) {
		panic(fmt.Sprintf("nn: EMA.Update: decay %g outside [0, 1]", d))
	}
	if e.run == nil {
		e.run = e.k.run
	}
	e.k.d, e.k.a = float32(d), float32(1-d)
	for k, p := range e.Params {
		e.k.s, e.k.w = e.Shadow[k], p.W
		if len(p.W) < 65536 {
			e.k.run(0, len(p.W))
		} else {
			tensor.ParallelFor(len(p.W), 32768, e.run)
		}
	}
	e.k.s, e.k.w = nil, nil
}

// Swap exchanges the live parameters and the average, value by value (layers
// keep views of their parameters, so the arrays themselves stay in place). Call
// it before sampling with the averaged weights and again afterwards.
func (e *EMA) Swap() {
	for k, p := range e.Params {
		s := e.Shadow[k]
		for i, v := range p.W {
			p.W[i], s[i] = s[i], v
		}
	}
}

// CopyTo copies the average into dst, parameters of a network with the same
// layout (for example a second generator kept for sampling). It panics on a
// layout mismatch.
func (e *EMA) CopyTo(dst []*Param) {
	if len(dst) != len(e.Shadow) {
		panic(fmt.Sprintf("nn: EMA.CopyTo: %d parameters, average has %d", len(dst), len(e.Shadow)))
	}
	for k, p := range dst {
		if len(p.W) != len(e.Shadow[k]) {
			panic(fmt.Sprintf("nn: EMA.CopyTo: parameter %d (%s) has %d values, average has %d", k, p.Name, len(p.W), len(e.Shadow[k])))
		}
		copy(p.W, e.Shadow[k])
	}
}

// Save adds the average to f as float32 tensors prefix.k.name, the layout of
// SaveParams (so LoadParams can load it straight into a network). The data are
// not copied: save f before the next Update.
func (e *EMA) Save(f *checkpoint.File, prefix string) {
	for k, p := range e.Params {
		f.AddF32(paramKey(prefix, k, p), p.Shape, e.Shadow[k])
	}
}

// Load restores the average written by Save.
func (e *EMA) Load(f *checkpoint.File, prefix string) error {
	for k, p := range e.Params {
		w, err := f.F32(paramKey(prefix, k, p), len(p.W))
		if err != nil {
			return err
		}
		copy(e.Shadow[k], w)
	}
	return nil
}
