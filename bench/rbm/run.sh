#!/bin/sh
# Side by side, in one run: one CD-1 epoch of a 784×500 RBM on the 60000 MNIST training
# images (binarised at 0.5, batch 100, lr 0.1, float32) in latent (Go), PyTorch (1 and 2
# threads) and scikit-learn's BernoulliRBM (500 components, batch 100, n_iter=1).
# Usage: bench/rbm/run.sh [REPEATS]   (from anywhere; needs LATENT_DATA or /work/shared/data)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
reps=${1:-2}
export LATENT_DATA=${LATENT_DATA:-/work/shared/data}
py=${PYTHON:-/usr/bin/python3}
# This machine sets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE, which hold
# Debian's OpenBLAS (numpy's and torch's) to about half speed: the references here
# run at full speed (latent's Go code reads neither variable).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/latent" ./cmd/latent)
for w in 2 1; do
  for i in $(seq "$reps"); do
    GOMAXPROCS=$w "$tmp/latent" train rbm --data mnist --binarize threshold --hidden 500 --cd 1 \
      --batch 100 --lr 0.1 --epochs 1 --seed "$i" --out "$tmp/m.ckpt" --json 2>/dev/null |
      "$py" -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'impl':'latent','threads':$w,'seconds_per_epoch':d['seconds_per_epoch']}))"
  done
done > "$tmp/go.jsonl"
cd "$here"
for t in 1 2; do "$py" torch_cd1.py "$t" "$reps"; done > "$tmp/torch.jsonl"
for t in 1 2; do OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$py" sklearn_rbm.py "$reps"; done > "$tmp/sklearn.jsonl"
cat "$tmp"/*.jsonl
"$py" compare.py "$tmp/go.jsonl" "$tmp/torch.jsonl" "$tmp/sklearn.jsonl"
