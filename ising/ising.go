// Package ising simulates the two-dimensional Ising model on an L×L periodic
// square lattice with coupling J = 1, no field, and k_B = 1:
//
//	E(s) = −Σ_<ij> s_i s_j,   s_i ∈ {−1, +1},   p(s) ∝ exp(−E(s)/T)
//
// where the sum runs over each nearest-neighbour bond once (2N bonds for
// N = L² sites). It provides single-spin Metropolis sweeps with a precomputed
// acceptance table, Wolff cluster updates, a sampler that mixes the two,
// observables from a batch of configurations (energy per spin, |m|, specific
// heat, susceptibility), exact enumeration for small lattices, and Onsager's
// exact solution for the infinite lattice.
package ising

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
)

// Tc is the critical temperature of the infinite lattice, 2/ln(1+√2) ≈ 2.269.
var Tc = 2 / math.Log1p(math.Sqrt2)

// Lattice is an L×L periodic lattice of ±1 spins; site (r, c) is Spin[r*L+c].
type Lattice struct {
	L    int
	Spin []int8
	nbr  [][4]int32 // right, down, left, up
}

// New returns an L×L lattice with every spin up. It panics if L < 2.
func New(L int) *Lattice {
	if L < 2 || L > 1<<14 {
		panic(fmt.Sprintf("ising: lattice size L=%d out of [2, 16384]", L))
	}
	n := L * L
	l := &Lattice{L: L, Spin: make([]int8, n), nbr: make([][4]int32, n)}
	for r := 0; r < L; r++ {
		for c := 0; c < L; c++ {
			i := r*L + c
			l.Spin[i] = 1
			l.nbr[i] = [4]int32{
				int32(r*L + (c+1)%L), int32(((r+1)%L)*L + c),
				int32(r*L + (c+L-1)%L), int32(((r+L-1)%L)*L + c),
			}
		}
	}
	return l
}

// N returns the number of sites L².
func (l *Lattice) N() int { return len(l.Spin) }

// Randomize sets every spin to ±1 with probability 1/2 (infinite temperature).
func (l *Lattice) Randomize(s *rng.Stream) {
	for i := range l.Spin {
		if s.Uint64()>>63 == 0 {
			l.Spin[i] = 1
		} else {
			l.Spin[i] = -1
		}
	}
}

// Energy returns E = −Σ_<ij> s_i s_j, each bond counted once (right and down
// neighbours of every site).
func (l *Lattice) Energy() int {
	e := 0
	for i, s := range l.Spin {
		nb := &l.nbr[i]
		e -= int(s) * int(l.Spin[nb[0]]+l.Spin[nb[1]])
	}
	return e
}

// Magnetization returns M = Σ_i s_i.
func (l *Lattice) Magnetization() int {
	m := 0
	for _, s := range l.Spin {
		m += int(s)
	}
	return m
}

// Sampler runs Markov chains on a lattice at temperature T. Both moves leave
// p(s) ∝ exp(−E(s)/T) invariant.
type Sampler struct {
	Lat  *Lattice
	T    float64
	acc  [5]uint64 // acc[k]: accept a flip with ΔE = 4k when Uint64() < acc[k] (k = 1, 2)
	pAdd uint64    // Wolff bond probability 1 − exp(−2/T), as a 64-bit threshold
	// WolffUpdates is the number of Wolff updates in each Step (see Tune).
	WolffUpdates int
	stack        []int32 // Wolff's stack, reused between updates
}

// prob64 maps p ∈ [0, 1] to a threshold t with P(Uint64() < t) = p (to 2^-64).
func prob64(p float64) uint64 {
	if p >= 1 {
		return math.MaxUint64
	}
	if p <= 0 {
		return 0
	}
	return uint64(math.Ldexp(p, 64))
}

// NewSampler returns a sampler for l at temperature T > 0.
func NewSampler(l *Lattice, T float64) (*Sampler, error) {
	if !(T > 0) || math.IsInf(T, 0) {
		return nil, fmt.Errorf("ising: temperature T=%v must be positive and finite", T)
	}
	m := &Sampler{Lat: l, T: T}
	beta := 1 / T
	for k := 1; k <= 2; k++ {
		m.acc[k] = prob64(math.Exp(-beta * float64(4*k)))
	}
	m.pAdd = prob64(-math.Expm1(-2 * beta))
	m.WolffUpdates = 1
	return m, nil
}

// Sweep performs one Metropolis sweep: each site in turn (typewriter order)
// proposes a flip, accepted with probability min(1, exp(−ΔE/T)) where
// ΔE = 2 s_i Σ_j∈nbr(i) s_j ∈ {−8, −4, 0, 4, 8}, read from a precomputed table.
func (m *Sampler) Sweep(s *rng.Stream) {
	spin, nbr := m.Lat.Spin, m.Lat.nbr
	for i := range spin {
		nb := &nbr[i]
		h := int(spin[nb[0]]) + int(spin[nb[1]]) + int(spin[nb[2]]) + int(spin[nb[3]])
		de := int(spin[i]) * h // ΔE/2
		if de <= 0 || s.Uint64() < m.acc[de/2] {
			spin[i] = -spin[i]
		}
	}
}

// Wolff performs one Wolff cluster update: from a random seed site, the
// cluster grows over aligned neighbours, each bond joining with probability
// p = 1 − exp(−2/T), and the whole cluster flips. It returns the cluster size.
func (m *Sampler) Wolff(s *rng.Stream) int {
	spin, nbr := m.Lat.Spin, m.Lat.nbr
	i := int32(s.IntN(len(spin)))
	old := spin[i]
	spin[i] = -old
	stack := append(m.stack[:0], i)
	size := 1
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, k := range nbr[j] {
			if spin[k] == old && s.Uint64() < m.pAdd {
				spin[k] = -old
				stack = append(stack, k)
				size++
			}
		}
	}
	m.stack = stack
	return size
}

// Step performs one Metropolis sweep followed by WolffUpdates Wolff updates.
// Far above T_c the clusters are tiny and the sweep does the work; near and
// below T_c the clusters cross the critical slowing-down of single-spin moves.
// The number of Wolff updates is fixed in advance (see Tune): stopping after a
// number of updates that depends on the cluster sizes drawn would bias the chain.
func (m *Sampler) Step(s *rng.Stream) {
	m.Sweep(s)
	for k := 0; k < m.WolffUpdates; k++ {
		m.Wolff(s)
	}
}

// Tune runs `pilot` Wolff updates (pilot >= 1) and sets WolffUpdates so that a
// Step's Wolff updates flip about N spins: N/⟨cluster size⟩, in [1, N]. It
// belongs to burn-in: the chain is not at equilibrium until after it.
func (m *Sampler) Tune(pilot int, s *rng.Stream) {
	total := 0
	pilot = max(pilot, 1)
	for k := 0; k < pilot; k++ {
		total += m.Wolff(s)
	}
	n := m.Lat.N()
	m.WolffUpdates = min(n, max(1, int(math.Round(float64(n)*float64(pilot)/float64(total)))))
}

// Method selects the moves of Sample.
type Method int

const (
	Mixed      Method = iota // Step: a Metropolis sweep plus Wolff updates
	Metropolis               // Metropolis sweeps only
	Wolff                    // Wolff updates flipping about N spins per step
)

// Samples holds configurations drawn by Sample.
type Samples struct {
	L, N   int
	T      float64
	Spins  []int8 // n configurations of N spins, one after another
	Energy []int  // E of each configuration
	Mag    []int  // M of each configuration
}

// Len returns the number of configurations.
func (x *Samples) Len() int { return len(x.Energy) }

// Config returns configuration i (sharing storage).
func (x *Samples) Config(i int) []int8 { return x.Spins[i*x.N : (i+1)*x.N] }

// Sample draws n configurations of an L×L lattice at temperature T: from a
// random start, burn steps are discarded, then a configuration is kept every
// `every` steps (every >= 1). A step is method's unit of work: a Metropolis
// sweep, Wolff updates flipping about N spins on average, or both (Step).
func Sample(L int, T float64, n, burn, every int, method Method, s *rng.Stream) (*Samples, error) {
	if L < 2 || L > 1024 {
		return nil, fmt.Errorf("ising: L=%d out of [2, 1024]", L)
	}
	if n < 1 || burn < 0 || every < 1 {
		return nil, fmt.Errorf("ising: need n >= 1, burn >= 0, every >= 1; got n=%d burn=%d every=%d", n, burn, every)
	}
	if int64(n)*int64(L*L) > 1<<31 {
		return nil, fmt.Errorf("ising: n=%d configurations of %d spins is too many", n, L*L)
	}
	lat := New(L)
	lat.Randomize(s)
	m, err := NewSampler(lat, T)
	if err != nil {
		return nil, err
	}
	step := func() {
		switch method {
		case Metropolis:
			m.Sweep(s)
		case Wolff:
			for k := 0; k < m.WolffUpdates; k++ {
				m.Wolff(s)
			}
		default:
			m.Step(s)
		}
	}
	// Burn-in: half the steps, then fix the number of Wolff updates per step
	// from a pilot run, then the other half.
	for i := 0; i < burn/2; i++ {
		step()
	}
	if method != Metropolis {
		m.Tune(100, s)
	}
	for i := burn / 2; i < burn; i++ {
		step()
	}
	N := lat.N()
	out := &Samples{L: L, N: N, T: T, Spins: make([]int8, 0, n*N), Energy: make([]int, n), Mag: make([]int, n)}
	for i := 0; i < n; i++ {
		for k := 0; k < every; k++ {
			step()
		}
		out.Spins = append(out.Spins, lat.Spin...)
		out.Energy[i] = lat.Energy()
		out.Mag[i] = lat.Magnetization()
	}
	return out, nil
}

// Observables are thermal averages per spin at temperature T, with m = M/N:
//
//	Energy         = ⟨E⟩/N
//	AbsMag         = ⟨|m|⟩
//	SpecificHeat   = (⟨E²⟩ − ⟨E⟩²)/(N T²)
//	Susceptibility = N(⟨m²⟩ − ⟨|m|⟩²)/T
type Observables struct {
	T, Energy, AbsMag, SpecificHeat, Susceptibility float64
}

// Measure computes the observables from energies E and magnetisations M of
// configurations of N spins drawn at temperature T. Sums are in float64.
func Measure(N int, T float64, energy, mag []int) Observables {
	var se, se2, sm, sm2 float64
	for i, e := range energy {
		fe := float64(e)
		fm := math.Abs(float64(mag[i])) / float64(N)
		se += fe
		se2 += fe * fe
		sm += fm
		sm2 += fm * fm
	}
	n := float64(len(energy))
	me, mm := se/n, sm/n
	return Observables{
		T:              T,
		Energy:         me / float64(N),
		AbsMag:         mm,
		SpecificHeat:   (se2/n - me*me) / (float64(N) * T * T),
		Susceptibility: float64(N) * (sm2/n - mm*mm) / T,
	}
}

// Onsager returns Onsager's exact energy per spin of the infinite lattice,
//
//	u(T) = −coth(2β) [1 + (2/π)(2 tanh²(2β) − 1) K(k)],   k = 2 sinh(2β)/cosh²(2β),
//
// with β = 1/T and K the complete elliptic integral of the first kind
// (modulus k), computed by the arithmetic-geometric mean. u(T_c) = −√2.
func Onsager(T float64) float64 {
	b := 2 / T
	k := 2 * math.Sinh(b) / (math.Cosh(b) * math.Cosh(b))
	t := math.Tanh(b)
	if math.Abs(k-1) < 1e-15 {
		return -math.Sqrt2
	}
	return -1 / t * (1 + 2/math.Pi*(2*t*t-1)*EllipticK(k))
}

// OnsagerMag returns the spontaneous magnetisation of the infinite lattice,
// (1 − sinh⁻⁴(2/T))^(1/8) below T_c and 0 above (Onsager, Yang 1952).
func OnsagerMag(T float64) float64 {
	if T >= Tc {
		return 0
	}
	s := math.Sinh(2 / T)
	return math.Pow(1-1/(s*s*s*s), 0.125)
}

// EllipticK returns the complete elliptic integral of the first kind,
//
//	K(k) = ∫_0^{π/2} dθ / √(1 − k² sin²θ) = π / (2 AGM(1, √(1 − k²))),
//
// for modulus 0 <= k < 1 (+Inf at k = 1).
func EllipticK(k float64) float64 {
	if k >= 1 {
		return math.Inf(1)
	}
	a, g := 1.0, math.Sqrt((1-k)*(1+k))
	for i := 0; i < 64 && math.Abs(a-g) > 1e-16*a; i++ {
		a, g = (a+g)/2, math.Sqrt(a*g)
	}
	return math.Pi / (2 * a)
}
