#!/usr/bin/env bash
# A real Slurm test of `latent sweep`: it installs Debian's slurm-wlm and munge
# when they are missing (as root, with apt-get), starts a single-node cluster
# (munged, slurmctld, slurmd on ports of their own, with a config written
# here, so nothing on the machine is touched), submits a small Ising sweep
# with `latent sweep --slurm --submit`, waits for the job array, collects it,
# and checks that the table equals that of the same sweep run with --local 2.
# Where Slurm cannot be installed or started it prints SKIP and why, and exits 0.
#
#   bash .ci/slurm-test.sh          (about a minute once Slurm is installed)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

skip() {
	echo "SKIP slurm test: $*"
	exit 0
}

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
	[ "$(id -u)" = 0 ] || skip "Slurm is not installed and installing it needs root"
	command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get"
	echo "installing slurm-wlm and munge with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/tmp/latent-slurm-apt.log 2>&1 ||
		skip "apt-get install slurm-wlm munge failed: $(tail -1 /tmp/latent-slurm-apt.log)"
fi
[ "$(id -u)" = 0 ] || skip "the single-node cluster runs its daemons as root; run this as root"

work=$(mktemp -d /tmp/latent-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for f in slurmd.pid slurmctld.pid munged.pid; do
		[ -s "$work/$f" ] && kill "$(cat "$work/$f" 2>/dev/null)" 2>/dev/null || true
	done
	sleep 1
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/latent" ./cmd/latent

# munge: a key and a socket of our own.
mkdir -p "$work/munge" && chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --socket="$work/munge/munge.socket" --key-file="$work/munge/munge.key" \
	--pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/seed" ||
	skip "munged does not start: $(tail -1 "$work/munged.log" 2>/dev/null)"

host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=latenttest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -i >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$host" >"$work/slurmd.out" 2>&1 &
pids+=($!)

# Wait (up to 30 s) for the node to be idle.
ok=0
for _ in $(seq 30); do
	if sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; then
		ok=1
		break
	fi
	sleep 1
done
if [ $ok = 0 ]; then
	echo "slurmctld log:"; tail -5 "$work/slurmctld.log" 2>/dev/null || true
	echo "slurmd log:"; tail -5 "$work/slurmd.log" 2>/dev/null || true
	skip "the single-node cluster did not come up in 30 s (sinfo: $(sinfo -h -N -o '%T' 2>&1 | head -1))"
fi
echo "single-node Slurm is up: $(sinfo -h -N -o '%N %T %c CPUs')"

cat >"$work/scan.toml" <<'TOML'
name = "slurm-scan"
steps = [
  "train rbm --data ising:L=4,T={T},n=300 --hidden {h} --epochs 3 --seed {seed} --out model.lat --json",
  "eval --model model.lat --data ising:L=4,T={T},n=300 --samples 100 --gibbs-steps 50 --seed {seed} --json",
]
zip = [["h", "seed"]]
[axes]
T = { from = 2.0, to = 3.0, n = 3 }
h = [4, 8]
seed = [1, 2]
[slurm]
time = "00:05:00"
cpus = 1
mem = "500M"
TOML

cd "$work"
job=$("$work/latent" sweep scan.toml --slurm --submit --dir slurm-out)
echo "submitted job $job"
case $job in '' | *[!0-9]*)
	echo "FAIL: latent sweep --submit printed $job, not a job id"
	exit 1
	;;
esac
# Wait (up to 150 s) for the array to leave the queue.
for _ in $(seq 150); do
	[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
	sleep 1
done
if [ -n "$(squeue -h -j "$job")" ]; then
	echo "FAIL: job $job still queued after 150 s:"
	squeue -j "$job"
	exit 1
fi

cols='eval.log_likelihood,eval.ising.*.*,train.loss,train.pseudo_log_likelihood,train.exact_log_likelihood'
"$work/latent" sweep collect slurm-out --format csv --columns "$cols" >slurm.csv
"$work/latent" -q sweep scan.toml --local 2 --dir local-out >/dev/null
"$work/latent" sweep collect local-out --format csv --columns "$cols" >local.csv
cat slurm.csv
rows=$(grep -c ',done,' slurm.csv || true)
if [ "$rows" != 6 ]; then
	echo "FAIL: $rows of 6 runs done under Slurm"
	tail -n 3 slurm-out/slurm/*.out || true
	exit 1
fi
if ! diff local.csv slurm.csv; then
	echo "FAIL: the Slurm sweep's table differs from --local 2's (above)"
	exit 1
fi
# Submitting again submits nothing: every run is done.
"$work/latent" sweep scan.toml --slurm --submit --dir slurm-out | grep -q "nothing to submit" ||
	{ echo "FAIL: a finished sweep was submitted again"; exit 1; }
# A job Slurm refuses (no such partition) is one line naming it.
sed 's/^mem = .*/partition = "no-such-partition"/' scan.toml >refused.toml
if "$work/latent" sweep refused.toml --slurm --submit --dir refused-out >refused.out 2>refused.err; then
	echo "FAIL: a job for a partition that does not exist was accepted"
	exit 1
fi
if [ "$(wc -l <refused.err)" != 1 ] || ! grep -q "sbatch refused .*refused-out/sweep.sbatch: .*[Pp]artition" refused.err; then
	echo "FAIL: sbatch's refusal is not one line naming the script and the partition:"
	cat refused.err
	exit 1
fi
echo "refused as it should be: $(cat refused.err)"
echo "PASS slurm test: 6 runs as job $job; the table equals --local 2's"
