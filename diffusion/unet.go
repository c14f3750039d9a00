package diffusion

import (
	"fmt"

	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// groupsFor returns the GroupNorm groups for c channels: 8 when they divide
// c, else the largest of 4, 2, 1 that does.
func groupsFor(c int) int {
	for _, g := range []int{8, 4, 2} {
		if c%g == 0 {
			return g
		}
	}
	return 1
}

// ResBlock is the residual block of the DDPM U-Net (Ho et al. 2020, appendix
// B), on H×W images from InC to OutC channels, with the time embedding τ
// (already through SiLU) projected to one value per channel and added after
// the first convolution:
//
//	h   = Conv₁(SiLU(GN₁(x))) + (W_τ τ + b_τ)          (added at every position)
//	out = Conv₂(Drop(SiLU(GN₂(h)))) + skip(x)           (skip: x, or a 1×1 conv when InC ≠ OutC)
//
// Drop is dropout where Ho et al. put it (their code's ResnetBlock), nil for
// none (the default).
//
// Backward runs the chain rule through both branches: ∂L/∂x is the sum of the
// residual branch's and the skip's, and ∂L/∂τ is added to the caller's sum.
type ResBlock struct {
	H, W, InC, OutC int
	GN1, GN2        *nn.GroupNorm
	Act1, Act2      *nn.Activation
	Conv1, Conv2    *nn.Conv2D
	Time            *nn.Linear
	Skip            *nn.Conv2D // nil when InC == OutC
	Drop            *nn.Dropout

	h, out, dv, dx *tensor.Mat
}

// NewResBlock returns a block of h×w images from inC to outC channels whose
// time input has timeDim values.
func NewResBlock(h, w, inC, outC, timeDim int, s *rng.Stream) *ResBlock {
	b := &ResBlock{H: h, W: w, InC: inC, OutC: outC,
		GN1: nn.NewGroupNorm(groupsFor(inC), h, w, inC), Act1: nn.SiLU(),
		Conv1: nn.NewConv2D(nn.ConvGeom{InH: h, InW: w, InC: inC, OutC: outC, K: 3, Stride: 1, Pad: 1}, nn.He, s),
		Time:  nn.NewLinear(timeDim, outC, nn.Glorot, s),
		GN2:   nn.NewGroupNorm(groupsFor(outC), h, w, outC), Act2: nn.SiLU(),
		Conv2: nn.NewConv2D(nn.ConvGeom{InH: h, InW: w, InC: outC, OutC: outC, K: 3, Stride: 1, Pad: 1}, nn.He, s)}
	if inC != outC {
		b.Skip = nn.NewConv2D(nn.ConvGeom{InH: h, InW: w, InC: inC, OutC: outC, K: 1, Stride: 1}, nn.Glorot, s)
	}
	return b
}

// Forward returns the block's output (n × H·W·OutC) for images x and the time
// features tau (n × timeDim).
func (b *ResBlock) Forward(x, tau *tensor.Mat) *tensor.Mat {
	a := b.Conv1.Forward(b.Act1.Forward(b.GN1.Forward(x)))
	b.h = nn.AddChannelVec(b.h, a, b.Time.Forward(tau))
	a = b.Act2.Forward(b.GN2.Forward(b.h))
	if b.Drop != nil {
		a = b.Drop.Forward(a)
	}
	r := b.Conv2.Forward(a)
	skip := x
	if b.Skip != nil {
		skip = b.Skip.Forward(x)
	}
	b.out = nn.Add(b.out, r, skip)
	return b.out
}

// Backward sets the parameters' gradients for ∂L/∂out dy, adds ∂L/∂τ into
// dtau and returns ∂L/∂x.
func (b *ResBlock) Backward(dy, dtau *tensor.Mat) *tensor.Mat {
	da := b.Conv2.Backward(dy)
	if b.Drop != nil {
		da = b.Drop.Backward(da)
	}
	dh := b.GN2.Backward(b.Act2.Backward(da))
	b.dv = nn.ChannelVecGrad(b.dv, dh, b.OutC)
	nn.Add(dtau, dtau, b.Time.Backward(b.dv))
	dx := b.GN1.Backward(b.Act1.Backward(b.Conv1.Backward(dh)))
	ds := dy
	if b.Skip != nil {
		ds = b.Skip.Backward(dy)
	}
	b.dx = nn.Add(b.dx, dx, ds)
	return b.dx
}

// Params returns the block's parameters in a fixed order.
func (b *ResBlock) Params() []*nn.Param {
	ps := append(b.GN1.Params(), b.Conv1.Params()...)
	ps = append(ps, b.Time.Params()...)
	ps = append(ps, b.GN2.Params()...)
	ps = append(ps, b.Conv2.Params()...)
	if b.Skip != nil {
		ps = append(ps, b.Skip.Params()...)
	}
	return ps
}

// UNet is a small DDPM U-Net (Ho et al. 2020, appendix B, after Ronneberger
// et al. 2015) for H×W×C images with H and W multiples of 4, predicting ε:
//
//	τ    = SiLU(Lin(SiLU(Lin(emb(t)))))                      time features, 4ch
//	h₀   = Conv3×3(x)                                         H×W×ch
//	d₀   = Res(h₀)                                            H×W×ch      (skip)
//	d₁   = Res(Down(d₀))                                      H/2×W/2×2ch (skip)
//	m    = Res(Down(d₁))                                      H/4×W/4×2ch
//	u₁   = Res([Conv(Up(m)), d₁])                              H/2×W/2×2ch
//	u₀   = Res([Conv(Up(u₁)), d₀])                             H×W×ch
//	ε̂    = Conv3×3(SiLU(GN(u₀)))                              H×W×C
//
// Down is a 3×3 convolution of stride 2, Up nearest-neighbour ×2, [·,·] the
// channel concatenation; every Res takes τ. The last convolution starts at
// zero, as in Ho et al.'s code.
type UNet struct {
	H, W, C, Ch int

	T1, T2       *nn.Linear
	TAct1, TAct2 *nn.Activation
	In           *nn.Conv2D
	Down0, Down1 *ResBlock
	DS0, DS1     *nn.Conv2D
	Mid          *ResBlock
	US1, US0     *nn.Upsample
	UC1, UC0     *nn.Conv2D
	Up1, Up0     *ResBlock
	OutGN        *nn.GroupNorm
	OutAct       *nn.Activation
	Out          *nn.Conv2D
	// Classes > 0 makes the U-Net conditional: Cls maps the one-hot label
	// (Classes + 1 values, the last one "no label") to a vector added to the
	// time features before their last SiLU.
	Classes int
	Cls     *nn.Linear
	labels  []int
	// Attn, when not nil (AddAttention), is a self-attention block after Mid,
	// at a quarter of the resolution (7×7 for 28×28 images).
	Attn *nn.SelfAttention

	emb, tau, dtau, onehot, pre     *tensor.Mat
	cat1, cat0, g1                  *tensor.Mat
	dskip1, dskip0, dup1, dup0, dd1 *tensor.Mat
}

// CheckUNetShape returns an error unless the U-Net takes h×w images.
func CheckUNetShape(h, w int) error {
	if h < 4 || w < 4 || h%4 != 0 || w%4 != 0 {
		return fmt.Errorf("the U-Net halves the image twice, so it takes images whose height and width are multiples of 4 (28×28, 32×32, 8×8, ...), not %d×%d", h, w)
	}
	return nil
}

// unetDesc describes the U-Net of h×w×c images with ch channels at full
// resolution, with self-attention at 1/4 resolution when attn.
func unetDesc(h, w, c, ch int, attn bool) string {
	s := fmt.Sprintf("U-Net on %d×%d×%d, channels %d/%d/%d", h, w, c, ch, 2*ch, 2*ch)
	if attn {
		s += fmt.Sprintf(", self-attention at %d×%d", h/4, w/4)
	}
	return s
}

// AddAttention puts a self-attention block (nn.SelfAttention, its output
// projection zero, so the network computes what it did) after the middle
// residual block, its weights drawn from s after all the others.
func (u *UNet) AddAttention(s *rng.Stream) {
	u.Attn = nn.NewSelfAttention(u.H/4, u.W/4, 2*u.Ch, groupsFor(2*u.Ch), s)
}

// NewUNet returns a U-Net for h×w×c images with ch channels at full
// resolution (ch even). It panics unless CheckUNetShape accepts h×w.
func NewUNet(h, w, c, ch int, s *rng.Stream) *UNet { return NewUNetCond(h, w, c, ch, 0, s) }

// NewUNetCond is NewUNet conditioned on one of classes labels (0: none).
func NewUNetCond(h, w, c, ch, classes int, s *rng.Stream) *UNet {
	if err := CheckUNetShape(h, w); err != nil || ch < 2 || ch%2 != 0 || c < 1 {
		panic(fmt.Sprintf("diffusion: NewUNet(%d, %d, %d, %d): %v", h, w, c, ch, err))
	}
	h2, w2, h4, w4 := h/2, w/2, h/4, w/4
	td := 4 * ch
	conv := func(hh, ww, in, out, k, stride int) *nn.Conv2D {
		return nn.NewConv2D(nn.ConvGeom{InH: hh, InW: ww, InC: in, OutC: out, K: k, Stride: stride, Pad: k / 2}, nn.He, s)
	}
	u := &UNet{H: h, W: w, C: c, Ch: ch,
		T1: nn.NewLinear(ch, td, nn.He, s), TAct1: nn.SiLU(), T2: nn.NewLinear(td, td, nn.He, s), TAct2: nn.SiLU(),
		In:    conv(h, w, c, ch, 3, 1),
		Down0: NewResBlock(h, w, ch, ch, td, s), DS0: conv(h, w, ch, ch, 3, 2),
		Down1: NewResBlock(h2, w2, ch, 2*ch, td, s), DS1: conv(h2, w2, 2*ch, 2*ch, 3, 2),
		Mid: NewResBlock(h4, w4, 2*ch, 2*ch, td, s),
		US1: nn.NewUpsample(h4, w4, 2*ch, 2), UC1: conv(h2, w2, 2*ch, 2*ch, 3, 1),
		Up1: NewResBlock(h2, w2, 4*ch, 2*ch, td, s),
		US0: nn.NewUpsample(h2, w2, 2*ch, 2), UC0: conv(h, w, 2*ch, ch, 3, 1),
		Up0:   NewResBlock(h, w, 2*ch, ch, td, s),
		OutGN: nn.NewGroupNorm(groupsFor(ch), h, w, ch), OutAct: nn.SiLU(), Out: conv(h, w, ch, c, 3, 1)}
	u.T1.NoInputGrad, u.In.NoInputGrad = true, true
	clear(u.Out.W.W)
	if classes > 0 {
		u.Classes = classes
		u.Cls = nn.NewLinear(classes+1, td, nn.Glorot, s)
		u.Cls.NoInputGrad = true
	}
	return u
}

// blocks returns the residual blocks in the order Eps runs them.
func (u *UNet) blocks() []*ResBlock { return []*ResBlock{u.Down0, u.Down1, u.Mid, u.Up1, u.Up0} }

// SetDropout gives every residual block dropout with probability p (0: none),
// its masks drawn from s in the order Eps runs the blocks, and leaves it off
// (evaluation mode) until SetTraining(true).
func (u *UNet) SetDropout(p float64, s *rng.Stream) {
	for _, b := range u.blocks() {
		b.Drop = nil
		if p > 0 {
			b.Drop = nn.NewDropout(p, s)
			b.Drop.SetTraining(false)
		}
	}
}

// SetTraining turns the blocks' dropout on (training) or off (sampling and the
// bound). It does nothing without SetDropout.
func (u *UNet) SetTraining(on bool) {
	for _, b := range u.blocks() {
		if b.Drop != nil {
			b.Drop.SetTraining(on)
		}
	}
}

// SetInference sets Inference on every convolution of the U-Net (see
// nn.Conv2D.Inference): while it is on, forward passes keep nothing for a
// backward pass (Winograd's V, patches), which sampling does not run.
func (u *UNet) SetInference(on bool) {
	for _, c := range []*nn.Conv2D{u.In, u.DS0, u.DS1, u.UC1, u.UC0, u.Out} {
		c.Inference = on
	}
	for _, b := range u.blocks() {
		b.Conv1.Inference, b.Conv2.Inference = on, on
		if b.Skip != nil {
			b.Skip.Inference = on
		}
	}
}

// SetLabels sets the labels of the next calls of Eps (one per row; Classes
// means none). Ignored by an unconditional U-Net.
func (u *UNet) SetLabels(labels []int) { u.labels = labels }

// oneHot sets dst (allocated or resized to len(labels) × (classes + 1)) to the
// one-hot codes of labels.
func oneHot(dst *tensor.Mat, labels []int, classes int) *tensor.Mat {
	dst = tensor.Reuse(dst, len(labels), classes+1)
	dst.Zero()
	for i, l := range labels {
		dst.Set(i, l, 1)
	}
	return dst
}

// Eps returns ε̂ (n × H·W·C) for the images x_t at steps t.
func (u *UNet) Eps(x *tensor.Mat, t []int) *tensor.Mat {
	if x.Cols != u.H*u.W*u.C || len(t) != x.Rows {
		panic(fmt.Sprintf("diffusion: U-Net of %d×%d×%d images: input %d×%d with %d steps", u.H, u.W, u.C, x.Rows, x.Cols, len(t)))
	}
	ch := u.Ch
	u.emb = nn.TimeEmbedding(u.emb, t, ch)
	pre := u.T2.Forward(u.TAct1.Forward(u.T1.Forward(u.emb)))
	if u.Classes > 0 {
		if len(u.labels) != x.Rows {
			panic(fmt.Sprintf("diffusion: conditional U-Net: %d labels for %d rows", len(u.labels), x.Rows))
		}
		u.onehot = oneHot(u.onehot, u.labels, u.Classes)
		u.pre = nn.Add(u.pre, pre, u.Cls.Forward(u.onehot))
		pre = u.pre
	}
	u.tau = u.TAct2.Forward(pre)
	d0 := u.Down0.Forward(u.In.Forward(x), u.tau)
	d1 := u.Down1.Forward(u.DS0.Forward(d0), u.tau)
	m := u.Mid.Forward(u.DS1.Forward(d1), u.tau)
	if u.Attn != nil {
		m = u.Attn.Forward(m)
	}
	u.cat1 = nn.ConcatChannels(u.cat1, u.UC1.Forward(u.US1.Forward(m)), d1, 2*ch, 2*ch)
	u1 := u.Up1.Forward(u.cat1, u.tau)
	u.cat0 = nn.ConcatChannels(u.cat0, u.UC0.Forward(u.US0.Forward(u1)), d0, ch, ch)
	u0 := u.Up0.Forward(u.cat0, u.tau)
	return u.Out.Forward(u.OutAct.Forward(u.OutGN.Forward(u0)))
}

// Backward sets every parameter's gradient for ∂L/∂ε̂ dy (after Eps).
func (u *UNet) Backward(dy *tensor.Mat) {
	ch := u.Ch
	u.dtau = tensor.Reuse(u.dtau, dy.Rows, 4*ch)
	u.dtau.Zero()
	du0 := u.OutGN.Backward(u.OutAct.Backward(u.Out.Backward(dy)))
	var dc *tensor.Mat
	dc, u.dskip0 = nn.SplitChannels(u.dup0, u.dskip0, u.Up0.Backward(du0, u.dtau), ch, ch)
	u.dup0 = dc
	du1 := u.US0.Backward(u.UC0.Backward(dc))
	dc, u.dskip1 = nn.SplitChannels(u.dup1, u.dskip1, u.Up1.Backward(du1, u.dtau), 2*ch, 2*ch)
	u.dup1 = dc
	dm := u.US1.Backward(u.UC1.Backward(dc))
	if u.Attn != nil {
		dm = u.Attn.Backward(dm)
	}
	u.dd1 = nn.Add(u.dd1, u.DS1.Backward(u.Mid.Backward(dm, u.dtau)), u.dskip1)
	u.g1 = nn.Add(u.g1, u.DS0.Backward(u.Down1.Backward(u.dd1, u.dtau)), u.dskip0)
	u.In.Backward(u.Down0.Backward(u.g1, u.dtau))
	dpre := u.TAct2.Backward(u.dtau)
	if u.Classes > 0 {
		u.Cls.Backward(dpre)
	}
	u.T1.Backward(u.TAct1.Backward(u.T2.Backward(dpre)))
}

// Params returns every parameter in a fixed order.
func (u *UNet) Params() []*nn.Param {
	var ps []*nn.Param
	for _, l := range []nn.Layer{u.T1, u.T2, u.In} {
		ps = append(ps, l.Params()...)
	}
	ps = append(ps, u.Down0.Params()...)
	ps = append(ps, u.DS0.Params()...)
	ps = append(ps, u.Down1.Params()...)
	ps = append(ps, u.DS1.Params()...)
	ps = append(ps, u.Mid.Params()...)
	ps = append(ps, u.UC1.Params()...)
	ps = append(ps, u.Up1.Params()...)
	ps = append(ps, u.UC0.Params()...)
	ps = append(ps, u.Up0.Params()...)
	for _, l := range []nn.Layer{u.OutGN, u.Out} {
		ps = append(ps, l.Params()...)
	}
	if u.Classes > 0 {
		ps = append(ps, u.Cls.Params()...)
	}
	if u.Attn != nil {
		ps = append(ps, u.Attn.Params()...)
	}
	return ps
}
