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
awk '/^Benchmark/ { for (i = 3; i < NF; i += 2) print $1, $(i+1), $i }' "$out" | sort -k1,1 -k2,2 -k3,3g |
	awk '{ k = $1 " " $2; if (k != prev && prev != "") { print prev, v[int((n+1)/2)]; n = 0 } prev = k; v[++n] = $3 }
	END { if (prev != "") print prev, v[int((n+1)/2)] }'
if command -v openssl >/dev/null; then
	echo "--- peer: openssl speed rsa4096"
	openssl speed -seconds 3 rsa4096 2>/dev/null | tail -3
fi
rm -f "$out"
