package nn

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
)

func paramKey(prefix string, k int, p *Param) string {
	return fmt.Sprintf("%s.%d.%s", prefix, k, p.Name)
}

// SaveParams adds the values of params to f as float32 tensors named
// prefix.k.name (k the position in params). The data are not copied: save f
// before changing the parameters.
func SaveParams(f *checkpoint.File, prefix string, params []*Param) {
	for k, p := range params {
		f.AddF32(paramKey(prefix, k, p), p.Shape, p.W)
	}
}

// LoadParams copies the values written by SaveParams into params, which must have
// the same layout.
func LoadParams(f *checkpoint.File, prefix string, params []*Param) error {
	for k, p := range params {
		w, err := f.F32(paramKey(prefix, k, p), len(p.W))
		if err != nil {
			return err
		}
		copy(p.W, w)
	}
	return nil
}

// Save adds Adam's step count and moments to f (tensors prefix.t, prefix.m.k,
// prefix.v.k). Together with the parameters and the random stream this is
// everything a bit-identical resume needs.
func (a *Adam) Save(f *checkpoint.File, prefix string) {
	f.AddF64(prefix+".t", []int{1}, []float64{float64(a.T)})
	for k := range a.M {
		f.AddF32(fmt.Sprintf("%s.m.%d", prefix, k), []int{len(a.M[k])}, a.M[k])
		f.AddF32(fmt.Sprintf("%s.v.%d", prefix, k), []int{len(a.V[k])}, a.V[k])
	}
}

// Load restores the state written by Save for the parameters params.
func (a *Adam) Load(f *checkpoint.File, prefix string, params []*Param) error {
	t, err := f.F64(prefix+".t", 1)
	if err != nil {
		return err
	}
	a.T = int(t[0])
	a.M, a.V = nil, nil
	if a.T == 0 {
		return nil
	}
	a.ensure(params)
	for k, p := range params {
		m, err := f.F32(fmt.Sprintf("%s.m.%d", prefix, k), len(p.W))
		if err != nil {
			return err
		}
		v, err := f.F32(fmt.Sprintf("%s.v.%d", prefix, k), len(p.W))
		if err != nil {
			return err
		}
		copy(a.M[k], m)
		copy(a.V[k], v)
	}
	return nil
}

// Save adds the SGD velocities to f (tensors prefix.u.k); none without momentum
// or before the first step.
func (s *SGD) Save(f *checkpoint.File, prefix string) {
	for k, u := range s.U {
		f.AddF32(fmt.Sprintf("%s.u.%d", prefix, k), []int{len(u)}, u)
	}
}

// Load restores the velocities written by Save for params, if there are any.
func (s *SGD) Load(f *checkpoint.File, prefix string, params []*Param) error {
	s.U = nil
	if s.Momentum == 0 {
		return nil
	}
	if _, err := f.F32(fmt.Sprintf("%s.u.0", prefix), len(params[0].W)); err != nil {
		return nil // saved before the first step
	}
	s.U = make([][]float32, len(params))
	for k, p := range params {
		u, err := f.F32(fmt.Sprintf("%s.u.%d", prefix, k), len(p.W))
		if err != nil {
			return err
		}
		s.U[k] = append([]float32(nil), u...)
	}
	return nil
}
