package diffusion

import (
	"testing"

	"github.com/latent-ml/latent/rng"
)

// unetParamsClosedForm counts the weights of the U-Net of unet.go's doc
// comment layer by layer, as PyTorch's nn.Conv2d, nn.Linear and nn.GroupNorm
// count them (weights and biases, γ and β), for c image channels, ch channels
// at full resolution and classes labels (0: unconditional). bench/diffusion's
// PyTorch network must have the same count; run.sh checks that it does.
func unetParamsClosedForm(c, ch, classes int, attn bool) int {
	td := 4 * ch
	conv := func(k, in, out int) int { return k*k*in*out + out }
	lin := func(in, out int) int { return in*out + out }
	gn := func(c int) int { return 2 * c }
	res := func(in, out int) int {
		n := gn(in) + conv(3, in, out) + lin(td, out) + gn(out) + conv(3, out, out)
		if in != out {
			n += conv(1, in, out)
		}
		return n
	}
	n := lin(ch, td) + lin(td, td) + conv(3, c, ch) +
		res(ch, ch) + conv(3, ch, ch) + // Down0, DS0
		res(ch, 2*ch) + conv(3, 2*ch, 2*ch) + // Down1, DS1
		res(2*ch, 2*ch) + // Mid
		conv(3, 2*ch, 2*ch) + res(4*ch, 2*ch) + // UC1, Up1
		conv(3, 2*ch, ch) + res(2*ch, ch) + // UC0, Up0
		gn(ch) + conv(3, ch, c) // OutGN, Out
	if classes > 0 {
		n += lin(classes+1, td)
	}
	if attn { // GroupNorm, QKV and the output projection at 2ch channels
		n += gn(2*ch) + lin(2*ch, 6*ch) + lin(2*ch, 2*ch)
	}
	return n
}

// The U-Net's weights, counted, are the closed form's (the bench's PyTorch
// network, bench/diffusion/unet_torch.py, has 455809 at ch = 32 and c = 1).
func TestUNetParamCount(t *testing.T) {
	for _, tc := range []struct {
		c, ch, classes int
		attn           bool
	}{{1, 32, 0, false}, {1, 2, 0, false}, {3, 6, 0, false}, {1, 10, 10, false}, {1, 32, 0, true}, {1, 10, 10, true}} {
		u := NewUNetCond(8, 8, tc.c, tc.ch, tc.classes, rng.New(1))
		if tc.attn {
			u.AddAttention(rng.New(2))
		}
		got := 0
		for _, p := range u.Params() {
			got += len(p.W)
		}
		if want := unetParamsClosedForm(tc.c, tc.ch, tc.classes, tc.attn); got != want {
			t.Errorf("U-Net c=%d ch=%d classes=%d attention %t: %d weights, closed form %d", tc.c, tc.ch, tc.classes, tc.attn, got, want)
		}
	}
}
