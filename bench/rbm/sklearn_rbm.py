"""scikit-learn's BernoulliRBM (500 components, batch 100, one epoch: n_iter=1,
learning_rate 0.1) on the 60000 binarised MNIST training images, float32. Note that
BernoulliRBM's only algorithm is PCD-1 (persistent chains), so it does a little more
than CD-1 per batch: the comparison is per epoch, as the issue states. Threads follow
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS. Usage: sklearn_rbm.py [EPOCHS]."""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM

from mnist_np import load_mnist_binary


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    x = load_mnist_binary()
    for e in range(epochs):
        rbm = BernoulliRBM(n_components=500, batch_size=100, n_iter=1, learning_rate=0.1, random_state=e)
        t0, c0 = time.perf_counter(), time.process_time()
        rbm.fit(x)
        secs = time.perf_counter() - t0
        cpu = time.process_time() - c0
        print(json.dumps({"impl": "sklearn", "sklearn": sklearn.__version__, "dtype": str(rbm.components_.dtype),
                          "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                          "epoch": e + 1, "seconds_per_epoch": secs, "cpu_seconds_per_epoch": cpu}), flush=True)


if __name__ == "__main__":
    main()
