#!/usr/bin/python3
"""Reference values for mixture/sklearn_test.go.

Runs scikit-learn's GaussianMixture on a fixed data set from fixed initial
parameters (weights_init, means_init, precisions_init) for every covariance type and
several max_iter values with tol=0, and records lower_bound_ (the mean log-likelihood
of the parameters before the last M-step, see sklearn/mixture/_base.py fit_predict).
Also one run to convergence (tol=1e-8). Writes sklearn_gmm.json next to this script.

    /usr/bin/python3 mixture/testdata/sklearn_gmm.py

Produced with scikit-learn 1.2.1, numpy 1.24.2.
"""
import json, os
import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

rs = np.random.RandomState(20261120)
d, K = 3, 3
centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 5.0, 2.0]])
X = []
for k, n in enumerate([120, 100, 80]):
    A = rs.normal(size=(d, d)) * 0.6 + np.eye(d)
    X.append(centres[k] + rs.normal(size=(n, d)) @ A)
X = np.concatenate(X)
X = X[rs.permutation(len(X))]
X = X.astype(np.float32).astype(np.float64)  # exactly representable in float32

# Deliberately poor initial parameters so that EM has work to do.
w0 = np.array([0.5, 0.3, 0.2])
m0 = X[[0, 1, 2]].copy()
cov_full = np.array([np.eye(d) * s + 0.3 for s in (1.0, 2.0, 3.0)])
inits = {
    "full": cov_full,
    "tied": np.eye(d) * 2.0 + 0.5,
    "diag": np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 1.5], [3.0, 3.0, 1.0]]),
    "spherical": np.array([1.0, 2.0, 4.0]),
}

def precisions(ct, c):
    if ct in ("full",):
        return np.array([np.linalg.inv(a) for a in c])
    if ct == "tied":
        return np.linalg.inv(c)
    return 1.0 / c

out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "d": d, "k": K,
       "x": X.ravel().tolist(), "weights": w0.tolist(), "means": m0.ravel().tolist(),
       "reg_covar": 1e-6, "cases": []}
for ct, c in inits.items():
    case = {"covariance": ct, "covariances": np.asarray(c).ravel().tolist(), "runs": []}
    for it in (1, 2, 3, 5, 10, 30):
        g = GaussianMixture(n_components=K, covariance_type=ct, tol=0.0, max_iter=it,
                            reg_covar=1e-6, weights_init=w0, means_init=m0,
                            precisions_init=precisions(ct, c))
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g.fit(X)
        case["runs"].append({"max_iter": it, "tol": 0.0, "lower_bound": g.lower_bound_,
                             "n_iter": int(g.n_iter_), "converged": bool(g.converged_),
                             "score": g.score(X)})
    g = GaussianMixture(n_components=K, covariance_type=ct, tol=1e-8, max_iter=1000,
                        reg_covar=1e-6, weights_init=w0, means_init=m0,
                        precisions_init=precisions(ct, c)).fit(X)
    case["runs"].append({"max_iter": 1000, "tol": 1e-8, "lower_bound": g.lower_bound_,
                         "n_iter": int(g.n_iter_), "converged": bool(g.converged_),
                         "score": g.score(X), "means": g.means_.ravel().tolist(),
                         "weights": g.weights_.tolist(), "bic": g.bic(X), "aic": g.aic(X)})
    out["cases"].append(case)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn_gmm.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
for c in out["cases"]:
    print(c["covariance"], [(r["max_iter"], r["lower_bound"], r["n_iter"]) for r in c["runs"]])
