#!/bin/sh
# elem-vs-torch.sh: tensor's element-wise kernels against torch on a 128×500
# float32 array, one thread each (go test -cpu 1, torch.set_num_threads(1)),
# measured back to back case by case.
#
# Usage: bench/elem-vs-torch.sh [ROUNDS]   (default 5)
#
# Each run gives the median time of one call, in µs (Go: the med-µs metric of
# BenchmarkX_128x500/<kernel>; torch: bench/elem_torch.py). The two sides alternate,
# A B A B, case by case, for ROUNDS rounds; the table gives the median over the
# rounds. ratio = torch / go, so > 1 means Go is faster. LATENT_KERNEL=generic|avx2|avx512
# picks the Go path. torch runs as `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
# /usr/bin/python3` (bench/pydeps.sh installs it if missing); the header gives
# threadpoolctl's OpenBLAS kernel, torch's thread count and the load average.
set -eu
ROUNDS=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pydeps.sh"
pydeps numpy torch threadpoolctl
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$root" && CGO_ENABLED=0 go test -c -o "$tmp/tensor.test" ./tensor)
kernel=$(cd "$tmp" && ./tensor.test -test.run '^TestElemKernelName$' -test.v | sed -n 's/.*element-wise kernel: //p' | head -n1)
printf 'go %s, Go element-wise kernel: %s; %s\n' "$(go env GOVERSION)" "$kernel" \
	"$(OMP_NUM_THREADS=1 $REF "$here/refinfo.py" torch)"
printf 'start: %s\n' "$(uptime)"
cases="sigmoid:Sigmoid sigmoid_bernoulli:SigmoidBernoulli exp:Exp softplus:Softplus logsigmoid:LogSigmoid tanh:Tanh log:Log relu:ReLU"
: >"$tmp/res"
for r in $(seq "$ROUNDS"); do
	for c in $cases; do
		py=${c%%:*}
		gob=${c#*:}
		gof=$(cd "$tmp" && ./tensor.test -test.run '^$' -test.bench "^Benchmark${gob}_128x500\$/^${kernel}\$" \
			-test.benchtime 0.3s -test.count 1 -test.cpu 1 |
			awk '/med-µs/ { for (i = 1; i < NF; i++) if ($(i+1) == "med-µs") v = $i } END { print v }')
		tf=$(OMP_NUM_THREADS=1 $REF "$here/elem_torch.py" "$py" --rounds 1 | awk '{ print $2 }')
		echo "$py $gof $tf" >>"$tmp/res"
	done
done
printf 'end: %s\n' "$(uptime)"
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'; }
printf '%-20s %10s %10s %7s   (medians over %s rounds)\n' case go_µs torch_µs ratio "$ROUNDS"
for c in $cases; do
	py=${c%%:*}
	gof=$(awk -v c="$py" '$1 == c { print $2 }' "$tmp/res" | median)
	tf=$(awk -v c="$py" '$1 == c { print $3 }' "$tmp/res" | median)
	ratio=$(awk -v g="$gof" -v t="$tf" 'BEGIN { if (g > 0) printf "%.2f", t / g; else print "-" }')
	printf '%-20s %10s %10s %7s\n' "$py" "$gof" "$tf" "$ratio"
done
