#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm launcher's test (tests/slurm_test.ts) and
# for trying `invbench slurm --submit` by hand (docs/distributed.md). Debian only; needs root.
#
#   scripts/local_slurm.sh install           install slurm-wlm + munge when missing (apt-get)
#   scripts/local_slurm.sh start STATE_DIR   install slurm-wlm + munge when missing (apt-get), write
#                                            STATE_DIR/slurm.conf, start munged (unless one already
#                                            answers), slurmctld and slurmd, wait until the node is idle
#   scripts/local_slurm.sh stop STATE_DIR    cancel this cluster's jobs and stop exactly the daemons
#                                            `start` started (listed in STATE_DIR/started)
#
# Clients reach the cluster with SLURM_CONF=STATE_DIR/slurm.conf. The cluster uses its own ports
# (6917/6918), state and spool directories under STATE_DIR, and never touches /etc/slurm, so it cannot
# clash with a system Slurm. Every failure exits non-zero with the reason and the daemons' logs.
set -euo pipefail

usage() {
  echo "usage: $0 install | start STATE_DIR | stop STATE_DIR" >&2
  exit 2
}

install() {
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "local_slurm: installing slurm-wlm and munge (apt-get)" >&2
    local log
    log=$(mktemp)
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "local_slurm: apt-get install slurm-wlm munge failed" >&2
      exit 1
    fi
  fi
}

cmd=${1:-}
state=${2:-}
if [ "$cmd" = install ]; then
  install
  exit 0
fi
if [ -z "$cmd" ] || [ -z "$state" ]; then usage; fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
conf="$state/slurm.conf"
export SLURM_CONF="$conf"

fail() {
  echo "local_slurm: $*" >&2
  for log in "$state"/*.log; do
    [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}

# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
  local seconds=$1
  shift
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}

munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
node_idle() { sinfo -h -N -o '%T' 2>/dev/null | grep -qx 'idle'; }

start() {
  install
  : >"$state/started"

  if ! munge_works; then
    [ -f /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || fail "cannot create /etc/munge/munge.key"; }
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    munged --force --pid-file="$state/munged.pid" --log-file="$state/munged.log" ||
      fail "munged did not start"
    echo "munged $(cat "$state/munged.pid")" >>"$state/started"
    wait_for 10 munge_works || fail "munged started but munge/unmunge does not work"
  fi

  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # Leave a little memory to the system; Slurm refuses a node claiming more than it has.
  mem=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 512))
  mkdir -p "$state/ctld" "$state/spool"
  cat >"$conf" <<EOF
# Written by scripts/local_slurm.sh: a one-node test cluster.
ClusterName=invbench-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmctldPort=6917
SlurmdPort=6918
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

  # -i: ignore state of an earlier cluster in STATE_DIR (a test cluster is always fresh).
  slurmctld -f "$conf" -i || fail "slurmctld did not start"
  wait_for 10 test -s "$state/slurmctld.pid" || fail "slurmctld wrote no pid file"
  echo "slurmctld $(cat "$state/slurmctld.pid")" >>"$state/started"
  wait_for 20 scontrol ping || fail "slurmctld does not answer scontrol ping"
  slurmd -f "$conf" || fail "slurmd did not start"
  wait_for 10 test -s "$state/slurmd.pid" || fail "slurmd wrote no pid file"
  echo "slurmd $(cat "$state/slurmd.pid")" >>"$state/started"
  wait_for 30 node_idle || fail "node $host did not become idle: $(sinfo -N 2>&1)"
  echo "SLURM_CONF=$conf"
}

stop() {
  [ -f "$state/started" ] || return 0
  if [ -f "$conf" ]; then scancel --full --quiet -u "$(id -un)" 2>/dev/null || true; fi
  # Stop in reverse order of starting: slurmd, slurmctld, then munged (when this script started it).
  tac "$state/started" | while read -r name pid; do
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "local_slurm: $name ($pid) ignored SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  rm -f "$state/started"
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
