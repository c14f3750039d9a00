#!/usr/bin/python3
"""Speed: 10-component full-covariance GMM on the 60000 MNIST training images projected
to 50 dimensions by PCA, scikit-learn's GaussianMixture against latent's mixture
package, same data, same initial parameters, same number of EM iterations (tol=0).

    LATENT_DATA=../shared/data /usr/bin/python3 bench/mixture/gmm_speed.py [--iters 20] [--repeat 3]

Run from the repository root. It writes the projected data and initial parameters to
a temporary folder, times sklearn in this process, then runs
`go run ./bench/mixture/gmmspeed` on the same files and prints both side by side.
Reported: the minimum over --repeat runs of the whole fit (max_iter=N), the fit with
max_iter=1, and their difference per iteration; plus each side's lower_bound_ (the
mean log-likelihood before the last M-step), which must agree.
"""
import argparse, gzip, json, os, subprocess, sys, tempfile, time, warnings
import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

ap = argparse.ArgumentParser()
ap.add_argument("--iters", type=int, default=20)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--components", type=int, default=10)
ap.add_argument("--dims", type=int, default=50)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()

data_dir = os.environ.get("LATENT_DATA", "../shared/data")
with gzip.open(os.path.join(data_dir, "mnist", "train-images-idx3-ubyte.gz")) as f:
    raw = f.read()
n = int.from_bytes(raw[4:8], "big")
X = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 784).astype(np.float64) / 255.0

# PCA to `dims` dimensions (float64), then rounded to float32 so both sides see the
# same numbers.
mean = X.mean(0)
Xc = X - mean
cov = Xc.T @ Xc / (n - 1)
vals, vecs = np.linalg.eigh(cov)
W = vecs[:, ::-1][:, : args.dims]
Z = (Xc @ W).astype(np.float32)
Z64 = Z.astype(np.float64)

# Initial parameters: K random points as means, equal weights, the data covariance
# for every component.
rs = np.random.RandomState(args.seed)
K, d = args.components, args.dims
means = Z64[rs.choice(n, K, replace=False)]
weights = np.full(K, 1.0 / K)
C = np.cov(Z64.T) + 1e-6 * np.eye(d)
covs = np.array([C] * K)
precs = np.array([np.linalg.inv(C)] * K)

tmp = tempfile.mkdtemp(prefix="gmm_speed_")
np.save(os.path.join(tmp, "x.npy"), Z)
with open(os.path.join(tmp, "init.json"), "w") as f:
    json.dump({"covariance": "full", "reg_covar": 1e-6, "weights": weights.tolist(),
               "means": means.ravel().tolist(), "covariances": covs.ravel().tolist()}, f)

def sk_fit(iters):
    best, g = None, None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        g = GaussianMixture(K, covariance_type="full", tol=0.0, max_iter=iters, reg_covar=1e-6,
                            init_params="random", random_state=0, weights_init=weights,
                            means_init=means, precisions_init=precs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g.fit(Z64)
        s = time.perf_counter() - t0
        best = s if best is None else min(best, s)
    return best, g

t1, _ = sk_fit(1)
tn, g = sk_fit(args.iters)
sk = {"seconds": tn, "seconds_1iter": t1, "seconds_per_iter": (tn - t1) / (args.iters - 1),
      "lower_bound": g.lower_bound_, "final_log_likelihood": g.score(Z64)}

go = subprocess.run(["go", "run", "./bench/mixture/gmmspeed", "-x", os.path.join(tmp, "x.npy"),
                     "-init", os.path.join(tmp, "init.json"), "-iters", str(args.iters),
                     "-repeat", str(args.repeat)], capture_output=True, text=True)
if go.returncode != 0:
    sys.exit("gmmspeed failed: " + go.stderr)
gr = json.loads(go.stdout)

print(f"GMM K={K} full, MNIST train n={n} PCA d={d}, {args.iters} EM iterations, same initial parameters")
print(f"sklearn {sklearn.__version__} numpy {np.__version__}; Go gemm kernel {gr['gemm_kernel']}, GOMAXPROCS {gr['gomaxprocs']}")
print(f"{'':22s} {'fit (s)':>9s} {'1 iter (s)':>11s} {'s/iter':>8s} {'lower_bound_':>20s} {'final LL':>14s}")
for name, r in [("sklearn", sk), ("latent float64", gr["float64"]), ("latent --fast", gr["fastmath"])]:
    print(f"{name:22s} {r['seconds']:9.3f} {r['seconds_1iter']:11.3f} {r['seconds_per_iter']:8.4f} "
          f"{r['lower_bound']:20.12f} {r['final_log_likelihood']:14.8f}")
for name in ("float64", "fastmath"):
    rel = abs(gr[name]["lower_bound"] - sk["lower_bound"]) / abs(sk["lower_bound"])
    print(f"relative difference of lower bound, latent {name} vs sklearn: {rel:.2e}")
print(json.dumps({"sklearn": sk, "latent": gr}))
