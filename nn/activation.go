package nn

import (
	"fmt"

	"github.com/latent-ml/latent/tensor"
)

// ActKind names an element-wise nonlinearity.
type ActKind int

const (
	ActReLU ActKind = iota
	ActLeakyReLU
	ActTanh
	ActSigmoid
	ActSoftplus
	ActIdentity
	ActSiLU
)

var actNames = [...]string{"relu", "leaky-relu", "tanh", "sigmoid", "softplus", "identity", "silu"}

// String returns the nonlinearity's name as used on the command line.
func (k ActKind) String() string {
	if k >= 0 && int(k) < len(actNames) {
		return actNames[k]
	}
	return fmt.Sprintf("ActKind(%d)", int(k))
}

// ParseAct parses "relu", "leaky-relu", "tanh", "sigmoid", "softplus", "identity"
// or "silu".
func ParseAct(s string) (ActKind, error) {
	for i, n := range actNames {
		if n == s {
			return ActKind(i), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown activation %q (want relu, leaky-relu, tanh, sigmoid, softplus, identity or silu)", s)
}

// Activation applies y = f(x) element-wise. Each kind's forward formula and its
// derivative, written in terms of what Backward has at hand:
//
//	ReLU        y = max(x, 0)                 dy/dx = [y > 0]
//	LeakyReLU   y = x if x > 0 else a·x       dy/dx = 1 if x > 0 else a
//	Tanh        y = tanh x = 2σ(2x) − 1       dy/dx = 1 − y²
//	Sigmoid     y = σ(x) = 1/(1+e^{−x})       dy/dx = y(1 − y)
//	Softplus    y = log(1 + e^x)              dy/dx = σ(x)
//	Identity    y = x                         dy/dx = 1
//	SiLU        y = x·σ(x)                    dy/dx = σ(x) + y(1 − σ(x))
//
// SiLU is the sigmoid-weighted linear unit (Elfwing et al. 2018), also called
// Swish (Ramachandran et al. 2017); it is the nonlinearity of the DDPM U-Net.
type Activation struct {
	Kind  ActKind
	Slope float32 // a, the negative-side slope of LeakyReLU

	x, y, dx *tensor.Mat
	sig      *tensor.Mat // SiLU: σ(x) from Forward, so that Backward needs no exponential
}

// ReLU returns the rectifier max(x, 0).
func ReLU() *Activation { return &Activation{Kind: ActReLU} }

// LeakyReLU returns x for x > 0 and slope·x otherwise.
func LeakyReLU(slope float32) *Activation { return &Activation{Kind: ActLeakyReLU, Slope: slope} }

// Tanh returns the hyperbolic tangent.
func Tanh() *Activation { return &Activation{Kind: ActTanh} }

// Sigmoid returns the logistic function σ(x) = 1/(1+e^{−x}).
func Sigmoid() *Activation { return &Activation{Kind: ActSigmoid} }

// SiLU returns x·σ(x) (Swish).
func SiLU() *Activation { return &Activation{Kind: ActSiLU} }

// Softplus returns log(1+e^x).
func Softplus() *Activation { return &Activation{Kind: ActSoftplus} }

// NewActivation returns the activation of kind k (LeakyReLU with slope 0.01).
func NewActivation(k ActKind) *Activation {
	a := &Activation{Kind: k}
	if k == ActLeakyReLU {
		a.Slope = 0.01
	}
	return a
}

// Forward applies f to every element of x.
func (a *Activation) Forward(x *tensor.Mat) *tensor.Mat {
	a.x = x
	a.y = tensor.Reuse(a.y, x.Rows, x.Cols)
	if a.Kind == ActSiLU {
		a.sig = tensor.Reuse(a.sig, x.Rows, x.Cols)
	}
	j := newRowJob(func(j *rowJob, lo, hi int) {
		a := j.act
		for i := lo; i < hi; i++ {
			if a.Kind == ActSiLU { // y = x·σ(x), σ kept
				tensor.SiLUSigmoid(a.y.Row(i), a.sig.Row(i), a.x.Row(i))
				continue
			}
			actForward(a.Kind, a.Slope, a.y.Row(i), a.x.Row(i))
		}
	})
	j.act = a
	forRows(x.Rows, x.Cols, j)
	return a.y
}

// Backward returns dx = dy ⊙ f′(x).
func (a *Activation) Backward(dy *tensor.Mat) *tensor.Mat {
	if dy.Rows != a.y.Rows || dy.Cols != a.y.Cols {
		panic(fmt.Sprintf("nn: %v: dy is %d×%d, output was %d×%d", a.Kind, dy.Rows, dy.Cols, a.y.Rows, a.y.Cols))
	}
	a.dx = tensor.Reuse(a.dx, dy.Rows, dy.Cols)
	j := newRowJob(func(j *rowJob, lo, hi int) {
		a, dy := j.act, j.a
		for i := lo; i < hi; i++ {
			if a.Kind == ActSiLU { // f′ = σ(x) + y(1 − σ(x)), σ from Forward
				tensor.SiLUGradSigmoid(a.dx.Row(i), a.sig.Row(i), a.y.Row(i), dy.Row(i))
				continue
			}
			actBackward(a.Kind, a.Slope, a.dx.Row(i), dy.Row(i), a.x.Row(i), a.y.Row(i))
		}
	})
	j.act, j.a = a, dy
	forRows(dy.Rows, dy.Cols, j)
	return a.dx
}

// Params returns nil.
func (a *Activation) Params() []*Param { return nil }

// actForward sets y = f(x) for one row.
func actForward(k ActKind, slope float32, y, x []float32) {
	x = x[:len(y)]
	switch k {
	case ActReLU:
		tensor.ReLU(y, x)
	case ActLeakyReLU: // y = x where x > 0, else slope·x: LeakyReLUGrad with dy = x
		tensor.LeakyReLUGrad(y, x, x, slope)
	case ActTanh:
		tanh32(y, x)
	case ActSigmoid:
		tensor.Sigmoid(y, x)
	case ActSoftplus:
		tensor.Softplus(y, x)
	case ActIdentity:
		copy(y, x)
	case ActSiLU: // y = x·σ(x)
		tensor.SiLU(y, x)
	default:
		panic(fmt.Sprintf("nn: unknown activation %d", int(k)))
	}
}

// actBackward sets dx = dy ⊙ f′(x) for one row, using whichever of x and y=f(x)
// gives f′ most cheaply.
func actBackward(k ActKind, slope float32, dx, dy, x, y []float32) {
	dy, x, y = dy[:len(dx)], x[:len(dx)], y[:len(dx)]
	switch k {
	case ActReLU: // f′ = [y > 0]
		tensor.ReLUGrad(dx, y, dy)
	case ActLeakyReLU: // f′ = 1 or a
		tensor.LeakyReLUGrad(dx, x, dy, slope)
	case ActTanh: // f′ = 1 − y²
		for j, v := range y {
			dx[j] = dy[j] * (1 - v*v)
		}
	case ActSigmoid: // f′ = y(1 − y)
		for j, v := range y {
			dx[j] = dy[j] * v * (1 - v)
		}
	case ActSoftplus: // f′ = σ(x)
		tensor.Sigmoid(dx, x)
		for j := range dx {
			dx[j] *= dy[j]
		}
	case ActIdentity:
		copy(dx, dy)
	case ActSiLU: // f′ = σ(x) + y(1 − σ(x))
		tensor.SiLUGrad(dx, x, y, dy)
	default:
		panic(fmt.Sprintf("nn: unknown activation %d", int(k)))
	}
}

// tanh32 sets y = tanh x = 2σ(2x) − 1 using the sigmoid kernel. y may alias x.
func tanh32(y, x []float32) {
	for j, v := range x[:len(y)] {
		y[j] = 2 * v
	}
	tensor.Sigmoid(y, y)
	for j, v := range y {
		y[j] = 2*v - 1
	}
}
