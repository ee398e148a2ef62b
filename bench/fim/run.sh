#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# FIM parsing benchmark: npm xdatenfelder-xml@0.1.4 vs rathaus on the real
# XDatenfelder 2.0 schemas in ../shared/data/fim-schemas. Installs the npm
# parser into a temp dir (not committed), prints per-file distinct
# field/group counts of both parsers and the median files/s, and a Markdown
# section for bench/RESULTS.md.  Usage: bash bench/fim/run.sh [RUNS] [ITER]
set -euo pipefail
RUNS=${1:-5}
ITER=${2:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${RATHAUS_SHARED_DATA:-$root/../shared/data}/fim-schemas/xdf2
files=("$data"/S00000094V1.0/S00000094V1.0_xdf2.xml "$data"/S00000246V1.1/S00000246v1.1_xdf2.xml
  "$data"/S05000058V1.0/S05000058V1.0_xdf2.xml "$data"/S00000009/S00000009_xdatenfelder.xml)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund xdatenfelder-xml@0.1.4 >/dev/null)
(cd "$root" && go build -o "$tmp/fim-bench" ./bench/fim)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# Counts (one untimed call each), then RUNS alternating timed runs, so that both
# parsers see the same machine load.
node "$root/bench/fim/npm-bench.js" "$tmp/node_modules/xdatenfelder-xml" 0 0 "${files[@]}" >"$tmp/npm-counts.txt"
"$tmp/fim-bench" -runs 0 "${files[@]}" >"$tmp/go-counts.txt"
# Same files for the ratio: only those the npm parser accepts (it refuses S00000009's empty version).
ok=(); for f in "${files[@]}"; do grep -q "^counts $(basename "$f") ERROR" "$tmp/npm-counts.txt" || ok+=("$f"); done
: >"$tmp/npm.txt"; : >"$tmp/go.txt"; : >"$tmp/go-all.txt"; : >"$tmp/go-lists.txt"
for ((r = 0; r < RUNS; r++)); do
  node "$root/bench/fim/npm-bench.js" "$tmp/node_modules/xdatenfelder-xml" 1 "$ITER" "${ok[@]}" | grep '^npm' >>"$tmp/npm.txt"
  "$tmp/fim-bench" -runs 1 -iter "$ITER" "${ok[@]}" | grep '^rathaus' >>"$tmp/go.txt"
  "$tmp/fim-bench" -runs 1 -iter "$ITER" "${files[@]}" | grep '^rathaus' >>"$tmp/go-all.txt"
  "$tmp/fim-bench" -runs 1 -iter "$ITER" -codelists "${ok[@]}" | grep '^rathaus' >>"$tmp/go-lists.txt"
done
col() { awk -v c="$2" '{print $c}' "$1" | median; }
npm_fs=$(col "$tmp/npm.txt" 3); npm_cpu=$(col "$tmp/npm.txt" 5)
go_fs=$(col "$tmp/go.txt" 3); go_cpu=$(col "$tmp/go.txt" 5)
all_fs=$(col "$tmp/go-all.txt" 3); all_cpu=$(col "$tmp/go-all.txt" 5)
lists_fs=$(col "$tmp/go-lists.txt" 3); lists_cpu=$(col "$tmp/go-lists.txt" 5)
ratio=$(awk -v a="$go_fs" -v b="$npm_fs" 'BEGIN {printf "%.1f", a/b}')
ratio_cpu=$(awk -v a="$go_cpu" -v b="$npm_cpu" 'BEGIN {printf "%.1f", a/b}')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cat <<MD
## FIM parsing

Reproduce: \`bash bench/fim/run.sh $RUNS $ITER\` (installs npm \`xdatenfelder-xml@0.1.4\` into a temp dir;
times \`fim.Parse\` through \`bench/fim\`). Files are read once and parsed from memory, $ITER passes per run,
median of $RUNS runs taken alternately (npm, rathaus, …). "per CPU second" divides by the process's
user+system CPU time (all threads, so GC counts), which the load of a shared machine disturbs less than
wall-clock time. Machine: $(nproc) cores, $cpu, load average $(cut -d' ' -f1 /proc/loadavg) at the end
(shared with other builds). Date: $(date -u +%F).

| parser | files | files/s wall (median) | files per CPU second (median) |
|---|---|---|---|
| npm xdatenfelder-xml 0.1.4 (v2) | ${#ok[@]} real v2 schemas it accepts | $npm_fs | $npm_cpu |
| rathaus \`fim.Parse\` | the same ${#ok[@]} | $go_fs | $go_cpu |
| rathaus \`fim.Parse\` | all ${#files[@]} (incl. S00000009, which npm refuses) | $all_fs | $all_cpu |
| rathaus \`fim.Parse\` + genericode lists resolved | the same ${#ok[@]} | $lists_fs | $lists_cpu |

Ratio rathaus / npm on the same files: **${ratio}×** wall, **${ratio_cpu}×** per CPU second (target ≥ 10×).

Distinct (id, version) fields / groups per file:

| file | npm | rathaus |
|---|---|---|
MD
for f in "${files[@]}"; do
  b=$(basename "$f")
  n=$(grep "^counts $b " "$tmp/npm-counts.txt" | cut -d' ' -f3-)
  case $n in ERROR*) n="refused: ${n#ERROR }" ;; *) n=${n/ / \/ } ;; esac
  g=$(grep "^counts $b " "$tmp/go-counts.txt" | cut -d' ' -f3- | sed 's/ / \/ /')
  echo "| $b | $n | $g |"
done
