"""Print the side-by-side table of bench/rbm/run.sh: the best seconds per epoch of each
implementation and thread count, and the speed-up of latent (best of its runs) over
PyTorch and scikit-learn (best of theirs)."""
import json
import sys

rows = []
for path in sys.argv[1:]:
    with open(path) as f:
        rows += [json.loads(line) for line in f if line.strip()]
best = {}
for r in rows:
    key = (r["impl"], str(r["threads"]))
    best[key] = min(best.get(key, float("inf")), r["seconds_per_epoch"])
print("%-10s %8s %14s" % ("impl", "threads", "s/epoch (best)"))
for (impl, th), s in sorted(best.items()):
    print("%-10s %8s %14.3f" % (impl, th, s))
go = min(s for (i, _), s in best.items() if i == "latent")
for other in ("pytorch", "sklearn"):
    ss = [s for (i, _), s in best.items() if i == other]
    if ss:
        print("latent is %.2fx faster than %s (best of its thread counts)" % (min(ss) / go, other))
