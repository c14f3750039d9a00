"""The ddpm U-Net in PyTorch, the same network and algorithm as latent's
(diffusion/unet.go, UNet and ResBlock; diffusion/ddpm.go, GaussModel.step and
Generate; diffusion/gaussian.go, DDIM), for bench/diffusion/run.sh. NCHW.

  tau  = SiLU(Lin(SiLU(Lin(emb(t)))))       emb: [sin(t w_k), cos(t w_k)], w_k = 10000^(-2k/ch)
  h0   = Conv3x3(x)                                       28x28 x ch
  d0   = Res(h0)                                          28x28 x ch   (skip)
  d1   = Res(Down(d0))                                    14x14 x 2ch  (skip)
  m    = Res(Down(d1))                                    7x7   x 2ch
  u1   = Res(cat[Conv3x3(Up(m)),  d1])                    14x14 x 2ch
  u0   = Res(cat[Conv3x3(Up(u1)), d0])                    28x28 x ch
  eps  = Conv3x3(SiLU(GN(u0)))                            28x28 x 1

Res(x) = Conv2(SiLU(GN2(h))) + skip(x), h = Conv1(SiLU(GN1(x))) + Lin(tau);
skip is a 1x1 conv when the channels change; GroupNorm with 8 groups when they
divide the channels (else 4, 2, 1), eps 1e-5; Down a 3x3 conv of stride 2, Up
nearest x2; the time MLP is ch -> 4ch -> 4ch; the last conv starts at zero.
latent's `train ddpm` defaults: ch = 32, T = 1000, linear beta 1e-4..0.02,
Adam 5e-4 (0.9, 0.999, 1e-8), gradient norm clipped at 1, EMA decay
min(0.999, (1+s)/(10+s)) at step s.

--train: one training step at batch 128: x -> 2x-1, t ~ U{1..T}, eps ~ N(0, I),
x_t = sqrt(ab_t) x + sqrt(1-ab_t) eps, L = mean (eps - net(x_t, t))^2,
backward, clip, Adam, EMA.
--ddim: DDIM sampling (eta = 0) with S steps t_i = round(i T / S) of N images
in batches of --batch (latent samples all N in one batch), x0 clipped to
[-1, 1] and eps recomputed from it, as latent's sampler does.

--check DIR: the same-network check. Loads the weights latent's U-Net was given
by bench/diffusion/unetdump into this network, computes eps for the same images
and steps and the gradients of sum(c * eps), and compares them with latent's:
exits with status 1 unless max|eps - eps_latent| <= 1e-4 max(1, max|eps|) and,
for every parameter, max|g - g_latent| <= 1e-3 max|g|.

--mnist SECONDS: the training run beside `latent train ddpm --data mnist` for
the same wall time (bench/diffusion/duel.sh): starts from latent's
initialisation (--init DIR, written by `unetdump -init`), trains on MNIST's
60,000 training images (LATENT_DATA/mnist, [0, 1] -> [-1, 1], reshuffled every
epoch) at batch 128 until SECONDS have passed or --stop-file exists (checked
after every step), then draws --n images by DDIM (--S steps, eta 0) from the EMA
weights and writes them to --out as a float32 .npy of shape (n, 784) in [0, 1].

Random images for --train and --ddim (the cost does not depend on them).
Prints one JSON line.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
mode = p.add_mutually_exclusive_group(required=True)
mode.add_argument("--train", action="store_true", help="time training steps")
mode.add_argument("--ddim", action="store_true", help="time DDIM sampling")
mode.add_argument("--params", action="store_true", help="print the parameter count only")
mode.add_argument("--mnist", type=float, metavar="SECONDS", help="train on MNIST for SECONDS of wall time, then sample")
mode.add_argument("--check", metavar="DIR", help="load latent's U-Net from DIR (go run ./bench/diffusion/unetdump -out DIR) "
                  "and check that this network computes the same eps and gradients")
p.add_argument("--steps", type=int, default=5, help="--train: timed steps")
p.add_argument("--warmup", type=int, default=2, help="--train: untimed steps first")
p.add_argument("--batch", type=int, default=0, help="--train: batch (0: 128); --ddim: images per batch (0: all N)")
p.add_argument("--n", type=int, default=1000, help="--ddim: images")
p.add_argument("--S", type=int, default=50, help="--ddim: DDIM steps")
p.add_argument("--channels", type=int, default=32)
p.add_argument("--T", type=int, default=1000)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--init", metavar="DIR", help="--mnist: latent's initial weights (unetdump -init -out DIR)")
p.add_argument("--stop-file", metavar="FILE", help="--mnist: stop training once FILE exists")
p.add_argument("--out", metavar="FILE", help="--mnist: the samples (.npy)")
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
H = W = 28
C = 1


def groups_for(c):
    for g in (8, 4, 2):
        if c % g == 0:
            return g
    return 1


def time_embedding(t, dims):
    half = dims // 2
    k = torch.arange(half, dtype=torch.float64)
    w = torch.exp(-(2 * k) / dims * math.log(10000))
    a = t.to(torch.float64)[:, None] * w[None, :]
    return torch.cat([torch.sin(a), torch.cos(a)], 1).float()


class ResBlock(nn.Module):
    def __init__(self, cin, cout, td):
        super().__init__()
        self.gn1 = nn.GroupNorm(groups_for(cin), cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(td, cout)
        self.gn2 = nn.GroupNorm(groups_for(cout), cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, tau):
        h = self.conv1(F.silu(self.gn1(x))) + self.time(tau)[:, :, None, None]
        r = self.conv2(F.silu(self.gn2(h)))
        return r + (x if self.skip is None else self.skip(x))


class UNet(nn.Module):
    def __init__(self, c, ch):
        super().__init__()
        td = 4 * ch
        self.ch = ch
        self.t1 = nn.Linear(ch, td)
        self.t2 = nn.Linear(td, td)
        self.inc = nn.Conv2d(c, ch, 3, padding=1)
        self.down0 = ResBlock(ch, ch, td)
        self.ds0 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.down1 = ResBlock(ch, 2 * ch, td)
        self.ds1 = nn.Conv2d(2 * ch, 2 * ch, 3, stride=2, padding=1)
        self.mid = ResBlock(2 * ch, 2 * ch, td)
        self.uc1 = nn.Conv2d(2 * ch, 2 * ch, 3, padding=1)
        self.up1 = ResBlock(4 * ch, 2 * ch, td)
        self.uc0 = nn.Conv2d(2 * ch, ch, 3, padding=1)
        self.up0 = ResBlock(2 * ch, ch, td)
        self.outgn = nn.GroupNorm(groups_for(ch), ch, eps=1e-5)
        self.out = nn.Conv2d(ch, c, 3, padding=1)
        with torch.no_grad():
            self.out.weight.zero_()
            self.out.bias.zero_()

    def forward(self, x, t):
        tau = F.silu(self.t2(F.silu(self.t1(time_embedding(t, self.ch)))))
        d0 = self.down0(self.inc(x), tau)
        d1 = self.down1(self.ds0(d0), tau)
        m = self.mid(self.ds1(d1), tau)
        u1 = self.up1(torch.cat([self.uc1(F.interpolate(m, scale_factor=2, mode="nearest")), d1], 1), tau)
        u0 = self.up0(torch.cat([self.uc0(F.interpolate(u1, scale_factor=2, mode="nearest")), d0], 1), tau)
        return self.out(F.silu(self.outgn(u0)))


net = UNet(C, a.channels)
nparams = sum(q.numel() for q in net.parameters())

# The linear schedule of Ho et al. 2020 in float64, as diffusion.NewLinearScaled.
k = 1000 / a.T
beta = [min(k * (1e-4 + (0.02 - 1e-4) * (t - 1) / (a.T - 1)), 0.999) for t in range(1, a.T + 1)]
ab = [1.0]
for b in beta:
    ab.append(ab[-1] * (1 - b))
sqrt_ab = torch.tensor([math.sqrt(v) for v in ab], dtype=torch.float32)
sqrt_1mab = torch.tensor([math.sqrt(1 - v) for v in ab], dtype=torch.float32)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return ";".join("%s %s %s" % (i.get("internal_api"), i.get("version"), i.get("architecture"))
                        for i in threadpool_info() if i.get("user_api") == "blas")
    except Exception as e:  # noqa: BLE001
        return "threadpoolctl unavailable: %s" % e


def from_latent(flat, shape):
    """A parameter of torch shape from latent's layout of the same weights."""
    import numpy as np  # noqa: F401
    if len(shape) == 4:  # conv (out, in, k, k) from latent's (k·k·in, out), row (ky·k + kx)·in + c
        o, i, k, _ = shape
        return torch.from_numpy(flat.reshape(k, k, i, o).transpose(3, 2, 0, 1).copy())
    if len(shape) == 2:  # linear (out, in) from latent's (in, out)
        o, i = shape
        return torch.from_numpy(flat.reshape(i, o).T.copy())
    return torch.from_numpy(flat.copy())


def ddim_sample(net, n, S):
    """DDIM (eta = 0) with S steps t_i = round(i T / S), x0 clipped to [-1, 1]; images in [0, 1]."""
    if not 1 <= S <= a.T:
        raise SystemExit("unet_torch.py: --S must be in [1, T], got %d" % S)
    # the steps of Gaussian.DDIMSteps: round(i T / S) (Go's math.Round, half away from zero)
    tau = [max(1, int(math.floor(i * a.T / S + 0.5))) for i in range(1, S + 1)]
    x = torch.randn(n, C, H, W)
    for i in range(S - 1, -1, -1):
        t, prev = tau[i], (tau[i - 1] if i > 0 else 0)
        e = net(x, torch.full((n,), t, dtype=torch.long))
        sab, s1ab = float(sqrt_ab[t]), float(sqrt_1mab[t])
        x0 = ((x - s1ab * e) / sab).clamp_(-1, 1)
        e = (x - sab * x0) / s1ab
        x = math.sqrt(ab[prev]) * x0 + math.sqrt(1 - ab[prev]) * e
    return ((x + 1) / 2).clamp_(0, 1)


def train_step(net, params, ema, opt, y, nstep):
    """One step of latent's GaussModel.step: L_simple, clip at 1, Adam, EMA."""
    B = y.shape[0]
    t = torch.randint(1, a.T + 1, (B,))
    eps = torch.randn_like(y)
    xt = sqrt_ab[t][:, None, None, None] * y + sqrt_1mab[t][:, None, None, None] * eps
    loss = F.mse_loss(net(xt, t), eps)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    d = min(0.999, (1 + nstep) / (10 + nstep))
    with torch.no_grad():
        torch._foreach_mul_(ema, d)
        torch._foreach_add_(ema, params, alpha=1 - d)
    return float(loss)


res = {"params": nparams, "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas_info(),
       "mkldnn": torch.backends.mkldnn.is_available(), "channels": a.channels, "T": a.T}

if a.mnist is not None:
    import gzip
    import os

    import numpy as np

    if not a.init or not a.out:
        raise SystemExit("unet_torch.py: --mnist needs --init DIR and --out FILE")
    meta = json.load(open(os.path.join(a.init, "init.json")))
    if meta["channels"] != a.channels:
        raise SystemExit("unet_torch.py: %s holds a U-Net with %d channels, --channels is %d" % (a.init, meta["channels"], a.channels))
    params = list(net.parameters())
    raw = np.fromfile(os.path.join(a.init, "init.bin"), dtype="<f4")
    if [q.numel() for q in params] != meta["sizes"] or raw.size != sum(meta["sizes"]):
        raise SystemExit("unet_torch.py: %s does not hold this network's weights" % a.init)
    with torch.no_grad():
        o = 0
        for q, sz in zip(params, meta["sizes"]):
            q.copy_(from_latent(raw[o:o + sz], tuple(q.shape)))
            o += sz
    path = os.path.join(os.environ.get("LATENT_DATA", "/work/shared/data"), "mnist", "train-images-idx3-ubyte.gz")
    with gzip.open(path) as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    data = torch.from_numpy(data.astype(np.float32) / 255.0 * 2 - 1)
    B = a.batch or 128
    ema = [q.detach().clone() for q in params]
    opt = torch.optim.Adam(params, lr=5e-4, betas=(0.9, 0.999), eps=1e-8)
    t0, c0 = time.perf_counter(), time.process_time()
    nstep, epochs, losses = 0, 0, []
    done = False
    while not done:
        perm = torch.randperm(data.shape[0])
        for lo in range(0, data.shape[0], B):
            losses.append(train_step(net, params, ema, opt, data[perm[lo:lo + B]], nstep))
            nstep += 1
            if time.perf_counter() - t0 >= a.mnist or (a.stop_file and os.path.exists(a.stop_file)):
                done = True
                break
        else:
            epochs += 1
    t1, c1 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for q, e in zip(params, ema):
            q.copy_(e)
    with torch.inference_mode():
        s0 = time.perf_counter()
        imgs = torch.cat([ddim_sample(net, min(64, a.n - lo), a.S) for lo in range(0, a.n, 64)])
        s1 = time.perf_counter()
    np.save(a.out, imgs.reshape(a.n, -1).numpy().astype(np.float32))
    res.update({"mode": "mnist", "batch": B, "steps": nstep, "epochs": nstep * B / data.shape[0], "train_seconds": t1 - t0,
                "train_cpu_seconds": c1 - c0, "last_100_loss": sum(losses[-100:]) / len(losses[-100:]),
                "samples": a.n, "S": a.S, "sample_seconds": s1 - s0, "out": a.out})
elif a.train:
    B = a.batch or 128
    params = list(net.parameters())
    ema = [q.detach().clone() for q in params]
    opt = torch.optim.Adam(params, lr=5e-4, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(B, C, H, W)
    nstep = [0]

    def step():
        train_step(net, params, ema, opt, 2 * x - 1, nstep[0])
        nstep[0] += 1

    for _ in range(a.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        step()
    t1, c1 = time.perf_counter(), time.process_time()
    res.update({"mode": "train", "batch": B, "steps": a.steps,
                "seconds_per_step": (t1 - t0) / a.steps, "cpu_seconds_per_step": (c1 - c0) / a.steps})
elif a.ddim:
    N, S = a.n, a.S
    B = a.batch or N

    def sample(n):
        return ddim_sample(net, n, S)

    with torch.inference_mode():
        net(torch.randn(min(B, 16), C, H, W), torch.full((min(B, 16),), 1, dtype=torch.long))  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        done = 0
        while done < N:
            sample(min(B, N - done))
            done += min(B, N - done)
        t1, c1 = time.perf_counter(), time.process_time()
    res.update({"mode": "ddim", "n": N, "S": S, "batch": B, "seconds": t1 - t0,
                "seconds_per_image": (t1 - t0) / N, "cpu_seconds_per_image": (c1 - c0) / N})
elif a.check:
    import numpy as np

    meta = json.load(open(a.check + "/unet.json"))
    sizes, n, steps = meta["sizes"], meta["n"], meta["t"]
    net = UNet(C, meta["channels"])
    params = list(net.named_parameters())
    if [q.numel() for _, q in params] != sizes:
        raise SystemExit("unet_torch.py: latent's parameter sizes %s differ from this network's %s" % (sizes, [q.numel() for _, q in params]))
    raw = np.fromfile(a.check + "/unet.bin", dtype="<f4")
    P, D = sum(sizes), H * W * C
    if raw.size != 2 * P + 3 * n * D:
        raise SystemExit("unet_torch.py: %s/unet.bin has %d values, want %d" % (a.check, raw.size, 2 * P + 3 * n * D))
    ws, gs = raw[:P], raw[P:2 * P]
    x, cot, eps_l = (raw[2 * P + k * n * D:2 * P + (k + 1) * n * D] for k in range(3))

    def images(flat):  # latent's rows (H·W·C, channel fastest) to NCHW
        return torch.from_numpy(flat.reshape(n, H, W, C).transpose(0, 3, 1, 2).copy())

    off = []
    with torch.no_grad():
        o = 0
        for (_, q), sz in zip(params, sizes):
            q.copy_(from_latent(ws[o:o + sz], tuple(q.shape)))
            off.append(o)
            o += sz
    eps = net(images(x), torch.tensor(steps))
    (eps * images(cot)).sum().backward()
    de = float((eps - images(eps_l)).abs().max())
    scale = max(1.0, float(eps.abs().max()))
    worst, wname = 0.0, ""
    for (name, q), o, sz in zip(params, off, sizes):
        r = float((q.grad - from_latent(gs[o:o + sz], tuple(q.shape))).abs().max() / (q.grad.abs().max() + 1e-30))
        if r >= worst:
            worst, wname = r, name
    ok = de <= 1e-4 * scale and worst <= 1e-3
    res.update({"mode": "check", "channels": meta["channels"], "params": P, "max_abs_eps_diff": de, "max_abs_eps": float(eps.abs().max()),
                "worst_grad_rel_diff": worst, "worst_grad_param": wname, "same_network": ok})
    print(json.dumps(res))
    sys.exit(0 if ok else 1)
else:
    res["mode"] = "params"
print(json.dumps(res))
