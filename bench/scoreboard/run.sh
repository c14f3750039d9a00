#!/usr/bin/env bash
# The scoreboard: train every family on MNIST under one stated budget, then score
# all of them with one `latent compare` per kind of data, as Markdown tables.
#
#   bash bench/scoreboard/run.sh [OUT]          (default OUT: bench/scoreboard/out)
#   BUDGET=readme bash bench/scoreboard/run.sh  the README's commands (days of CPU)
#
# BUDGET=small (the default) trains each family for a few epochs, the continuous
# ones on the first 6000 training images (TRAIN_N), and scores the binary half on
# N=1000 test images, the continuous half on NC=100 with cheaper estimators (fewer
# AIS chains and steps, fewer importance samples; stated in the table's JSON
# keys and below) and no FID: figures to check that everything runs and to order
# the families roughly, not to quote. HALF=binary|continuous runs one half;
# SKIP_TRAIN=1 keeps the model files already in OUT and only scores them.
# Binary families train and are scored on binarized MNIST (Larochelle & Murray's
# fixed binarisation); continuous ones on MNIST's 8-bit pixels k/255, scored as
# densities at y = (k+u)/256 (latent compare --dequantize auto, dataset.Dequantize),
# their bits/dim those of the 8-bit data. Each training run also writes its HTML
# report under OUT/runs: `latent serve OUT/runs` overlays them. The published
# figures (bench/scoreboard/published.csv, sources in published.md) are joined into
# the tables by `latent compare --published`; training seconds, which model files do
# not hold, come from each run's `train --json`.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/scoreboard/out}
budget=${BUDGET:-small}
mkdir -p "$out/runs"
export LATENT_DATA="${LATENT_DATA:-../shared/data}"
go build -o "$out/latent" ./cmd/latent
latent() { nice -n 10 "$out/latent" "$@"; }

# e SMALL READMEEPOCHS: the epochs of the chosen budget.
e() { if [ "$budget" = readme ]; then echo "$2"; else echo "$1"; fi; }

train() { # name family args...
	local name=$1 fam=$2
	shift 2
	if [ "${SKIP_TRAIN:-0}" = 1 ] && [ -f "$out/$name.model" ]; then
		echo "== $name: keeping $out/$name.model (SKIP_TRAIN=1)" >&2
		return
	fi
	echo "== train $name" >&2
	latent train "$fam" "$@" --seed 1 --report "$out/runs/$name" --out "$out/$name.model" --force --json >"$out/$name.train.json"
}

half=${HALF:-all}
trained=() # names trained by this run, for the training-time table

bin="--data binarized-mnist"
if [ "$half" != continuous ]; then
trained+=(rbm-cd1 rbm-pcd vae iwae bmm helmholtz pixels bdiff dbn dbm)
train rbm-cd1 rbm $bin --hidden 500 --cd 1 --batch 100 --lr 0.01 --momentum 0.5 --l2 0.0002 --epochs "$(e 2 8)"
train rbm-pcd rbm $bin --hidden 500 --pcd --batch 100 --lr 0.02 --momentum 0.5 --l2 0.0001 --schedule linear --epochs "$(e 2 400)"
train vae vae $bin --latent 50 --hidden 200,200 --activation tanh --batch 100 --lr 1e-3 --epochs "$(e 2 100)"
train iwae vae $bin --latent 50 --hidden 200,200 --activation tanh --batch 100 --lr 1e-3 --iw-k 5 --epochs "$(e 1 100)"
train bmm bmm $bin --components 100 --tol 1e-3 --fast --epochs "$(e 10 200)"
train helmholtz helmholtz $bin --hidden 200,200 --rws-k 5 --batch 100 --lr 1e-3 --epochs "$(e 2 100)"
train pixels pixels $bin
train bdiff bdiff $bin --timesteps 200 --epochs "$(e 1 18)"
# The DBN stacks a 2000-unit RBM on a 500-unit one; at the README budget the
# bottom one is trained like rbm-pcd (400 epochs), the top for 100 more.
train dbn dbn $bin --hidden 500,2000 --momentum 0.5 --l2 0.0001 --lr 0.02 --schedule linear --layer-epochs "$(e 1 400)" --epochs "$(e 2 500)"
train dbm dbm $bin --hidden 500,1000 --lr 0.05 --joint-lr 0.005 --momentum 0.5 --mf-iters 10 --schedule linear --pretrain-epochs "$(e 1 100)" --epochs "$(e 3 500)"
fi

cont="--data mnist"
if [ "$budget" != readme ]; then
	# The first TRAIN_N training images, as a .npy of 28×28 images (python3's
	# standard library rewrites the exported file's header and cuts its rows; no BLAS,
	# but run like every other python3 here, with the two throttling variables unset).
	tn=${TRAIN_N:-6000}
	"$out/latent" -q data export mnist --out "$out/mnist-all.npy" >/dev/null
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 - "$out/mnist-all.npy" "$out/mnist-$tn.npy" "$tn" <<'PY'
import ast, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, "rb") as f:
    magic = f.read(8)
    (hl,) = struct.unpack("<H", f.read(2)) if magic[6] == 1 else struct.unpack("<I", f.read(4))
    h = ast.literal_eval(f.read(hl).decode("latin1"))
    assert h["descr"] == "<f4" and not h["fortran_order"], h
    shape = (min(n, h["shape"][0]),) + tuple(h["shape"][1:])
    size = 4
    for s in shape:
        size *= s
    body = f.read(size)
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
hdr += " " * (64 - (10 + len(hdr) + 1) % 64) + "\n"
with open(dst, "wb") as g:
    g.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1") + body)
PY
	rm -f "$out/mnist-all.npy" "$out/mnist-all.labels.npy"
	cont="--data $out/mnist-$tn.npy"
fi
if [ "$half" != binary ]; then
trained+=(vae-gauss gan dcgan ddpm grbm gmm pixels-gauss)
train vae-gauss vae $cont --decoder gaussian --latent 50 --hidden 200,200 --batch 100 --lr 1e-3 --epochs "$(e 2 100)"
train gan gan $cont --epochs "$(e 1 8)"
train dcgan dcgan $cont --epochs "$(e 1 8)"
train ddpm ddpm $cont --epochs "$(e 1 20)"
train grbm grbm $cont --hidden 500 --epochs "$(e 2 20)"
train gmm gmm $cont --components 10 --covariance diag --epochs "$(e 20 200)"
train pixels-gauss pixels $cont --dist gaussian
fi

# Binarized MNIST's test set is sorted by digit (its first 980 images are the
# zeros, the next 1135 the ones; an RBM scores them about 10 nats below and 40
# above its mean over the whole set), so the binary half scores every
# (10000/N)-th test image, N of them spread over all ten digits.
# 1000 test images keep the AIS and IWAE evaluations of the binary
# half to minutes; the FID uses models/digits.model and 1000 samples. The
# continuous half's AIS-HMC on GAN decoders costs chains × steps × leapfrog
# generator passes per image, and a DDPM sample 1000 U-Net passes: at the small
# budget it scores NC images with the cheaper settings below and no FID.
n=${N:-1000}
pub="--published bench/scoreboard/published.csv"
if [ "$budget" = readme ]; then
	nc=${NC:-1000}
	cfid="--fid-n 1000"
	ceval=()
	beval=()
else
	nc=${NC:-100}
	cfid="--no-fid"
	ceval=(--eval "gan:--chains 2 --ais-steps 50 --leapfrog 5" --eval "dcgan:--chains 2 --ais-steps 50 --leapfrog 5"
		--eval "vae:--iw-k 1000" --eval "grbm:--ais-chains 16 --ais-betas 1000" --eval "ddpm:--vlb-t 4")
	# The DBN's and DBM's log Z by AIS with fewer distributions than the
	# default 14,500 (their bounds move by the change in log Z's estimate).
	beval=(--eval "dbn:--ais-betas 3000" --eval "dbm:--ais-betas 3000")
fi
# trainseconds prints the training seconds and epochs of the runs named in $@.
trainseconds() {
	echo "| model file | epochs | seconds in the epochs (train_seconds) | seconds of the run, pictures and report included (seconds) |"
	echo "| --- | --- | --- | --- |"
	for m in "$@"; do
		j=$(cat "$out/$m.train.json")
		key() { printf '%s' "$j" | grep -o "\"$1\": *[0-9.e+-]*" | head -1 | sed 's/.*: *//'; }
		printf '| %s.model | %s | %.0f | %.0f |\n' "$m" "$(key epochs)" "$(key train_seconds)" "$(key seconds)"
	done
}
{
	if [ "$half" != continuous ]; then
	echo "## Binary data: binarized MNIST, $n test images (every $((10000 / n))th; budget: $budget)"
	echo
	if [ ${#beval[@]} -gt 0 ]; then
		echo "Estimator settings of this budget: ${beval[*]}."
		echo
	fi
	latent compare "$out"/{rbm-cd1,rbm-pcd,vae,iwae,bmm,helmholtz,pixels,bdiff,dbn,dbm}.model --data "binarized-mnist:test,rows=0:10000:$((10000 / n))" --fid-n 1000 "${beval[@]}" $pub --markdown --html "$out/binary.html"
	echo
	fi
	if [ "$half" != binary ]; then
	echo "## Continuous data: MNIST's 8-bit pixels dequantised, y = (k+u)/256, first $nc test images (budget: $budget)"
	echo
	if [ ${#ceval[@]} -gt 0 ]; then
		echo "Estimator settings of this budget: ${ceval[*]}; no FID."
		echo
	fi
	latent compare "$out"/{vae-gauss,gan,dcgan,ddpm,grbm,gmm,pixels-gauss}.model --data mnist:test --n "$nc" $cfid "${ceval[@]}" $pub --markdown --html "$out/continuous.html"
	echo
	fi
	echo "## Training time"
	echo
	trainseconds "${trained[@]}"
	echo
	cat bench/scoreboard/published.md
} >"$out/SCOREBOARD.md"
echo "wrote $out/SCOREBOARD.md; latent serve $out/runs shows the training curves" >&2
