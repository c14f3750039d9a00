#!/usr/bin/env python3
"""Prints the side-by-side table of bench/vae/run.sh from the logs in DIR: medians
over the rounds (files pytorch-T-R.jsonl, latent-T-R.json, latent-T-R.cpu)."""
import glob
import json
import statistics
import sys

d = sys.argv[1]


def med(xs):
    return statistics.median(xs) if xs else float("nan")


rows = []
for t in (1, 2):
    py = []
    for f in sorted(glob.glob(f"{d}/pytorch-{t}-*.jsonl")):
        lines = [json.loads(l) for l in open(f) if l.strip()]
        if lines and "best_epoch_seconds" in lines[-1]:
            py.append(lines[-1])
    lt = []
    for f in sorted(glob.glob(f"{d}/latent-{t}-*.json")):
        try:
            j = json.loads(open(f).read())
            u, s = map(float, open(f[:-5] + ".cpu").read().split()[-2:])
        except (OSError, ValueError):
            continue
        j["cpu_per_epoch"] = (u + s) / j["epochs"]
        lt.append(j)
    if py:
        rows.append(("pytorch " + py[-1].get("torch", ""), t, len(py), py[-1]["epochs"], med([p["test_loss"] for p in py]),
                     med([p["best_epoch_seconds"] for p in py]), med([p["best_epoch_cpu_seconds"] for p in py])))
    if lt:
        rows.append(("latent", t, len(lt), lt[-1]["epochs"], med([-j["test_elbo"] for j in lt]),
                     med([j["best_epoch_seconds"] for j in lt]), med([j["cpu_per_epoch"] for j in lt])))
print(f"{'implementation':<18} {'threads':>7} {'rounds':>6} {'epochs':>6} {'test loss/example':>18} {'best epoch s':>13} {'CPU s/epoch':>12}")
for name, t, n, ep, loss, best, cpu in rows:
    print(f"{name:<18} {t:>7} {n:>6} {ep:>6} {loss:>18.3f} {best:>13.2f} {cpu:>12.2f}")
py = [r for r in rows if r[0].startswith("pytorch")]
lt = [r for r in rows if r[0] == "latent"]
if py and lt:
    bp, bl = min(r[5] for r in py), min(r[5] for r in lt)
    print(f"\nbest epoch (wall, median over rounds, best thread count): latent {bl:.2f}s vs pytorch {bp:.2f}s "
          f"(pytorch/latent {bp / bl:.2f}×)")
    for t in (1, 2):
        p = [r for r in py if r[1] == t]
        l = [r for r in lt if r[1] == t]
        if p and l:
            print(f"{t} thread(s): CPU s/epoch pytorch {p[0][6]:.2f} (training loop) vs latent {l[0][6]:.2f} "
                  f"(whole process) : {p[0][6] / l[0][6]:.2f}×")
