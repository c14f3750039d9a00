#!/bin/sh
# Side by side: one CD-1 epoch of a 784×500 RBM on the 60000 MNIST training images
# (binarised at 0.5, batch 100, lr 0.1, float32) in latent (Go) and PyTorch
# (torch_cd1.py), at 1 and 2 threads, and scikit-learn's BernoulliRBM (500 components,
# batch 100, n_iter=1; PCD-1, its only algorithm) with SKLEARN=1.
#
# Usage: bench/rbm/run.sh [ROUNDS]   (default 3; from anywhere; needs LATENT_DATA or /work/shared/data)
#
# The implementations alternate, A B A B, for ROUNDS rounds of one epoch each;
# compare.py prints medians over the rounds of the wall seconds and the CPU seconds
# of the epoch (time.process_time for Python; for latent, getrusage of the whole
# process via /usr/bin/time, MNIST loading included: an upper bound). The references
# run as `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3`
# (../pydeps.sh, which installs torch, numpy and scikit-learn if missing); the
# header gives threadpoolctl's OpenBLAS kernel and the load average.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
export LATENT_DATA=${LATENT_DATA:-/work/shared/data}
. "$here/../pydeps.sh"
pydeps numpy torch threadpoolctl sklearn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/latent" ./cmd/latent)
echo "$($REF "$here/../refinfo.py" torch); start: $(uptime)"
cd "$here"
for i in $(seq "$rounds"); do
	for w in 1 2; do
		GOMAXPROCS=$w /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$tmp/latent" train rbm --data mnist --binarize threshold \
			--hidden 500 --cd 1 --batch 100 --lr 0.1 --epochs 1 --seed "$i" --out "$tmp/m.ckpt" --json 2>/dev/null |
			/usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); u,s=map(float,open('$tmp/cpu').read().split()[-2:]); print(json.dumps({'impl':'latent','threads':$w,'seconds_per_epoch':d['seconds_per_epoch'],'cpu_seconds_per_epoch':u+s}))" >>"$tmp/all.jsonl"
		OMP_NUM_THREADS=$w OPENBLAS_NUM_THREADS=$w $REF torch_cd1.py "$w" 1 >>"$tmp/all.jsonl"
		if [ "${SKLEARN:-0}" = 1 ]; then
			OPENBLAS_NUM_THREADS=$w OMP_NUM_THREADS=$w $REF sklearn_rbm.py 1 >>"$tmp/all.jsonl"
		fi
	done
	echo "round $i done: $(uptime)"
done
cat "$tmp/all.jsonl"
/usr/bin/python3 compare.py "$tmp/all.jsonl"
