"""Print what the Python reference runs on: the BLAS threadpoolctl reports
(internal_api, architecture = OpenBLAS's kernel, num_threads) and, when torch is
importable, its version and torch.get_num_threads(). Run it under the same
environment as the reference (bench/pydeps.sh's $REF) to see the kernels it gets.

Usage: refinfo.py [torch]
"""
import sys

import numpy as np
import threadpoolctl


def main():
    parts = ["numpy %s" % np.__version__]
    for i in threadpoolctl.threadpool_info():
        if i.get("user_api") == "blas":
            parts.append("BLAS %s %s kernel=%s num_threads=%s" % (
                i.get("internal_api"), i.get("version"), i.get("architecture"), i.get("num_threads")))
    if "torch" in sys.argv[1:]:
        import torch
        parts.append("torch %s get_num_threads=%d mkldnn=%s" % (
            torch.__version__, torch.get_num_threads(), torch.backends.mkldnn.is_available()))
    print("; ".join(parts))


if __name__ == "__main__":
    main()
