"""Print the side-by-side table of bench/rbm/run.sh: for each implementation and
thread count the median over the rounds of the wall seconds and of the CPU seconds
of one epoch, and latent's speed-up over PyTorch and scikit-learn (their best thread
count against latent's best)."""
import json
import statistics
import sys

rows = []
for path in sys.argv[1:]:
    with open(path) as f:
        rows += [json.loads(line) for line in f if line.strip()]
wall, cpu = {}, {}
for r in rows:
    key = (r["impl"], str(r["threads"]))
    wall.setdefault(key, []).append(r["seconds_per_epoch"])
    cpu.setdefault(key, []).append(r.get("cpu_seconds_per_epoch", float("nan")))
med = {k: statistics.median(v) for k, v in wall.items()}
cmed = {k: statistics.median(v) for k, v in cpu.items()}
print("%-10s %8s %6s %14s %14s" % ("impl", "threads", "rounds", "s/epoch (med)", "CPU s (med)"))
for k in sorted(med):
    print("%-10s %8s %6d %14.3f %14.3f" % (k[0], k[1], len(wall[k]), med[k], cmed[k]))
go = min(s for (i, _), s in med.items() if i == "latent")
for other in ("pytorch", "sklearn"):
    ss = [s for (i, _), s in med.items() if i == other]
    if ss:
        print("wall: latent is %.2fx faster than %s (medians, best thread count each)" % (min(ss) / go, other))
for t in ("1", "2"):
    g = cmed.get(("latent", t))
    for other in ("pytorch", "sklearn"):
        o = cmed.get((other, t))
        if g and o:
            print("CPU, %s thread(s): %s %.3f s vs latent %.3f s (whole process): %.2fx" % (t, other, o, g, o / g))
