#!/bin/sh
# One DCGAN training step (batch 64, 28×28, width 64; see dcgan_torch.py),
# latent against PyTorch at full speed, interleaved over ROUNDS rounds (default
# 5) at THREADS threads (default 1):
#
#   sh bench/gan/run.sh            (from the repository root)
#
# Each round runs `go test -bench DCGANStep` (STEPS steps after one warm-up
# epoch) and the PyTorch script (STEPS steps after 3 warm-up steps); the table
# gives the medians over rounds, wall and CPU seconds, and an MNIST epoch (938
# steps) at that rate.
set -e
. bench/pydeps.sh
pydeps numpy torch threadpoolctl
ROUNDS=${ROUNDS:-5}
STEPS=${STEPS:-10}
T=${THREADS:-1}
OUT=${OUT:-/tmp/latent-bench-gan}
mkdir -p "$OUT"
go test -c -o "$OUT/gan.test" ./gan
: >"$OUT/go.txt"
: >"$OUT/torch.jsonl"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	/usr/bin/time -f '%U %S' -o "$OUT/go.cpu" env GOMAXPROCS=$T "$OUT/gan.test" -test.run XXX -test.bench 'DCGANStep$' -test.benchtime "${STEPS}x" | grep Benchmark | tr '\n' ' ' >>"$OUT/go.txt"
	cat "$OUT/go.cpu" >>"$OUT/go.txt"
	OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T $REF bench/gan/dcgan_torch.py --steps "$STEPS" --threads "$T" >>"$OUT/torch.jsonl"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
$REF - "$OUT" "$STEPS" <<'PY'
import json, statistics, sys
out, steps = sys.argv[1], int(sys.argv[2])
go = [float(l.split()[2]) / 1e9 for l in open(out + "/go.txt")]
pt = [json.loads(l) for l in open(out + "/torch.jsonl")]
ps = [p["seconds_per_step"] for p in pt]
pc = [p["cpu_seconds_per_step"] for p in pt]
print("rounds: latent", ["%.3f" % g for g in go], " pytorch", ["%.3f" % p for p in ps])
print("BLAS:", pt[0]["blas"], " torch", pt[0]["torch"], " threads", pt[0]["threads"], " mkldnn", pt[0]["mkldnn"])
g, p = statistics.median(go), statistics.median(ps)
print("median seconds per DCGAN step: latent %.3f, pytorch %.3f (cpu %.3f); pytorch/latent = %.2f" % (g, p, statistics.median(pc), p / g))
print("an MNIST epoch (938 steps of 64): latent %.0f s, pytorch %.0f s" % (938 * g, 938 * p))
PY
