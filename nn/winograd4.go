package nn

//go:generate sh -c "cd internal/wggen && go run . -out ../../winograd4_amd64.s -stubs ../../winograd4_stub_amd64.go -pkg nn"

// Winograd's F(4×4, 3×3) (Lavin & Gray 2016, section 4.2): 6×6 input tiles for
// 4×4 output tiles, 36 multiplications per 16 outputs where F(2×2, 3×3) takes
// 64 and the direct form 144, with the interpolation points 0, ±1, ±2, ∞:
//
//	Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//	G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
//	Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
//
// The GEMMs of the 36 planes cost 36/64 of F(2×2, 3×3)'s for the same outputs,
// and the planes take 36/64 of the memory. The transforms below share
// subexpressions; each AVX2 kernel (winograd4_amd64.s) computes the same
// operations in the same order, so the bits are the same.

// wg4BT: o = Bᵀ in:
//
//	o0 = 4a − 5c + e,        o1 = (d + e) − 4(b + c),  o2 = (e − d) + 4(b − c),
//	o3 = (e − c) + 2(d − b), o4 = (e − c) − 2(d − b),  o5 = 4b − 5d + f.
func wg4BT(o, in *wgVecs) {
	o0, o1, o2, o3, o4, o5 := o[0], o[1], o[2], o[3], o[4], o[5]
	n := len(o0)
	a, b, c, d, e, f := in[0][:n], in[1][:n], in[2][:n], in[3][:n], in[4][:n], in[5][:n]
	o1, o2, o3, o4, o5 = o1[:n], o2[:n], o3[:n], o4[:n], o5[:n]
	k := 0
	if wg4Asm && n >= 8 {
		k = n &^ 7
		wg4BTx8(o, in, k)
	}
	for i := k; i < n; i++ {
		bi, ci, di, ei := b[i], c[i], d[i], e[i]
		o0[i] = 4*a[i] - 5*ci + ei
		o1[i] = (di + ei) - 4*(bi+ci)
		o2[i] = (ei - di) + 4*(bi-ci)
		ec, db := ei-ci, 2*(di-bi)
		o3[i] = ec + db
		o4[i] = ec - db
		o5[i] = 4*bi - 5*di + f[i]
	}
}

// wg4B: o = B in (or o += B in), the adjoint of wg4BT. With s = b + c,
// t = c − b, u = d + e, v = d − e:
//
//	o0 = 4a,                 o1 = 4t − 2v + 4f,  o2 = −5a − 4s − u,
//	o3 = 2v − t − 5f,        o4 = a + s + u,     o5 = f.
func wg4B(o, in *wgVecs, add bool) {
	o0, o1, o2, o3, o4, o5 := o[0], o[1], o[2], o[3], o[4], o[5]
	n := len(o0)
	a, b, c, d, e, f := in[0][:n], in[1][:n], in[2][:n], in[3][:n], in[4][:n], in[5][:n]
	o1, o2, o3, o4, o5 = o1[:n], o2[:n], o3[:n], o4[:n], o5[:n]
	k := 0
	if wg4Asm && n >= 8 {
		k = n &^ 7
		if add {
			wg4BAddx8(o, in, k)
		} else {
			wg4Bx8(o, in, k)
		}
	}
	for i := k; i < n; i++ {
		ai, fi := a[i], f[i]
		s, t, u, v := b[i]+c[i], c[i]-b[i], d[i]+e[i], d[i]-e[i]
		r0 := 4 * ai
		r1 := 4*t - 2*v + 4*fi
		r2 := -5*ai - 4*s - u
		r3 := 2*v - t - 5*fi
		r4 := ai + s + u
		if add {
			o0[i] += r0
			o1[i] += r1
			o2[i] += r2
			o3[i] += r3
			o4[i] += r4
			o5[i] += fi
		} else {
			o0[i], o1[i], o2[i], o3[i], o4[i], o5[i] = r0, r1, r2, r3, r4, fi
		}
	}
}

// wg4AT: o[:4] = Aᵀ in (+ bias). With s = b + c, t = b − c, u = d + e,
// v = d − e:
//
//	o0 = a + s + u,  o1 = t + 2v,  o2 = s + 4u,  o3 = t + 8v + f.
func wg4AT(o, in *wgVecs, bias []float32) {
	o0, o1, o2, o3 := o[0], o[1], o[2], o[3]
	n := len(o0)
	a, b, c, d, e, f := in[0][:n], in[1][:n], in[2][:n], in[3][:n], in[4][:n], in[5][:n]
	o1, o2, o3 = o1[:n], o2[:n], o3[:n]
	k := 0
	if wg4Asm && n >= 8 {
		k = n &^ 7
		if bias != nil {
			wg4ATx8(o, in, &bias[0], k)
		} else {
			wg4ATNx8(o, in, k)
		}
	}
	for i := k; i < n; i++ {
		s, t, u, v := b[i]+c[i], b[i]-c[i], d[i]+e[i], d[i]-e[i]
		r0, r1, r2, r3 := a[i]+s+u, t+2*v, s+4*u, t+8*v+f[i]
		if bias != nil {
			bi := bias[i]
			r0, r1, r2, r3 = r0+bi, r1+bi, r2+bi, r3+bi
		}
		o0[i], o1[i], o2[i], o3[i] = r0, r1, r2, r3
	}
}

// wg4A: o = A in[:4], the adjoint of wg4AT. With e = p + r, f = q + s,
// g = p + 4r, h = 2q + 8s:
//
//	o0 = p,  o1 = e + f,  o2 = e − f,  o3 = g + h,  o4 = g − h,  o5 = s.
func wg4A(o, in *wgVecs) {
	o0, o1, o2, o3, o4, o5 := o[0], o[1], o[2], o[3], o[4], o[5]
	n := len(o0)
	p, q, r, s := in[0][:n], in[1][:n], in[2][:n], in[3][:n]
	o1, o2, o3, o4, o5 = o1[:n], o2[:n], o3[:n], o4[:n], o5[:n]
	k := 0
	if wg4Asm && n >= 8 {
		k = n &^ 7
		wg4Ax8(o, in, k)
	}
	for i := k; i < n; i++ {
		pi, qi, ri, si := p[i], q[i], r[i], s[i]
		e, f := pi+ri, qi+si
		g, h := pi+4*ri, 2*qi+8*si
		o0[i], o1[i], o2[i], o3[i], o4[i], o5[i] = pi, e+f, e-f, g+h, g-h, si
	}
}

// The weight transforms' divisions by 6, 12 and 24 are products with the
// float64 reciprocals: a division took about 5 cycles, and the transform of
// c4's 64×64 kernels was 15% of its forward pass at batch 64 (session 24).
const (
	wgSixth = 1.0 / 6
	wg12th  = 1.0 / 12
	wg24th  = 1.0 / 24
)

// wgWeightConsts are the constants of wg4Gx4 and wg4GTx4 (wgweights_amd64.s),
// vectorised forms of wg4G and wg4GT: in float64, four values at a time, the
// same operations in the same order. The transform of c4's weights (64×64
// kernels) went from 100 to 36 µs at one thread (session 24).
var wgWeightConsts = [6]float64{4, 0.25, -wgSixth, wg24th, wgSixth, wg12th}

// wg4G: o = G in, for the kernel's rows (a, b, c):
//
//	o0 = a/4,  o1 = −(a + b + c)/6,  o2 = −(a − b + c)/6,
//	o3 = (a + 2b + 4c)/24,  o4 = (a − 2b + 4c)/24,  o5 = c.
func wg4G(o *wgVecs, in *[3][]float32) {
	o0, o1, o2, o3, o4, o5 := o[0], o[1], o[2], o[3], o[4], o[5]
	n := len(o0)
	a, b, c := in[0][:n], in[1][:n], in[2][:n]
	o1, o2, o3, o4, o5 = o1[:n], o2[:n], o3[:n], o4[:n], o5[:n]
	k := 0
	if wgAsm && n >= 4 {
		k = n &^ 3
		op := [6]*float32{&o0[0], &o1[0], &o2[0], &o3[0], &o4[0], &o5[0]}
		wg4Gx4(&op, &a[0], &b[0], &c[0], &wgWeightConsts, k)
	}
	for i := k; i < n; i++ {
		ai, bi, ci := float64(a[i]), float64(b[i]), float64(c[i])
		ac, ac4 := ai+ci, ai+4*ci
		o0[i] = float32(ai * 0.25)
		o1[i] = float32(-(ac + bi) * wgSixth)
		o2[i] = float32(-(ac - bi) * wgSixth)
		o3[i] = float32((ac4 + 2*bi) * wg24th)
		o4[i] = float32((ac4 - 2*bi) * wg24th)
		o5[i] = c[i]
	}
}

// wg4GT: o = Gᵀ in, the adjoint of wg4G:
//
//	o0 = a/4 − (b + c)/6 + (d + e)/24,
//	o1 = (c − b)/6 + (d − e)/12,
//	o2 = −(b + c)/6 + (d + e)/6 + f.
func wg4GT(o *[3][]float32, in *wgVecs) {
	o0, o1, o2 := o[0], o[1], o[2]
	n := len(o0)
	a, b, c, d, e, f := in[0][:n], in[1][:n], in[2][:n], in[3][:n], in[4][:n], in[5][:n]
	o1, o2 = o1[:n], o2[:n]
	k := 0
	if wgAsm && n >= 4 {
		k = n &^ 3
		ip := [6]*float32{&a[0], &b[0], &c[0], &d[0], &e[0], &f[0]}
		wg4GTx4(&o0[0], &o1[0], &o2[0], &ip, &wgWeightConsts, k)
	}
	// The products are rounded before the sums (the conversions), so that a
	// compiler that fuses multiply-adds gives the kernel's bits too.
	for i := k; i < n; i++ {
		bc, de := float64(b[i])+float64(c[i]), float64(d[i])+float64(e[i])
		o0[i] = float32(float64(float64(a[i])*0.25) - float64(bc*wgSixth) + float64(de*wg24th))
		o1[i] = float32(float64((float64(c[i])-float64(b[i]))*wgSixth) + float64((float64(d[i])-float64(e[i]))*wg12th))
		o2[i] = float32(float64(-bc*wgSixth) + float64(de*wgSixth) + float64(f[i]))
	}
}
