#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# BPMN engine benchmark on one file (approval.bpmn): npm bpmn-engine 25 (in memory) beside rathaus —
# process.BenchmarkEngine (in-memory store), bench/desk BenchmarkDurableEngine (process.Runner on a SQLite
# file) and bench/desk BenchmarkWorkerEngine (the production path: River jobs, caseworkers deciding through
# the desk API, SQLite file; PostgreSQL with RATHAUS_BENCH_DB=postgres://…). bpmn-engine is installed into a
# temporary directory, never committed.
# Usage: bash bench/bpmn/run.sh [RUNS] [INSTANCES]   — prints one table of medians and the ratios.
# Env: WORKER_INSTANCES (default 1000) instances per BenchmarkWorkerEngine run, DURABLE_INSTANCES (default
# 2000) per BenchmarkDurableEngine run, WORKER_BENCH (default 'BenchmarkWorkerEngine/serve/') to pick configs.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
n=${2:-200}
worker_n=${WORKER_INSTANCES:-1000}
durable_n=${DURABLE_INSTANCES:-2000}
worker_bench=${WORKER_BENCH:-BenchmarkWorkerEngine/serve/}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-audit --no-fund --silent bpmn-engine@25 >/dev/null
cp bench/bpmn/peer.mjs "$tmp/"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
# metric NAME-REGEX UNIT < go test output: the values of UNIT on the lines of benchmarks matching NAME-REGEX.
metric() { awk -v re="$1" -v unit="$2" '$1 ~ re {for (i = 2; i < NF; i++) if ($(i+1) == unit) print $i}'; }
parse=() preparsed=()
for _ in $(seq "$runs"); do
  parse+=("$(node "$tmp/peer.mjs" bench/bpmn/approval.bpmn "$n" parse | sed 's/.*"per_sec":\([0-9.]*\).*/\1/')")
  preparsed+=("$(node "$tmp/peer.mjs" bench/bpmn/approval.bpmn "$n" preparsed | sed 's/.*"per_sec":\([0-9.]*\).*/\1/')")
done
p1=$(printf '%s\n' "${parse[@]}" | median)
p2=$(printf '%s\n' "${preparsed[@]}" | median)
mem=$(go test ./process -run '^$' -bench 'BenchmarkEngine' -benchtime 2s -count "$runs")
durable=$(go test ./bench/desk -run '^$' -bench 'BenchmarkDurableEngine' -benchtime "${durable_n}x" -count "$runs")
worker=$(go test ./bench/desk -run '^$' -bench "$worker_bench" -benchtime "${worker_n}x" -count "$runs" -timeout 60m)
db=${RATHAUS_BENCH_DB:+PostgreSQL}
db=${db:-SQLite file}
echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs), load at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  runs: $runs  peer instances per run: $n  durable: $durable_n  worker: $worker_n (medians)"
{
  printf 'engine\tinstances/s\tx parse\tx pre-parsed\tnote\n'
  row() { # name value note
    awk -v n="$1" -v v="$2" -v a="$p1" -v b="$p2" -v note="$3" 'BEGIN {
      if (v == "-" || v == "") { printf "%s\t-\t-\t-\t%s\n", n, note; exit }
      printf "%s\t%.1f\t%.1f\t%.1f\t%s\n", n, v, v/a, v/b, note }'
  }
  row "bpmn-engine 25 (parse per instance)" "$p1" "in memory"
  row "bpmn-engine 25 (pre-parsed moddle)" "$p2" "in memory"
  row "rathaus pure engine" "$(echo "$mem" | metric '^BenchmarkEngine/Pure' instances/s | median)" "state machine only"
  row "rathaus Runner + MemStore" "$(echo "$mem" | metric '^BenchmarkEngine/Runner' instances/s | median)" "in memory"
  for s in Sequential Parallel8 Grouped32 Batch50; do
    row "rathaus durable Runner, $s" "$(echo "$durable" | metric "^BenchmarkDurableEngine/$s" instances/s | median)" "SQLite file, no jobs"
  done
  for name in $(echo "$worker" | awk '$1 ~ /^BenchmarkWorkerEngine\// {sub(/-[0-9]+$/, "", $1); print $1}' | sort -u); do
    re="^${name//\//\\/}-"
    p50=$(echo "$worker" | metric "$re" decide-p50-ms | median)
    p99=$(echo "$worker" | metric "$re" decide-p99-ms | median)
    row "rathaus production ${name#BenchmarkWorkerEngine/}" "$(echo "$worker" | metric "$re" instances/s | median)" "$db, River, desk Decide p50 ${p50} ms p99 ${p99} ms"
  done
} | column -t -s $'\t'
