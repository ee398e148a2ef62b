#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# BPMN engine benchmark: rathaus (process.BenchmarkEngine, in-memory store) beside npm bpmn-engine 25 on the
# same file (approval.bpmn). bpmn-engine is installed into a temporary directory, never committed.
# Usage: bash bench/bpmn/run.sh [RUNS] [INSTANCES]   — prints medians and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
n=${2:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-audit --no-fund --silent bpmn-engine@25 >/dev/null
cp bench/bpmn/peer.mjs "$tmp/"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
parse=() preparsed=()
for _ in $(seq "$runs"); do
  parse+=("$(node "$tmp/peer.mjs" bench/bpmn/approval.bpmn "$n" parse | sed 's/.*"per_sec":\([0-9.]*\).*/\1/')")
  preparsed+=("$(node "$tmp/peer.mjs" bench/bpmn/approval.bpmn "$n" preparsed | sed 's/.*"per_sec":\([0-9.]*\).*/\1/')")
done
out=$(go test ./process -run '^$' -bench 'BenchmarkEngine' -benchtime 2s -count "$runs")
runner=$(echo "$out" | awk '/BenchmarkEngine\/Runner/ {for (i=1;i<=NF;i++) if ($(i+1)=="instances/s") print $i}' | median)
pure=$(echo "$out" | awk '/BenchmarkEngine\/Pure/ {for (i=1;i<=NF;i++) if ($(i+1)=="instances/s") print $i}' | median)
p1=$(printf '%s\n' "${parse[@]}" | median)
p2=$(printf '%s\n' "${preparsed[@]}" | median)
echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  runs: $runs  peer instances per run: $n"
echo "bpmn-engine 25 (parse per instance)     median instances/s: $p1"
echo "bpmn-engine 25 (pre-parsed moddle)      median instances/s: $p2"
echo "rathaus Runner + MemStore (in-memory)   median instances/s: $runner"
echo "rathaus pure engine                     median instances/s: $pure"
awk -v r="$runner" -v a="$p1" -v b="$p2" 'BEGIN {printf "ratio rathaus Runner / bpmn-engine: %.0fx (parse), %.0fx (pre-parsed)\n", r/a, r/b}'
