"""One DCGAN training step in PyTorch, the same network and algorithm as latent's
dcgan (gan/gan.go, buildDCGAN and Model.Epoch), for bench/gan/run.sh:

  G: z(100) -> Linear -> 7x7x128, BN, ReLU -> ConvT 4x4/2 -> 14x14x64, BN, ReLU
     -> ConvT 4x4/2 -> 28x28x1, sigmoid
  D: x -> Conv 4x4/2 -> 14x14x64, LeakyReLU(0.2) -> Conv 4x4/2 -> 7x7x128, BN,
     LeakyReLU(0.2) -> Linear -> 1 logit

A step: D on a real batch and a batch G(z) (separate BatchNorm batches, as in
pytorch/examples dcgan), one Adam step (2e-4, betas 0.5/0.999); G on a fresh z
with the non-saturating loss -log D(G(z)), one Adam step; the moving average of
G's weights (decay 0.999). Batch 64 of 28x28 images (random values: the cost
does not depend on them). Prints one JSON line.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=10)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--batch", type=int, default=64)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
W, Z = 64, 100


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(Z, 7 * 7 * 2 * W)
        self.bn0 = nn.BatchNorm2d(2 * W)
        self.up1 = nn.ConvTranspose2d(2 * W, W, 4, 2, 1)
        self.bn1 = nn.BatchNorm2d(W)
        self.up2 = nn.ConvTranspose2d(W, 1, 4, 2, 1)

    def forward(self, z):
        h = F.relu(self.bn0(self.fc(z).view(-1, 2 * W, 7, 7)))
        h = F.relu(self.bn1(self.up1(h)))
        return torch.sigmoid(self.up2(h))


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, W, 4, 2, 1)
        self.c2 = nn.Conv2d(W, 2 * W, 4, 2, 1)
        self.bn = nn.BatchNorm2d(2 * W)
        self.fc = nn.Linear(7 * 7 * 2 * W, 1)

    def forward(self, x):
        h = F.leaky_relu(self.c1(x), 0.2)
        h = F.leaky_relu(self.bn(self.c2(h)), 0.2)
        return self.fc(h.flatten(1))


g, d = G(), D()
ema = [q.detach().clone() for q in g.parameters()]
og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
x = torch.rand(a.batch, 1, 28, 28)
ones, zeros = torch.ones(a.batch, 1), torch.zeros(a.batch, 1)


def step():
    od.zero_grad()
    fake = g(torch.randn(a.batch, Z)).detach()
    loss = F.binary_cross_entropy_with_logits(d(x), ones) + F.binary_cross_entropy_with_logits(d(fake), zeros)
    loss.backward()
    od.step()
    og.zero_grad()
    gl = F.binary_cross_entropy_with_logits(d(g(torch.randn(a.batch, Z))), ones)
    gl.backward()
    og.step()
    with torch.no_grad():
        for e, q in zip(ema, g.parameters()):
            e.mul_(0.999).add_(q, alpha=0.001)


for _ in range(a.warmup):
    step()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(a.steps):
    step()
t1, c1 = time.perf_counter(), time.process_time()
try:
    from threadpoolctl import threadpool_info
    blas = ";".join("%s %s %s" % (i.get("internal_api"), i.get("version"), i.get("architecture")) for i in threadpool_info() if i.get("user_api") == "blas")
except Exception as e:  # noqa: BLE001
    blas = "threadpoolctl unavailable: %s" % e
print(json.dumps({"seconds_per_step": (t1 - t0) / a.steps, "cpu_seconds_per_step": (c1 - c0) / a.steps,
                  "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas,
                  "mkldnn": torch.backends.mkldnn.is_available()}))
