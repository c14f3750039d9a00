#!/usr/bin/env bash
# The scoreboard: train every family on MNIST under one stated budget, then score
# all of them with one `latent compare` per kind of data, as Markdown tables.
#
#   bash bench/scoreboard/run.sh [OUT]          (default OUT: bench/scoreboard/out)
#   BUDGET=readme bash bench/scoreboard/run.sh  the README's commands (days of CPU)
#
# BUDGET=small (the default) trains each family for a few epochs, about 10-15
# minutes on two cores: figures to check that everything runs and to order the
# families roughly, not to quote. Binary families train and are scored on
# binarized MNIST (Larochelle & Murray's fixed binarisation); continuous ones on
# MNIST scaled to [0, 1] (k/255, no dequantisation noise), their bits/dim for those
# values. Each training run also writes its HTML report under OUT/runs: `latent
# serve OUT/runs` overlays them. The published figures to read the tables against
# are in bench/scoreboard/published.md, with their sources.
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
	echo "== train $name" >&2
	latent train "$fam" "$@" --seed 1 --report "$out/runs/$name" --out "$out/$name.model" --force --json >"$out/$name.train.json"
}

bin="--data binarized-mnist"
train rbm-cd1 rbm $bin --hidden 500 --cd 1 --batch 100 --lr 0.01 --momentum 0.5 --l2 0.0002 --epochs "$(e 2 8)"
train rbm-pcd rbm $bin --hidden 500 --pcd --batch 100 --lr 0.02 --momentum 0.5 --l2 0.0001 --schedule linear --epochs "$(e 2 400)"
train vae vae $bin --latent 50 --hidden 200,200 --activation tanh --batch 100 --lr 1e-3 --epochs "$(e 2 100)"
train iwae vae $bin --latent 50 --hidden 200,200 --activation tanh --batch 100 --lr 1e-3 --iw-k 5 --epochs "$(e 1 100)"
train bmm bmm $bin --components 100 --tol 1e-3 --fast --epochs "$(e 10 200)"
train helmholtz helmholtz $bin --hidden 200,200 --rws-k 5 --batch 100 --lr 1e-3 --epochs "$(e 2 100)"
train pixels pixels $bin
train bdiff bdiff $bin --timesteps 200 --epochs "$(e 1 18)"

cont="--data mnist"
train vae-gauss vae $cont --decoder gaussian --latent 50 --hidden 200,200 --batch 100 --lr 1e-3 --epochs "$(e 2 100)"
train gan gan $cont --epochs "$(e 1 8)"
train dcgan dcgan $cont --epochs "$(e 1 8)"
train ddpm ddpm $cont --epochs "$(e 1 20)"
train grbm grbm $cont --hidden 500 --epochs "$(e 2 20)"
train gmm gmm $cont --components 10 --covariance diag --epochs "$(e 20 200)"
train pixels-gauss pixels $cont --dist gaussian

# The first 1000 test images keep the AIS and IWAE evaluations to minutes; the
# FID uses models/digits.model and 1000 samples.
n=${N:-1000}
{
	echo "## Binary data: binarized MNIST, first $n test images (budget: $budget)"
	echo
	latent compare "$out"/{rbm-cd1,rbm-pcd,vae,iwae,bmm,helmholtz,pixels,bdiff}.model --data binarized-mnist:test --n "$n" --fid-n 1000 --markdown --html "$out/binary.html"
	echo
	echo "## Continuous data: MNIST in [0, 1], first $n test images (budget: $budget)"
	echo
	latent compare "$out"/{vae-gauss,gan,dcgan,ddpm,grbm,gmm,pixels-gauss}.model --data mnist:test --n "$n" --fid-n 1000 --markdown --html "$out/continuous.html"
	echo
	cat bench/scoreboard/published.md
} >"$out/SCOREBOARD.md"
echo "wrote $out/SCOREBOARD.md; latent serve $out/runs shows the training curves" >&2
