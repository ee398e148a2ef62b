// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadBody checks the intake's body reader: sized by Content-Length,
// without one (chunked), over the route's limit, and shorter than announced.
func TestReadBody(t *testing.T) {
	const body = `{"a":"ü"}`
	for _, tc := range []struct {
		name    string
		length  int64 // Content-Length; -1 unknown
		limit   int64
		wantErr bool
		tooBig  bool
	}{
		{"sized", int64(len(body)), 1 << 20, false, false},
		{"unknown length", -1, 1 << 20, false, false},
		{"ErrTooLarge", int64(len(body)), 4, true, true},
		{"ErrTooLargeUnknownLength", -1, 4, true, true},
		{"ErrShort", int64(len(body)) + 5, 1 << 20, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/antraege/x", io.NopCloser(strings.NewReader(body)))
			r.ContentLength = tc.length
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, tc.limit)
			got, err := readBody(r)
			if (err != nil) != tc.wantErr {
				t.Fatalf("readBody = %q, %v; want error %v", got, err, tc.wantErr)
			}
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok != tc.tooBig {
				t.Errorf("readBody error %v: MaxBytesError %v, want %v", err, ok, tc.tooBig)
			}
			if err == nil && string(got) != body {
				t.Errorf("readBody = %q, want %q", got, body)
			}
		})
	}
}
