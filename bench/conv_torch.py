"""Time torch.nn.functional.conv2d / conv_transpose2d on the shapes of
BenchmarkConv in package nn (DCGAN / small U-Net layers), float32, NCHW.

Usage: conv_torch.py THREADS [SECONDS]

For each case, batch 64 and 128, and each phase it prints one line
    <case>_b<batch>/<phase> <wall-ms per call> <cpu-ms per call>
the wall time and the process CPU time per call over a run of about SECONDS
(default 0.3), as go test -bench reports ns/op and cpu-ms/op. Phases, as in BenchmarkConv:
fwd   = y = conv(x, w, b) under torch.no_grad();
wgrad = torch.autograd.grad(y, [w, b], dy) on a kept graph (no ∂L/∂x);
bwd   = torch.autograd.grad(y, [x, w, b], dy): all three gradients.
torch.set_num_threads(THREADS). Run it under bench/pydeps.sh's $REF.
"""
import sys
import time

import torch
import torch.nn.functional as F

# name, transposed, inH, inW, inC, outH, outW, outC, K, stride, pad (nn/conv_bench_test.go)
CASES = [
    ("c1_28x28_1to32", False, 28, 28, 1, 28, 28, 32, 3, 1, 1),
    ("c2_28x28_32to64_s2", False, 28, 28, 32, 14, 14, 64, 3, 2, 1),
    ("c3_14x14_64to64", False, 14, 14, 64, 14, 14, 64, 3, 1, 1),
    ("c4_7x7_64to64", False, 7, 7, 64, 7, 7, 64, 3, 1, 1),
    ("t1_7to14_64to64_s2", True, 7, 7, 64, 14, 14, 64, 3, 2, 1),
    ("t2_14to28_64to32_s2", True, 14, 14, 64, 28, 28, 32, 3, 2, 1),
    ("t3_28x28_32to1", True, 28, 28, 32, 28, 28, 1, 3, 1, 1),
]


def layer(t, ih, iw, ic, oh, ow, oc, k, s, p):
    if not t:
        w = torch.randn(oc, ic, k, k) * (2.0 / (k * k * ic)) ** 0.5
        return w, lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p)
    # output_padding makes (ih-1)·s − 2p + k + op = oh
    op = oh - ((ih - 1) * s - 2 * p + k)
    w = torch.randn(ic, oc, k, k) * (2.0 / (k * k * oc)) ** 0.5
    return w, lambda x, w, b: F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op)


def timed(fn, seconds):
    for _ in range(2):
        fn()
    n = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds and n >= 3:
            break
    cpu = time.process_time() - c0
    return el / n * 1e3, cpu / n * 1e3


def main():
    threads = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    for name, t, ih, iw, ic, oh, ow, oc, k, s, p in CASES:
        for batch in (64, 128):
            w, f = layer(t, ih, iw, ic, oh, ow, oc, k, s, p)
            bias = torch.zeros(oc)
            x = torch.randn(batch, ic, ih, iw)
            with torch.no_grad():
                y = f(x, w, bias)
            assert tuple(y.shape) == (batch, oc, oh, ow), (name, y.shape)
            dy = torch.randn_like(y)

            def fwd():
                with torch.no_grad():
                    f(x, w, bias)

            xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), bias.clone().requires_grad_()
            yg = f(xg, wg, bg)

            def wgrad():
                torch.autograd.grad(yg, [wg, bg], dy, retain_graph=True)

            def bwd():
                torch.autograd.grad(yg, [xg, wg, bg], dy, retain_graph=True)

            for phase, fn in (("fwd", fwd), ("wgrad", wgrad), ("bwd", bwd)):
                wall, cpu = timed(fn, seconds)
                print("%s_b%d/%s %.3f %.3f" % (name, batch, phase, wall, cpu), flush=True)


if __name__ == "__main__":
    main()
