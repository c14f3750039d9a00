#!/bin/sh
# duel.sh: latent's DDPM and the same U-Net in PyTorch, trained on MNIST for the
# same wall time side by side, then scored by the FID of their samples in
# latent's digit classifier (issue: "FID after a stated training budget, next to
# the same U-Net trained in PyTorch for the same wall time").
#
#   sh bench/diffusion/duel.sh        (from the repository root)
#   EPOCHS=1 N=1000 S=50 OUT=/tmp/latent-duel
#
# 1. unetdump -init writes a freshly initialised latent U-Net; PyTorch starts from
#    those weights (latent's own run draws its initialisation from --seed 1: the
#    same distribution, other values).
# 2. Both train at once, one thread each (GOMAXPROCS=1; torch 1 thread, OpenBLAS at
#    full speed): latent runs `train ddpm --data mnist --batch 128 --epochs
#    EPOCHS`; PyTorch (unet_torch.py --mnist) the same algorithm (L_simple, Adam
#    5e-4, clip 1, EMA) until latent's training has ended, signalled by a stop
#    file. So both get the same wall time on a machine with a core each; each
#    reports its steps.
# 3. Each draws N images by DDIM with S steps (eta 0) from its EMA weights:
#    `latent sample --steps S --eta 0`, and unet_torch.py's DDIM, the same sampler.
# 4. bench/diffusion/fidnpy scores both sample files against mnist:test.
# 5. latent's variational bound on all 10,000 test images (eval, --vlb-t 4).
set -eu
EPOCHS=${EPOCHS:-1}
N=${N:-1000}
S=${S:-50}
OUT=${OUT:-/tmp/latent-duel}
. bench/pydeps.sh
pydeps numpy torch threadpoolctl
mkdir -p "$OUT/init"
rm -f "$OUT/stop" "$OUT/ddpm.model" "$OUT/latent.npy" "$OUT/torch.npy"
go build -o "$OUT/latent" ./cmd/latent
go run ./bench/diffusion/unetdump -init -out "$OUT/init"
echo "start: $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
$REF bench/diffusion/unet_torch.py --mnist 1e9 --init "$OUT/init" --stop-file "$OUT/stop" \
	--out "$OUT/torch.npy" --n "$N" --S "$S" >"$OUT/torch.json" 2>"$OUT/torch.log" &
tpid=$!
t0=$(date +%s)
GOMAXPROCS=1 "$OUT/latent" train ddpm --data mnist --batch 128 --epochs "$EPOCHS" --seed 1 \
	--out "$OUT/ddpm.model" >"$OUT/latent-train.json" 2>"$OUT/latent-train.log"
t1=$(date +%s)
touch "$OUT/stop"
echo "latent trained $EPOCHS epoch(s) in $((t1 - t0)) s; PyTorch stops now: $(date -u +%T)"
GOMAXPROCS=1 "$OUT/latent" sample --model "$OUT/ddpm.model" --n "$N" --steps "$S" --eta 0 \
	--out "$OUT/latent.npy" --force 2>"$OUT/latent-sample.log"
wait "$tpid"
echo "sampled: $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PyTorch: $(cat "$OUT/torch.json")"
for side in latent torch; do
	echo "$side: $(go run ./bench/diffusion/fidnpy -samples "$OUT/$side.npy")"
done
GOMAXPROCS=1 "$OUT/latent" eval --model "$OUT/ddpm.model" --data mnist:test --vlb-t 4 --json \
	2>"$OUT/latent-eval.log" | sed 's/^/latent bound: /'
