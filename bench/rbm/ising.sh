#!/bin/sh
# Torlai & Melko (2016) check: an RBM (64 hidden units) trained on 8×8 Ising
# configurations at T = 1.8, 2.27 and 3.0 must reproduce the data's energy per spin and
# ⟨|m|⟩ from its own Gibbs samples within 2%. Prints one line per temperature.
# Usage: bench/rbm/ising.sh [T:EPOCHS ...]   (default: 1.8:400 2.27:400 3.0:1500)
# Training length is set per temperature: at T = 1.8 a longer-trained RBM (2500 epochs)
# mixes so slowly that Gibbs chains from the base rate do not reach the ordered states in
# 1000 steps, while at T = 3.0 the CD-1 model needs ~1500 epochs to carry the correlations.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${*:-"1.8:400 2.27:400 3.0:1500"}
py=${PYTHON:-/usr/bin/python3}
# This machine sets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE, which hold
# Debian's OpenBLAS (numpy's and torch's) to about half speed: the references here
# run at full speed (latent's Go code reads neither variable).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/latent" ./cmd/latent)
for run in $runs; do
  T=${run%%:*}
  epochs=${run##*:}
  spec="ising:L=8,T=$T,n=10000"
  start=$(date +%s)
  "$tmp/latent" train rbm --data "$spec" --hidden 64 --cd 1 --batch 50 --lr 0.1 --momentum 0.9 \
    --schedule linear --epochs "$epochs" --seed 1 --out "$tmp/ising-$T.ckpt" >/dev/null 2>&1
  "$tmp/latent" eval --model "$tmp/ising-$T.ckpt" --data "$spec" --samples 10000 --gibbs-steps 1000 \
    --ais-betas 2000 --json | "$py" -c "
import json, sys
d = json.load(sys.stdin); i = d['ising']
print('T=%-5s epochs=%-5s E/N data %.4f model %.4f (%.2f%%)   |m| data %.4f model %.4f (%.2f%%)   C data %.3f model %.3f   chi data %.3f model %.3f   LL %.3f (ais)   %ds' % (
  '$T', '$epochs', i['data']['energy'], i['model']['energy'], 100*i['rel_err_energy'],
  i['data']['abs_mag'], i['model']['abs_mag'], 100*i['rel_err_abs_mag'],
  i['data']['specific_heat'], i['model']['specific_heat'], i['data']['susceptibility'], i['model']['susceptibility'],
  d['log_likelihood'], $(date +%s) - $start))"
done
