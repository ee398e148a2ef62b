#!/bin/sh
# SPDX-License-Identifier: EUPL-1.2
# Delivery end to end over loopback (see bench_test.go).
set -e
cd "$(dirname "$0")/../.."
go test -run x -bench WebhookEndToEnd -benchtime 300x -count 3 ./bench/delivery/
go test -run x -bench FITConnectEndToEnd -benchtime 60x -count 3 ./bench/delivery/
