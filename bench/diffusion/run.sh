#!/bin/sh
# The ddpm U-Net (28×28, 32/64/64 channels, T = 1000; see unet_torch.py),
# latent against the same network and algorithm in PyTorch at full speed,
# interleaved over ROUNDS rounds (default 3) at THREADS threads (default 1):
#
#   sh bench/diffusion/run.sh            (from the repository root)
#
# First it checks that the two are the same network: unetdump gives latent's
# U-Net random weights and writes them with ε̂ and the gradients for a few
# images; unet_torch.py --check loads the weights and compares. Then each
# round runs, in this order, latent's training step (`go test -bench
# UNetTrainStep`, STEPS steps after a warm-up epoch and one untimed step),
# PyTorch's (STEPS steps after 2 warm-up steps), latent's DDIM sampling of N
# images with 50 steps (`go test -bench DDIM50/n=N`, one batch of N as `latent
# sample --n N --steps 50` takes them) and PyTorch's (the same N in one batch).
# The table gives the medians over rounds and the ratios. Settings:
#
#   ROUNDS=3 THREADS=1 STEPS=3 N=1000 PARTS="train ddim" OUT=/tmp/latent-bench-diffusion
#
# N is one of BenchmarkDDIM50's sizes: 16, 128 or 1000. At N = 1000 one
# sampling run takes about 10 TFLOP (minutes on one core) and latent's batch
# of 1000 is computed 64 images per network call (GaussModel.Generate), so its
# memory stays near that of 64 images (the "max RSS" lines).
set -e
. bench/pydeps.sh
pydeps numpy torch threadpoolctl
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-3}
N=${N:-1000}
T=${THREADS:-1}
PARTS=${PARTS:-train ddim}
OUT=${OUT:-/tmp/latent-bench-diffusion}
case $N in 16 | 128 | 1000) ;; *)
	echo "run.sh: N must be 16, 128 or 1000 (BenchmarkDDIM50's sizes), got $N" >&2
	exit 2
	;;
esac
for p in $PARTS; do
	case $p in train | ddim) ;; *)
		echo "run.sh: PARTS takes train and ddim, got $p" >&2
		exit 2
		;;
	esac
done
mkdir -p "$OUT/check"
go test -c -o "$OUT/diffusion.test" ./diffusion
# The same network: latent's U-Net with random weights, its ε̂ and gradients,
# loaded into the PyTorch network and compared (unet_torch.py --check exits 1
# when they differ).
go run ./bench/diffusion/unetdump -out "$OUT/check"
$REF bench/diffusion/unet_torch.py --check "$OUT/check" >"$OUT/check.json" || {
	cat "$OUT/check.json"
	echo "run.sh: the PyTorch network is not latent's U-Net" >&2
	exit 1
}
rm -f "$OUT"/go-train.txt "$OUT"/go-ddim.txt "$OUT"/torch-train.jsonl "$OUT"/torch-ddim.jsonl
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# gobench NAME FILE BENCHTIME: one run of the benchmark NAME; appends its result
# line and "user sys maxrss_kb" of the process to FILE.
gobench() {
	/usr/bin/time -f '%U %S %M' -o "$OUT/go.cpu" env GOMAXPROCS=$T "$OUT/diffusion.test" -test.run XXX \
		-test.bench "$1" -test.benchtime "$3" | grep '^Benchmark' | tr '\n' ' ' >>"$2"
	cat "$OUT/go.cpu" >>"$2"
}
# torchrun FILE ARGS...: one run of unet_torch.py; appends its JSON line, with
# the process's max RSS, to FILE.
torchrun() {
	_f=$1
	shift
	OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T /usr/bin/time -f '%M' -o "$OUT/torch.rss" \
		$REF bench/diffusion/unet_torch.py --threads "$T" "$@" >"$OUT/torch.json"
	$REF -c 'import json,sys; d=json.load(open(sys.argv[1])); d["maxrss_kb"]=int(open(sys.argv[2]).read().split()[-1]); print(json.dumps(d))' \
		"$OUT/torch.json" "$OUT/torch.rss" >>"$_f"
}
for r in $(seq "$ROUNDS"); do
	for p in $PARTS; do
		echo "round $r/$ROUNDS: $p" >&2
		if [ "$p" = train ]; then
			gobench 'UNetTrainStep$' "$OUT/go-train.txt" "${STEPS}x"
			torchrun "$OUT/torch-train.jsonl" --train --steps "$STEPS"
		else
			gobench "DDIM50/n=$N\$" "$OUT/go-ddim.txt" 1x
			torchrun "$OUT/torch-ddim.jsonl" --ddim --n "$N"
		fi
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
$REF - "$OUT" "$N" "$T" <<'PY'
import json, os, statistics, sys
out, n, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def metric(fields, unit):
    for i, f in enumerate(fields):
        if f == unit:
            return float(fields[i - 1])
    raise SystemExit("run.sh: no %s in a go benchmark line: %s" % (unit, " ".join(fields)))


def load(name):
    go, pt = out + "/go-%s.txt" % name, out + "/torch-%s.jsonl" % name
    if not os.path.exists(go):
        return None, None
    g = [l.split() for l in open(go)]
    p = [json.loads(l) for l in open(pt)]
    gp, pp = {metric(f, "params") for f in g}, {q["params"] for q in p}
    if len(gp | pp) != 1:
        raise SystemExit("run.sh: the two networks differ: latent's U-Net has %s weights, PyTorch's %s" % (sorted(gp), sorted(pp)))
    return g, p


med = statistics.median
tr, td = load("train"), load("ddim")
first = (tr[1] or td[1])[0]
print("BLAS:", first["blas"], " torch", first["torch"], " torch threads", first["threads"], " mkldnn", first["mkldnn"], " GOMAXPROCS", threads)
print("U-Net: %d weights in both (28x28x1, channels %d/%d/%d, T = %d)" % (first["params"], first["channels"], 2 * first["channels"], 2 * first["channels"], first["T"]))
ck = json.load(open(out + "/check.json"))
print("same network (latent's weights in PyTorch): max |eps diff| %.2g (max |eps| %.2g), worst gradient max|diff|/max|g| %.2g (%s)" % (
    ck["max_abs_eps_diff"], ck["max_abs_eps"], ck["worst_grad_rel_diff"], ck["worst_grad_param"]))
if tr[0]:
    g, p = tr
    gs = [metric(f, "ns/op") / 1e9 for f in g]
    ps = [q["seconds_per_step"] for q in p]
    print("training step, batch 128 (forward, backward, clip, Adam, EMA), %d rounds:" % len(gs))
    print("  rounds: latent", ["%.3f" % v for v in gs], " pytorch", ["%.3f" % v for v in ps])
    gc, pc = med(metric(f, "cpu-s/op") for f in g), med(q["cpu_seconds_per_step"] for q in p)
    print("  median s/step: latent %.3f (cpu %.3f), pytorch %.3f (cpu %.3f); pytorch/latent = %.2f (cpu %.2f)" % (med(gs), gc, med(ps), pc, med(ps) / med(gs), pc / gc if gc > 0 else float("nan")))
    print("  max RSS: latent %.0f MB, pytorch %.0f MB" % (med(float(f[-1]) for f in g) / 1024, med(q["maxrss_kb"] for q in p) / 1024))
    print("  an MNIST epoch (469 steps of 128): latent %.0f s, pytorch %.0f s" % (469 * med(gs), 469 * med(ps)))
if td[0]:
    g, p = td
    gs = [metric(f, "s/image") for f in g]
    ps = [q["seconds_per_image"] for q in p]
    print("DDIM, S = 50, eta = 0, %d images in one batch, %d rounds:" % (n, len(gs)))
    print("  rounds (ms/image): latent", ["%.1f" % (1e3 * v) for v in gs], " pytorch", ["%.1f" % (1e3 * v) for v in ps])
    gc, pc = med(metric(f, "cpu-s/image") for f in g), med(q["cpu_seconds_per_image"] for q in p)
    print("  median ms/image: latent %.1f (cpu %.1f), pytorch %.1f (cpu %.1f); pytorch/latent = %.2f (cpu %.2f)" % (1e3 * med(gs), 1e3 * gc, 1e3 * med(ps), 1e3 * pc, med(ps) / med(gs), pc / gc if gc > 0 else float("nan")))
    print("  max RSS: latent %.0f MB, pytorch %.0f MB" % (med(float(f[-1]) for f in g) / 1024, med(q["maxrss_kb"] for q in p) / 1024))
    print("  1000 images: latent %.0f s, pytorch %.0f s" % (1000 * med(gs), 1000 * med(ps)))
PY
