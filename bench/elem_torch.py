"""Time torch's element-wise kernels on a 128x500 float32 array, one thread.

Usage: elem_torch.py [CASE ...] [--rounds R]

Prints one line per case: "<case> <µs>", the best over R rounds of the median
time of 200 calls (the statistic the Go benchmarks report as med-µs). Used by
elem-vs-torch.sh. Cases: sigmoid sigmoid_bernoulli exp softplus logsigmoid tanh
log relu rand randn.
"""
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
x = torch.randn(128, 500, dtype=torch.float32) * 2
xpos = x.abs() + 1e-3

CASES = {
    "sigmoid": lambda: torch.sigmoid(x),
    "sigmoid_bernoulli": lambda: torch.bernoulli(torch.sigmoid(x)),
    "exp": lambda: torch.exp(x),
    "softplus": lambda: torch.nn.functional.softplus(x),
    "logsigmoid": lambda: torch.nn.functional.logsigmoid(x),
    "tanh": lambda: torch.tanh(x),
    "log": lambda: torch.log(xpos),
    "relu": lambda: torch.relu(x),
    "rand": lambda: torch.rand(128, 500),
    "randn": lambda: torch.randn(128, 500),
}


def best_median(fn, reps, rounds):
    best = float("inf")
    for _ in range(rounds):
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter_ns()
            fn()
            ts.append(time.perf_counter_ns() - t0)
        ts.sort()
        best = min(best, ts[len(ts) // 2] / 1e3)
    return best


def main(argv):
    rounds = 5
    names = []
    i = 0
    while i < len(argv):
        if argv[i] == "--rounds":
            rounds = int(argv[i + 1])
            i += 2
            continue
        names.append(argv[i])
        i += 1
    for name in names or list(CASES):
        fn = CASES[name]
        for _ in range(20):
            fn()  # warm up
        print(name, "%.2f" % best_median(fn, 200, rounds), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
