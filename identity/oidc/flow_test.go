// SPDX-License-Identifier: EUPL-1.2

package oidc

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus/identity/internal/memstore"
	"rathaus/identity/session"
)

func testSealer(t testing.TB) *sealer {
	s, err := newSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFlowSeal(t *testing.T) {
	s := testSealer(t)
	f := flow{As: "staff", State: "st", Nonce: "n", Verifier: "v", Next: "/x", MinLoA: 2, Expires: time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)}
	v, err := s.seal(flowCookie, f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open(flowCookie, v)
	if err != nil || !cmp.Equal(got, f) {
		t.Fatalf("open = %+v, %v", got, err)
	}
	if v2, _ := s.seal(flowCookie, f); v2 == v {
		t.Error("two seals are equal (nonce reused)")
	}
	if _, err := s.open("other_cookie", v); err == nil {
		t.Error("opened under another cookie name")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	for i := range raw {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		if _, err := s.open(flowCookie, base64.RawURLEncoding.EncodeToString(b)); err == nil {
			t.Fatalf("byte %d flipped: still opens", i)
		}
	}
	other, _ := newSealer([]byte("fedcba9876543210fedcba9876543210"))
	if _, err := other.open(flowCookie, v); err == nil {
		t.Error("opened with another key")
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}

// FuzzFlowOpen feeds arbitrary cookie values: none may open (the fuzzer
// cannot forge AES-GCM) and none may panic.
func FuzzFlowOpen(f *testing.F) {
	s := testSealer(f)
	f.Add("")
	f.Add("AAAA")
	f.Add("GwBo-4rep5F7br2q0FszUUcWqBj4QNndTJMu0bDIxiA90gnf_9sIpyjMKVxBDWvC1vAg_xvOpXnQzfYmS3oWD9zDE7hfdNYV5ygpwfXvYJ2y_azHUDhMrtPeuUgxfOJZdg")
	f.Add("eyJhcyI6InN0YWZmIn0")
	f.Fuzz(func(t *testing.T, v string) {
		if got, err := s.open(flowCookie, v); err == nil {
			t.Fatalf("forged cookie %q opened: %+v", v, got)
		}
	})
}

// TestLimiterForgetsOldKeys: failures with ever new names or addresses do
// not grow the limiter without bound once their window has passed, and
// recent ones still count.
func TestLimiterForgetsOldKeys(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	l := &limiter{now: func() time.Time { return now }, fail: map[string][]time.Time{}}
	for i := range maxTracked {
		l.failed(fmt.Sprint("name:", i))
	}
	for range maxFailures {
		l.failed("ip:recent")
	}
	now = now.Add(failureWindow / 2)
	l.failed("ip:later")
	if len(l.fail) != maxTracked+2 {
		t.Fatalf("within the window %d keys are tracked, want %d", len(l.fail), maxTracked+2)
	}
	now = now.Add(failureWindow/2 + time.Second) // the first batch is now stale
	l.failed("name:new")
	if len(l.fail) != 2 || len(l.fail["ip:later"]) != 1 || len(l.fail["name:new"]) != 1 {
		t.Errorf("after the window %d keys are tracked, want 2 (ip:later, name:new)", len(l.fail))
	}
	if l.blocked("ip:recent") {
		t.Error("ip:recent still blocked after its window")
	}
}

// TestCallbackFlowChecks: the callback refuses an expired flow cookie and a
// wrong state before it talks to any provider; only a fresh flow with the
// right state gets as far as the provider (here unreachable: 503).
func TestCallbackFlowChecks(t *testing.T) {
	h := New(Config{Citizen: Provider{Issuer: "http://127.0.0.1:1/none", ClientID: "c"},
		HTTPClient: &http.Client{Timeout: time.Second}, Logger: slog.New(slog.DiscardHandler)},
		memstore.New(), session.NewManager(memstore.New(), session.Options{}), nil)
	for _, tc := range []struct {
		name    string
		expires time.Duration
		state   string
		want    int
	}{
		{"expired", -time.Second, "s1", http.StatusBadRequest},
		{"wrong state", time.Minute, "s2", http.StatusBadRequest},
		{"empty state", time.Minute, "", http.StatusBadRequest},
		{"fresh and right", time.Minute, "s1", http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := h.sealer.seal(flowCookie, flow{As: "citizen", State: "s1", Nonce: "n", Verifier: "v", Next: "/", Expires: time.Now().Add(tc.expires)})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/auth/callback?"+url.Values{"state": {tc.state}, "code": {"c"}}.Encode(), nil)
			r.AddCookie(&http.Cookie{Name: flowCookie, Value: v})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if w.Header().Get("Location") != "" {
				t.Errorf("redirected to %s", w.Header().Get("Location"))
			}
		})
	}
}
