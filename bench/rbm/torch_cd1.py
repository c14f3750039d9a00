"""One CD-1 epoch of a 784x500 Bernoulli RBM on the 60000 MNIST training images in
PyTorch (float32, batch 100, lr 0.1, no momentum), the same algorithm as
`latent train rbm --cd 1`:

    ph0 = sigmoid(v0 W + c); h0 ~ Bernoulli(ph0)
    pv1 = sigmoid(h0 W^T + b); v1 ~ Bernoulli(pv1)
    ph1 = sigmoid(v1 W + c)
    W += lr/B (v0^T ph0 - v1^T ph1); b += lr mean(v0 - v1); c += lr mean(ph0 - ph1)

with a fresh shuffle per epoch. Usage: torch_cd1.py THREADS [EPOCHS]. Prints one JSON
object per line with the seconds of each epoch."""
import json
import sys
import time

import torch

from mnist_np import load_mnist_binary


def epoch(x, W, b, c, lr, batch, gen):
    n = x.shape[0]
    perm = torch.randperm(n, generator=gen)
    for lo in range(0, n, batch):
        v0 = x[perm[lo:lo + batch]]
        ph0 = torch.sigmoid(torch.addmm(c, v0, W))
        h0 = torch.bernoulli(ph0, generator=gen)
        pv1 = torch.sigmoid(torch.addmm(b, h0, W.t()))
        v1 = torch.bernoulli(pv1, generator=gen)
        ph1 = torch.sigmoid(torch.addmm(c, v1, W))
        r = v0.shape[0]
        W.addmm_(v0.t(), ph0, alpha=lr / r)
        W.addmm_(v1.t(), ph1, alpha=-lr / r)
        b.add_((v0 - v1).mean(0), alpha=lr)
        c.add_((ph0 - ph1).mean(0), alpha=lr)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    x = torch.from_numpy(load_mnist_binary())
    gen = torch.Generator().manual_seed(1)
    W = torch.randn(784, 500, generator=gen) * 0.01
    p = x.mean(0).clamp(1e-3, 1 - 1e-3)
    b = torch.log(p / (1 - p))
    c = torch.zeros(500)
    with torch.no_grad():
        epoch(x[:2000], W, b, c, 0.1, 100, gen)  # warm-up
        for e in range(epochs):
            t0, c0 = time.perf_counter(), time.process_time()
            epoch(x, W, b, c, 0.1, 100, gen)
            secs = time.perf_counter() - t0
            cpu = time.process_time() - c0
            print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": threads,
                              "epoch": e + 1, "seconds_per_epoch": secs, "cpu_seconds_per_epoch": cpu}), flush=True)


if __name__ == "__main__":
    main()
