#!/bin/bash
# Figures of issue 6 (variational free energy), run from the repository root:
#
#   LATENT_DATA=../shared/data bench/mixture/figures.sh [OUTDIR]
#
# Bernoulli mixtures (100 and 500 components) and Helmholtz machines (wake-sleep vs
# reweighted wake-sleep, 784-200-200) on binarized MNIST (Larochelle & Murray 2011
# split: train 50000, test 10000), then the GMM speed comparison with scikit-learn.
# Every command prints one JSON object; they are kept in OUTDIR. The free-energy
# trace of each mixture is OUTDIR/bmmK_pictures/free-energy.png (once --plot).
set -euo pipefail
out=${1:-bench-mixture-out}
mkdir -p "$out"
go build -o "$out/latent" ./cmd/latent
L="$out/latent"

# 100 components: converged (tol 1e-3) after 97 iterations; 500 components: stopped
# at 60 iterations (not converged) to keep the run under ten minutes here.
for k in 100 500; do
  iters=200; [ $k = 500 ] && iters=60
  "$L" train bmm --data binarized-mnist --components $k --epochs $iters --tol 1e-3 --fast --seed 1 \
    --out "$out/bmm$k.model" --pictures "$out/bmm${k}_pictures" --json > "$out/bmm${k}_train.json"
  "$L" eval --model "$out/bmm$k.model" --data binarized-mnist:test --json > "$out/bmm${k}_test.json"
  # every 10th test image: the test set is sorted by digit (its first 1000 are zeros)
  "$L" eval --model "$out/bmm$k.model" --data binarized-mnist:test,rows=0:10000:10 --json > "$out/bmm${k}_test1000.json"
done

for mode in ws rws; do
  k=1; [ $mode = rws ] && k=5
  "$L" train helmholtz --data binarized-mnist --hidden 200,200 --rws-k $k --batch 100 --lr 1e-3 \
    --epochs 100 --seed 1 --out "$out/hm_$mode.model" --json > "$out/hm_${mode}_train.json"
  # k = 5000 on every 10th test image (the set is sorted by digit), k = 1000 on all 10000.
  "$L" eval --model "$out/hm_$mode.model" --data binarized-mnist:test,rows=0:10000:10 --iw-k 5000 \
    --json > "$out/hm_${mode}_test1000_k5000.json"
  "$L" eval --model "$out/hm_$mode.model" --data binarized-mnist:test --iw-k 1000 \
    --json > "$out/hm_${mode}_test_k1000.json"
done

env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/mixture/gmm_speed.py --iters 10 --repeat 2 | tee "$out/gmm_speed.txt"
