// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"log/slog"
	"net"
	"strings"
	"testing"
)

// TestListenMetricsDefaultBusy: a taken default address turns the metrics
// listener off with a warning (a second instance on the host still
// starts); a taken address the operator chose is an error.
func TestListenMetricsDefaultBusy(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		name     string
		explicit bool
		wantErr  bool
		wantLog  string
	}{
		{"default", false, false, "metrics listener off: default address not available"},
		{"explicit", true, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf strings.Builder
			ms, err := listenMetrics(taken.Addr().String(), tc.explicit, nil, slog.New(slog.NewTextHandler(&buf, nil)))
			if ms != nil {
				t.Errorf("listener opened on a taken address")
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
			if !strings.Contains(buf.String(), tc.wantLog) {
				t.Errorf("log lacks %q: %s", tc.wantLog, buf.String())
			}
		})
	}
}
