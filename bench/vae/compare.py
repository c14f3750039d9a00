#!/usr/bin/env python3
"""Prints the side-by-side table of bench/vae/run.sh from the logs in DIR."""
import json
import sys

d = sys.argv[1]
rows = []
for t in (1, 2):
    try:
        py = [json.loads(l) for l in open(f"{d}/pytorch-{t}.jsonl") if l.strip()]
        lt = json.loads(open(f"{d}/latent-{t}.json").read())
    except (OSError, ValueError):
        continue
    rows.append(("pytorch " + py[-1].get("torch", ""), t, py[-1]["epochs"], py[-1]["test_loss"], py[-1]["seconds_per_epoch"], py[-1]["best_epoch_seconds"]))
    # seconds_per_epoch counts training alone (not saving or the test ELBO)
    rows.append(("latent", t, lt["epochs"], -lt["test_elbo"], lt["seconds_per_epoch"], lt["best_epoch_seconds"]))
print(f"{'implementation':<18} {'threads':>7} {'epochs':>6} {'test loss/example':>18} {'s/epoch (mean)':>15} {'s/epoch (best)':>15}")
for name, t, ep, loss, mean, best in rows:
    print(f"{name:<18} {t:>7} {ep:>6} {loss:>18.3f} {mean:>15.2f} {best:>15.2f}")
rows = [(r[0], r[1], r[3], r[4], r[5]) for r in rows]
best_py = min(r[4] for r in rows if r[0].startswith("pytorch"))
best_lt = min(r[4] for r in rows if r[0] == "latent")
loss_py = min(r[2] for r in rows if r[0].startswith("pytorch"))
loss_lt = min(r[2] for r in rows if r[0] == "latent")
print(f"\nbest epoch time: latent {best_lt:.2f}s vs pytorch {best_py:.2f}s "
      f"(ratio {best_lt / best_py:.2f}; target <= 0.67)")
print(f"test loss: latent {loss_lt:.3f} vs pytorch {loss_py:.3f} (target: latent <= pytorch)")
