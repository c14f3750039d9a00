#!/bin/sh
# elem-vs-torch.sh: tensor's element-wise kernels against torch on a 128×500
# float32 array, one thread each (go test -cpu 1, torch.set_num_threads(1)),
# measured back to back case by case.
#
# Usage: bench/elem-vs-torch.sh [ROUNDS]   (default 5)
#
# Each figure is the best over ROUNDS runs of the median time of one call, in µs
# (Go: the med-µs metric of BenchmarkX_128x500/<kernel>; torch: bench/elem_torch.py).
# The median of many calls and the best of several rounds keep other processes on a
# shared machine out of the figures as far as possible. ratio = torch / go, so
# > 1 means Go is faster. LATENT_KERNEL=generic|avx2|avx512 picks the Go path.
# Needs /usr/bin/python3 with torch (or PYTHON=...).
set -eu
ROUNDS=${1:-5}
PY=${PYTHON:-/usr/bin/python3}
# This machine sets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE, which hold
# Debian's OpenBLAS (numpy's and torch's) to about half speed: the references here
# run at full speed (latent's Go code reads neither variable).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$root" && CGO_ENABLED=0 go test -c -o "$tmp/tensor.test" ./tensor)
kernel=$(cd "$tmp" && ./tensor.test -test.run '^TestElemKernelName$' -test.v | sed -n 's/.*element-wise kernel: //p' | head -n1)
printf 'go %s, torch %s, Go element-wise kernel: %s\n' "$(go env GOVERSION)" \
	"$("$PY" -c 'import torch; print(torch.__version__)')" "$kernel"
printf '%-20s %10s %10s %7s\n' case go_µs torch_µs ratio

for c in sigmoid:Sigmoid sigmoid_bernoulli:SigmoidBernoulli exp:Exp softplus:Softplus \
	logsigmoid:LogSigmoid tanh:Tanh log:Log relu:ReLU; do
	py=${c%%:*}
	gob=${c#*:}
	gof=$(cd "$tmp" && ./tensor.test -test.run '^$' -test.bench "^Benchmark${gob}_128x500\$/^${kernel}\$" \
		-test.benchtime 0.3s -test.count "$ROUNDS" -test.cpu 1 |
		awk '/med-µs/ { for (i = 1; i < NF; i++) if ($(i+1) == "med-µs" && (best == "" || $i < best)) best = $i } END { printf "%.2f", best }')
	tf=$("$PY" "$here/elem_torch.py" "$py" --rounds "$ROUNDS" | awk '{ print $2 }')
	ratio=$(awk -v g="$gof" -v t="$tf" 'BEGIN { if (g > 0) printf "%.2f", t / g; else print "-" }')
	printf '%-20s %10s %10s %7s\n' "$py" "$gof" "$tf" "$ratio"
done
