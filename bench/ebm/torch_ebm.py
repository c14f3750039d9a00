"""One training step of Lippe's UvA tutorial 8 (deep energy-based models), timed.

The network, sampler and training step follow the tutorial's code (CNNModel with
Swish, a replay buffer of 8192 with 5% restarts, 60 Langevin steps of size 10 with
the gradient clamped to ±0.03 and noise 0.005, α = 0.1, Adam(1e-4, β = (0, 0.999)),
gradient norm clipped at 0.1), on 28×28 inputs, batch 128, without Lightning.
Prints one JSON line: the median seconds per training step over --steps steps
after one warm-up step, with the thread count and the BLAS threadpoolctl reports.
"""
import argparse, json, random, time

import numpy as np
import torch
import torch.nn as nn
from threadpoolctl import threadpool_info


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class CNNModel(nn.Module):
    def __init__(self, hidden_features=32, out_dim=1):
        super().__init__()
        c1, c2, c3 = hidden_features // 2, hidden_features, hidden_features * 2
        self.cnn_layers = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=5, stride=2, padding=4), Swish(),
            nn.Conv2d(c1, c2, kernel_size=3, stride=2, padding=1), Swish(),
            nn.Conv2d(c2, c3, kernel_size=3, stride=2, padding=1), Swish(),
            nn.Conv2d(c3, c3, kernel_size=3, stride=2, padding=1), Swish(),
            nn.Flatten(), nn.Linear(c3 * 4, c3), Swish(), nn.Linear(c3, out_dim))

    def forward(self, x):
        return self.cnn_layers(x).squeeze(dim=-1)


class Sampler:
    def __init__(self, model, img_shape, sample_size, max_len=8192):
        self.model, self.img_shape, self.sample_size, self.max_len = model, img_shape, sample_size, max_len
        self.examples = [(torch.rand((1,) + img_shape) * 2 - 1) for _ in range(self.sample_size)]

    def sample_new_exmps(self, steps=60, step_size=10):
        n_new = np.random.binomial(self.sample_size, 0.05)
        rand_imgs = torch.rand((n_new,) + self.img_shape) * 2 - 1
        old_imgs = torch.cat(random.choices(self.examples, k=self.sample_size - n_new), dim=0)
        inp_imgs = torch.cat([rand_imgs, old_imgs], dim=0).detach()
        inp_imgs = Sampler.generate_samples(self.model, inp_imgs, steps=steps, step_size=step_size)
        self.examples = list(inp_imgs.split(1, dim=0)) + self.examples
        self.examples = self.examples[:self.max_len]
        return inp_imgs

    @staticmethod
    def generate_samples(model, inp_imgs, steps=60, step_size=10):
        is_training = model.training
        model.eval()
        for p in model.parameters():
            p.requires_grad = False
        inp_imgs.requires_grad = True
        had_gradients_enabled = torch.is_grad_enabled()
        torch.set_grad_enabled(True)
        noise = torch.randn(inp_imgs.shape)
        for _ in range(steps):
            noise.normal_(0, 0.005)
            inp_imgs.data.add_(noise.data)
            inp_imgs.data.clamp_(min=-1.0, max=1.0)
            out_imgs = -model(inp_imgs)
            out_imgs.sum().backward()
            inp_imgs.grad.data.clamp_(-0.03, 0.03)
            inp_imgs.data.add_(-step_size * inp_imgs.grad.data)
            inp_imgs.grad.detach_()
            inp_imgs.grad.zero_()
            inp_imgs.data.clamp_(min=-1.0, max=1.0)
        for p in model.parameters():
            p.requires_grad = True
        model.train(is_training)
        torch.set_grad_enabled(had_gradients_enabled)
        return inp_imgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    random.seed(1)
    np.random.seed(1)
    model = CNNModel()
    sampler = Sampler(model, (1, 28, 28), 128)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.0, 0.999))
    real = torch.rand(128, 1, 28, 28) * 2 - 1
    times = []
    for k in range(a.steps + 1):
        t0 = time.perf_counter()
        r = (real + torch.randn_like(real) * 0.005).clamp(-1.0, 1.0)
        fake = sampler.sample_new_exmps(steps=60, step_size=10)
        real_out, fake_out = model(torch.cat([r, fake], dim=0)).chunk(2, dim=0)
        loss = 0.1 * (real_out ** 2 + fake_out ** 2).mean() + fake_out.mean() - real_out.mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        if k > 0:
            times.append(time.perf_counter() - t0)
    blas = [f"{i.get('internal_api')}:{i.get('architecture')}" for i in threadpool_info()]
    print(json.dumps({"impl": "pytorch", "threads": a.threads, "torch": torch.__version__,
                      "seconds_per_step": float(np.median(times)), "steps": len(times), "blas": blas}))


if __name__ == "__main__":
    main()
