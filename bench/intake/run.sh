#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Intake benchmark, repeated: RUNS runs of bench/intake over HTTP (vegeta in a child process) at each rate on a
# fresh SQLite database each, then one table of medians per rate. Tails on a shared machine vary more from run
# to run than most changes move them: compare medians. With PROBE=1 a disk probe runs next to the database and
# the fsync_max column shows its slowest fsync per rate — to tell a disk stall from the code (it perturbs the
# run a little: leave it off for the numbers you record).
# Usage: bash bench/intake/run.sh [RUNS] [RATES]   e.g. bash bench/intake/run.sh 9 3000,4000,5000
# Env: SCHEMA (default ../shared/data/fim-schemas/xdf2/S00000246V1.1), DB (a postgres:// URL instead of SQLite),
# DURATION (default 8s), PROBE (1: disk probe on).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
rates=${2:-3000,4000,5000}
schema=${SCHEMA:-../shared/data/fim-schemas/xdf2/S00000246V1.1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/intake" ./bench/intake
dbflag=()
if [ -n "${DB:-}" ]; then dbflag=(-db "$DB"); fi
if [ "${PROBE:-}" = 1 ]; then dbflag+=(-fsync-probe); fi
echo "machine: $(nproc) cores, $(go env GOVERSION), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
for i in $(seq "$runs"); do
  "$tmp/intake" -schema "$schema" -duration "${DURATION:-8s}" -workers 32 -http "$rates" -http-only -json "${dbflag[@]}" \
    > "$tmp/run$i.json" 2> "$tmp/run$i.log"
done
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
# field RATE KEY: the values of KEY for RATE over all runs (the -json output has one object per rate).
field() {
  for f in "$tmp"/run*.json; do
    tr '{' '\n' < "$f" | grep "\"rate_per_s\":$1," | sed "s/.*\"$2\":\([-0-9.e+]*\).*/\1/"
  done
}
printf '%-7s %-9s %-9s %-9s %-11s %-11s %-9s %-12s %-9s\n' rate carried p50_ms p99_ms server_p99 sustainable cpu_us disk_kib fsync_max
for rate in ${rates//,/ }; do
  ok=$(for f in "$tmp"/run*.json; do tr '{' '\n' < "$f" | grep "\"rate_per_s\":$rate," | grep -c '"sustainable":true' || true; done | awk '{s += $1} END {print s}')
  printf '%-7s %-9s %-9s %-9s %-11s %-11s %-9s %-12s %-9s\n' "$rate" \
    "$(field "$rate" throughput_per_s | median | cut -d. -f1)" "$(field "$rate" p50_ms | median)" \
    "$(field "$rate" p99_ms | median)" "$(field "$rate" server_p99_ms | median)" "$ok/$runs" \
    "$(field "$rate" server_cpu_us_per_request | median | cut -d. -f1)" "$(field "$rate" disk_kib_per_request | median | cut -c1-5)" \
    "$(if [ "${PROBE:-}" = 1 ]; then field "$rate" fsync_probe_max_ms | median; else echo -; fi)"
  echo "        p99 of each run: $(field "$rate" p99_ms | tr '\n' ' ')"
done
