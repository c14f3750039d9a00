#!/bin/sh
# One training step of the tutorial's deep EBM recipe (28×28, batch 128, 60
# Langevin steps, buffer 8192; see torch_ebm.py), latent against PyTorch,
# interleaved over ROUNDS rounds (default 3) at THREADS threads (default 1):
#
#   sh bench/ebm/run.sh            (from the repository root)
#
# Each round runs `go test -bench TrainStep` (STEPS steps) and the PyTorch script
# (STEPS steps after a warm-up); the table gives the medians over rounds.
set -e
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-3}
T=${THREADS:-1}
OUT=${OUT:-/tmp/latent-bench-ebm}
mkdir -p "$OUT"
go test -c -o "$OUT/ebm.test" ./ebm
: >"$OUT/go.txt"
: >"$OUT/torch.jsonl"
for r in $(seq "$ROUNDS"); do
	GOMAXPROCS=$T "$OUT/ebm.test" -test.run XXX -test.bench 'TrainStep$' -test.benchtime "${STEPS}x" | grep Benchmark >>"$OUT/go.txt"
	OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 \
		bench/ebm/torch_ebm.py --steps "$STEPS" --threads "$T" >>"$OUT/torch.jsonl"
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
go = [float(l.split()[2]) / 1e9 for l in open(out + "/go.txt")]
pt = [json.loads(l) for l in open(out + "/torch.jsonl")]
ps = [p["seconds_per_step"] for p in pt]
print("rounds: latent", ["%.3f" % g for g in go], " pytorch", ["%.3f" % p for p in ps])
print("BLAS:", pt[0]["blas"], " torch", pt[0]["torch"], " threads", pt[0]["threads"])
g, p = statistics.median(go), statistics.median(ps)
print("median seconds per training step: latent %.3f, pytorch %.3f; pytorch/latent = %.2f" % (g, p, p / g))
print("an MNIST epoch (469 steps): latent %.0f s, pytorch %.0f s" % (469 * g, 469 * p))
PY
