#!/usr/bin/env python3
"""pytorch/examples vae (vae/main.py), unchanged in substance, reading MNIST from
the local gzip IDX files with numpy instead of torchvision.

Model 784-400-20-400-784, ReLU, sigmoid output, Adam(lr=1e-3), batch 128,
shuffled, loss = summed BCE + KL; test loss per example with a sampled z,
exactly as the example computes it. Prints one JSON object per epoch and a
final summary on stdout.

  python3 pytorch_vae.py --data /work/shared/data/mnist --epochs 10 --threads 1
"""
import argparse
import gzip
import json
import os
import time

import torch

try:
    import numpy as np
except ImportError:  # torch can read the bytes itself
    np = None
from torch import nn, optim
from torch.nn import functional as F


def load_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    if np is not None:
        x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 784)
        return torch.from_numpy(x.astype(np.float32) / 255.0)  # ToTensor(): [0, 1]
    x = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, 784)
    return x.float() / 255.0


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data/mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=0,
                    help="stop after the epoch that passes this much training time (0: no limit)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = load_images(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    test = load_images(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    model = VAE()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    times, cpus, test_loss = [], [], None
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(train.shape[0])  # DataLoader(shuffle=True)
        train_loss = 0.0
        for i in range(0, train.shape[0], a.batch):
            data = train[perm[i:i + a.batch]]
            opt.zero_grad()
            recon, mu, logvar = model(data)
            loss = loss_function(recon, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            opt.step()
        secs = time.perf_counter() - t0
        times.append(secs)
        cpus.append(time.process_time() - c0)
        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for i in range(0, test.shape[0], a.batch):
                data = test[i:i + a.batch]
                recon, mu, logvar = model(data)
                test_loss += loss_function(recon, data, mu, logvar).item()
        test_loss /= test.shape[0]
        print(json.dumps({"epoch": epoch, "train_loss": train_loss / train.shape[0],
                          "test_loss": test_loss, "seconds": secs,
                          "cpu_seconds": cpus[-1]}), flush=True)
        if a.max_seconds and sum(times) > a.max_seconds:
            break
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": a.threads,
                      "epochs": len(times), "test_loss": test_loss,
                      "seconds_per_epoch": sum(times) / len(times),
                      "best_epoch_seconds": min(times),
                      "best_epoch_cpu_seconds": min(cpus)}), flush=True)


if __name__ == "__main__":
    main()
