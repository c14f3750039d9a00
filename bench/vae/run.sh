#!/bin/sh
# Side-by-side run of pytorch/examples vae and `latent train vae` with the same
# settings (784-400-20-400-784, ReLU, Bernoulli decoder, Adam 1e-3, batch 128,
# summed BCE + KL, MNIST in [0, 1]), at 1 and 2 threads each, interleaved.
#
#   sh bench/vae/run.sh [EPOCHS] [ROUNDS]     (defaults 10 and 1; from the repository root)
#
# Each round runs, for t = 1 then 2, PyTorch then latent for EPOCHS epochs; the table
# gives medians over the ROUNDS rounds (bench/vae/compare.py) of the best epoch's wall
# seconds, and of CPU seconds per epoch: PyTorch's training loop alone
# (time.process_time), latent's whole process (/usr/bin/time: loading MNIST and the
# test ELBO included, so an upper bound). On a loaded machine the CPU figures are the
# less noisy. PyTorch runs as `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
# /usr/bin/python3` (bench/pydeps.sh, which installs torch and numpy if missing);
# the header gives threadpoolctl's OpenBLAS kernel and the load average.
# Needs the MNIST gzip files in ${LATENT_DATA:-/work/shared/data}/mnist. Writes logs to
# ${OUT:-/tmp/latent-bench-vae}. THREADS="1 2" picks the thread counts; PT_MAX_SECONDS=S
# stops PyTorch after the epoch that passes S seconds of training.
set -e
EPOCHS=${1:-10}
ROUNDS=${2:-1}
DATA=${LATENT_DATA:-/work/shared/data}
OUT=${OUT:-/tmp/latent-bench-vae}
. bench/pydeps.sh
pydeps numpy torch threadpoolctl
mkdir -p "$OUT"
rm -f "$OUT"/pytorch-*.jsonl "$OUT"/latent-*.json "$OUT"/latent-*.cpu
go build -o "$OUT/latent" ./cmd/latent
echo "$($REF bench/refinfo.py torch); start: $(uptime)" | tee "$OUT/info.txt"
for r in $(seq "$ROUNDS"); do
	for t in ${THREADS:-1 2}; do
		# torch.set_num_threads sets the OpenMP pool; OpenBLAS has its own threads.
		OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t $REF bench/vae/pytorch_vae.py --data "$DATA/mnist" \
			--epochs "$EPOCHS" --threads $t --max-seconds "${PT_MAX_SECONDS:-0}" >"$OUT/pytorch-$t-$r.jsonl"
		GOMAXPROCS=$t LATENT_DATA="$DATA" /usr/bin/time -f '%U %S' -o "$OUT/latent-$t-$r.cpu" "$OUT/latent" train vae \
			--data mnist --test mnist:test \
			--latent 20 --hidden 400 --activation relu --decoder bernoulli --batch 128 --lr 1e-3 \
			--epochs "$EPOCHS" --seed 1 --out "$OUT/vae-$t.model" --json \
			>"$OUT/latent-$t-$r.json" 2>"$OUT/latent-$t-$r.log"
	done
	echo "round $r done: $(uptime)" | tee -a "$OUT/info.txt" >&2
done
/usr/bin/python3 bench/vae/compare.py "$OUT"
