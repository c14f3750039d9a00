#!/bin/sh
# Side-by-side run of pytorch/examples vae and `latent train vae` with the same
# settings (784-400-20-400-784, ReLU, Bernoulli decoder, Adam 1e-3, batch 128,
# summed BCE + KL, MNIST in [0, 1], 10 epochs), at 1 and 2 threads each.
#
#   sh bench/vae/run.sh [EPOCHS]        (from the repository root)
#
# Needs $PYTHON (default /usr/bin/python3, Debian's) with torch and numpy, and the MNIST gzip files in
# ${LATENT_DATA:-/work/shared/data}/mnist. Writes logs to ${OUT:-/tmp/latent-bench-vae}.
# THREADS="1 2" picks the thread counts; PT_MAX_SECONDS=S stops PyTorch after the
# epoch that passes S seconds of training (the table then says how many it ran).
set -e
EPOCHS=${1:-10}
DATA=${LATENT_DATA:-/work/shared/data}
OUT=${OUT:-/tmp/latent-bench-vae}
PYTHON=${PYTHON:-/usr/bin/python3}
# This machine sets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE, which hold
# Debian's OpenBLAS (numpy's and torch's) to about half speed: the references here
# run at full speed (latent's Go code reads neither variable).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
mkdir -p "$OUT"
go build -o "$OUT/latent" ./cmd/latent
for t in ${THREADS:-1 2}; do
	# torch.set_num_threads sets the OpenMP pool; OpenBLAS has its own threads.
	OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$PYTHON" bench/vae/pytorch_vae.py --data "$DATA/mnist" \
		--epochs "$EPOCHS" --threads $t --max-seconds "${PT_MAX_SECONDS:-0}" >"$OUT/pytorch-$t.jsonl"
	GOMAXPROCS=$t LATENT_DATA="$DATA" "$OUT/latent" train vae --data mnist --test mnist:test \
		--latent 20 --hidden 400 --activation relu --decoder bernoulli --batch 128 --lr 1e-3 \
		--epochs "$EPOCHS" --seed 1 --out "$OUT/vae-$t.model" --json \
		>"$OUT/latent-$t.json" 2>"$OUT/latent-$t.log"
done
"$PYTHON" bench/vae/compare.py "$OUT"
