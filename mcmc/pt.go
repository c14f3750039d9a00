package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// SwapLogAccept returns the log acceptance ratio of exchanging the states of two
// replicas at inverse temperatures βi and βj whose states have energies Ei and Ej:
//
//	log a = (βi − βj)(Ei − Ej),   accept with probability min(1, eᵃ)
//
// (Swendsen & Wang 1986; Geyer 1991).
func SwapLogAccept(bi, bj, ei, ej float64) float64 { return (bi - bj) * (ei - ej) }

// Tempering is parallel tempering (replica exchange) for p_β(x) ∝ exp(−βE(x)): one
// Metropolis chain per inverse temperature Betas[k], Betas[0] being the target (usually
// 1). A sweep makes StepsPerSwap Metropolis steps on every replica, in parallel, then
// proposes swaps between neighbours (k, k+1), for even k on even sweeps and odd k on
// odd sweeps, accepted with probability min(1, exp(SwapLogAccept)).
type Tempering struct {
	Energy       Energy
	Proposal     Proposal
	Betas        []float64 // distinct, positive; Betas[0] is the target
	StepsPerSwap int       // 0 means 1
}

// TemperingState holds the replicas of a parallel-tempering run.
type TemperingState struct {
	Replicas    []*Chain // Replicas[k] is at Betas[k]
	SwapTried   []int    // per neighbour pair (k, k+1)
	SwapAccepts []int
	Sweeps      int
	streams     []*rng.Stream
	swap        *rng.Stream
}

// Start returns replicas all started at x0, replica k drawing from
// rng.NewStream(seed, k) and the swap moves from rng.NewStream(seed, len(Betas)).
// It returns an error when Betas is empty or holds a value that is not positive and finite.
func (pt *Tempering) Start(x0 []float64, seed uint64) (*TemperingState, error) {
	if len(pt.Betas) == 0 {
		return nil, fmt.Errorf("mcmc: parallel tempering needs at least one inverse temperature")
	}
	for k, b := range pt.Betas {
		if !(b > 0) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("mcmc: parallel tempering Betas[%d] must be positive and finite, got %g", k, b)
		}
	}
	n := len(pt.Betas)
	st := &TemperingState{
		Replicas:    make([]*Chain, n),
		SwapTried:   make([]int, max(n-1, 0)),
		SwapAccepts: make([]int, max(n-1, 0)),
		streams:     Streams(seed, 0, n),
		swap:        rng.NewStream(seed, uint64(n)),
	}
	for k := range st.Replicas {
		st.Replicas[k] = (&Metropolis{Energy: pt.Energy, Proposal: pt.Proposal, Beta: pt.Betas[k]}).NewChain(x0)
	}
	return st, nil
}

// Sweep runs one sweep (see Tempering).
func (pt *Tempering) Sweep(st *TemperingState) {
	steps := pt.StepsPerSwap
	if steps <= 0 {
		steps = 1
	}
	tensor.ParallelFor(len(pt.Betas), 1, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			m := Metropolis{Energy: pt.Energy, Proposal: pt.Proposal, Beta: pt.Betas[k]}
			m.Step(st.Replicas[k], steps, st.streams[k])
		}
	})
	for k := st.Sweeps % 2; k+1 < len(pt.Betas); k += 2 {
		a, b := st.Replicas[k], st.Replicas[k+1]
		st.SwapTried[k]++
		if la := SwapLogAccept(pt.Betas[k], pt.Betas[k+1], a.E, b.E); la >= 0 || st.swap.Float64() < math.Exp(la) {
			a.X, b.X = b.X, a.X
			a.E, b.E = b.E, a.E
			st.SwapAccepts[k]++
		}
	}
	st.Sweeps++
}

// SwapRates returns the fraction of accepted swaps for each neighbour pair (k, k+1).
func (st *TemperingState) SwapRates() []float64 {
	r := make([]float64, len(st.SwapTried))
	for k := range r {
		if st.SwapTried[k] > 0 {
			r[k] = float64(st.SwapAccepts[k]) / float64(st.SwapTried[k])
		}
	}
	return r
}
