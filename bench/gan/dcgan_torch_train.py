"""Train the DCGAN of dcgan_torch.py (latent's dcgan: the same networks, losses,
Adam settings and weight average) on MNIST's 60,000 training images in PyTorch,
and write 10,000 samples of the averaged generator as a .npy file for
bench/diffusion/fidnpy, so that the FID and the class histogram of latent's
DCGAN can be put beside PyTorch's after the same number of epochs.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/gan/dcgan_torch_train.py \
      --data ../shared/data/mnist --epochs 3 --out torch-dcgan-3.npy
  go run ./bench/diffusion/fidnpy -samples torch-dcgan-3.npy

Before sampling, the averaged generator's BatchNorm statistics are recomputed
from 20 batches of 256 draws (momentum None: the mean of the batch statistics),
as latent does at the end of every epoch. Prints one JSON line per epoch
(losses, D(x), D(G(z)), seconds) on stderr.
"""
import argparse
import copy
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="folder with train-images-idx3-ubyte.gz")
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--n", type=int, default=10000, help="samples to write")
p.add_argument("--limit", type=int, default=0, help="train on the first LIMIT images only (a smoke test)")
p.add_argument("--out", required=True, help=".npy file for the samples")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)

W, Z = 64, 100


class G(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(Z, 7 * 7 * 2 * W)
        self.bn0 = torch.nn.BatchNorm2d(2 * W)
        self.up1 = torch.nn.ConvTranspose2d(2 * W, W, 4, 2, 1)
        self.bn1 = torch.nn.BatchNorm2d(W)
        self.up2 = torch.nn.ConvTranspose2d(W, 1, 4, 2, 1)

    def forward(self, z):
        h = F.relu(self.bn0(self.fc(z).view(-1, 2 * W, 7, 7)))
        h = F.relu(self.bn1(self.up1(h)))
        return torch.sigmoid(self.up2(h))


class D(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, W, 4, 2, 1)
        self.c2 = torch.nn.Conv2d(W, 2 * W, 4, 2, 1)
        self.bn = torch.nn.BatchNorm2d(2 * W)
        self.fc = torch.nn.Linear(7 * 7 * 2 * W, 1)

    def forward(self, x):
        h = F.leaky_relu(self.c1(x), 0.2)
        h = F.leaky_relu(self.bn(self.c2(h)), 0.2)
        return self.fc(h.flatten(1))


with gzip.open(os.path.join(a.data, "train-images-idx3-ubyte.gz"), "rb") as f:
    x_all = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 1, 28, 28)
x_all = torch.from_numpy(x_all.astype(np.float32) / 255)
if a.limit > 0:
    x_all = x_all[:a.limit]

g, d = G(), D()
g_avg = copy.deepcopy(g)
og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
steps = 0
for epoch in range(1, a.epochs + 1):
    t0 = time.perf_counter()
    perm = torch.randperm(len(x_all))
    sums = np.zeros(4)
    nb = 0
    for i in range(0, len(x_all), a.batch):
        x = x_all[perm[i:i + a.batch]]
        n = len(x)
        od.zero_grad()
        fake = g(torch.randn(n, Z)).detach()
        lr_, lf = d(x), d(fake)
        dl = F.binary_cross_entropy_with_logits(lr_, torch.ones_like(lr_)) + \
            F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
        dl.backward()
        od.step()
        og.zero_grad()
        gl = F.binary_cross_entropy_with_logits(d(g(torch.randn(n, Z))), torch.ones(n, 1))
        gl.backward()
        og.step()
        dec = min(0.999, (1 + steps) / (10 + steps))  # latent's warm-up of the average
        steps += 1
        with torch.no_grad():
            for e, q in zip(g_avg.parameters(), g.parameters()):
                e.mul_(dec).add_(q, alpha=1 - dec)
        sums += [dl.item(), gl.item(), torch.sigmoid(lr_).mean().item(), torch.sigmoid(lf).mean().item()]
        nb += 1
    s = sums / nb
    print(json.dumps({"epoch": epoch, "d_loss": s[0], "g_loss": s[1], "d_real": s[2], "d_fake": s[3],
                      "seconds": time.perf_counter() - t0}), file=sys.stderr, flush=True)

# The averaged generator's own BatchNorm statistics, then samples in eval mode.
with torch.no_grad():
    for m in g_avg.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    g_avg.train()
    for _ in range(20):
        g_avg(torch.randn(256, Z))
    g_avg.eval()
    out = torch.cat([g_avg(torch.randn(500, Z)) for _ in range((a.n + 499) // 500)])[:a.n]
np.save(a.out, out.reshape(a.n, 784).numpy().astype(np.float32))
