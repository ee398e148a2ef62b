#!/bin/sh
# SPDX-License-Identifier: EUPL-1.2
# FIT-Connect benchmarks: crypto steps and loopback deliveries, 5 runs each;
# prints the raw results, then the medians. Peer: OpenSSL's own RSA-4096
# figures on the same machine (openssl speed), if openssl is installed.
set -eu
cd "$(dirname "$0")/../.."
out=$(mktemp)
go test -run '^$' -bench . -benchtime "${BENCHTIME:-2s}" -count "${COUNT:-5}" ./bench/fitconnect/ | tee "$out"
echo "--- medians"
awk '/^Benchmark/ { name=$1; for (i=3; i<NF; i+=2) { key=name" "$(i+1); v[key]=v[key]" "$i } }
END { for (k in v) { n=split(v[k], a, " "); asort(a); print k, a[int((n+1)/2)] } }' "$out" | sort
if command -v openssl >/dev/null; then
	echo "--- peer: openssl speed rsa4096"
	openssl speed -seconds 3 rsa4096 2>/dev/null | tail -3
fi
rm -f "$out"
