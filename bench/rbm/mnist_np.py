"""Read MNIST training images from the IDX gzip files with numpy only (shared by the
reference scripts). Pixels are scaled to [0, 1] and thresholded at > 0.5, as
`latent ... --binarize threshold` does."""
import gzip
import os

import numpy as np


def load_mnist_binary(data_dir=None, split="train"):
    data_dir = data_dir or os.environ.get("LATENT_DATA", "/work/shared/data")
    name = "train-images-idx3-ubyte.gz" if split == "train" else "t10k-images-idx3-ubyte.gz"
    with gzip.open(os.path.join(data_dir, "mnist", name), "rb") as f:
        buf = f.read()
    magic, n, rows, cols = np.frombuffer(buf[:16], dtype=">u4")
    assert magic == 0x803, magic
    x = np.frombuffer(buf[16:], dtype=np.uint8).reshape(n, rows * cols)
    return (x.astype(np.float32) / 255.0 > 0.5).astype(np.float32)
