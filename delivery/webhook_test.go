// SPDX-License-Identifier: EUPL-1.2

package delivery_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/delivery"
	"rathaus/sqlstore/sqltest"
)

const secret1, secret2 = "whsec-0123456789abcdef", "whsec-fedcba9876543210"

func TestSignVerify(t *testing.T) {
	body := []byte(`{"type":"application"}`)
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name    string
		header  string
		body    []byte
		secrets []string
		wantErr string
	}{
		{"valid", delivery.Sign([]string{secret1}, now, body), body, []string{secret1}, ""},
		{"rotation: receiver has only the new secret", delivery.Sign([]string{secret2, secret1}, now, body), body, []string{secret2}, ""},
		{"rotation: receiver has only the old secret", delivery.Sign([]string{secret2, secret1}, now, body), body, []string{secret1}, ""},
		{"wrong secret", delivery.Sign([]string{secret1}, now, body), body, []string{secret2}, "no valid signature"},
		{"body changed", delivery.Sign([]string{secret1}, now, body), []byte(`{"type":"other"}`), []string{secret1}, "no valid signature"},
		{"too old (replay)", delivery.Sign([]string{secret1}, now.Add(-6*time.Minute), body), body, []string{secret1}, "replay window"},
		{"from the future", delivery.Sign([]string{secret1}, now.Add(6*time.Minute), body), body, []string{secret1}, "replay window"},
		{"within the window", delivery.Sign([]string{secret1}, now.Add(-4*time.Minute), body), body, []string{secret1}, ""},
		{"malformed", "v1=abc", body, []string{secret1}, "malformed"},
		{"empty", "", body, []string{secret1}, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := delivery.Verify(tt.header, tt.body, tt.secrets, now)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || rathaus.ErrorCode(err) != rathaus.EUNAUTHORIZED {
				t.Fatalf("Verify = %v, want unauthorized %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(delivery.Sign([]string{secret1}, now, []byte("x")), []byte("x"))
	f.Add("t=1800000000,v1=,v1=zz", []byte(""))
	f.Add("t=-99999999999999999999,v1=00", []byte("{}"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := delivery.Verify(header, body, []string{secret1}, now)
		if err == nil && header != delivery.Sign([]string{secret1}, now, body) && !strings.Contains(header, "v1=") {
			t.Fatalf("accepted %q", header)
		}
	})
}

// hook is a webhook receiver that verifies, deduplicates by idempotency
// key and can be told to fail.
type hook struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests int
	got      map[string]delivery.WebhookBody
	status   atomic.Int32 // answer while > 0 (e.g. 503)
	failN    atomic.Int32 // answer status for the next failN requests
}

func newHook(t *testing.T) *hook {
	h := &hook{got: map[string]delivery.WebhookBody{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests++
		h.mu.Unlock()
		if h.failN.Load() > 0 {
			h.failN.Add(-1)
			http.Error(w, "busy", int(h.status.Load()))
			return
		}
		if err := delivery.Verify(r.Header.Get(delivery.HeaderSignature), body, []string{secret1}, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var b delivery.WebhookBody
		if err := json.Unmarshal(body, &b); err != nil || b.IdempotencyKey != r.Header.Get(delivery.HeaderIdempotencyKey) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.got[b.IdempotencyKey] = b
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) deliveries() (map[string]delivery.WebhookBody, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps(h.got), h.requests
}

func maps(m map[string]delivery.WebhookBody) map[string]delivery.WebhookBody {
	out := map[string]delivery.WebhookBody{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestWebhookEndToEnd(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, dialect, delivery.Options{})
			h := newHook(t)
			r := e.route(t, hessen, delivery.AnyService, delivery.ChannelWebhook, delivery.WebhookConfig{URL: h.srv.URL + "/antraege", Secrets: []string{secret1, secret2}})
			e.start(t)
			app := e.submit(t, darmstadt)
			d := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
			if d.Attempts != 1 || d.LastError != "" {
				t.Errorf("delivery = %+v", d)
			}
			got, n := h.deliveries()
			if n != 1 || len(got) != 1 {
				t.Fatalf("receiver saw %d requests, %d deliveries", n, len(got))
			}
			b := got[delivery.IdempotencyKey(app.ID, r.ID)]
			if b.Application == nil || b.Application.Reference != app.Reference || b.Application.Tenant != darmstadt {
				t.Fatalf("body = %+v", b)
			}
			kontakt, _ := b.Application.Answers["kontakt"].(map[string]any)
			if kontakt["nachname"] != "Müller-Lüdenscheidt" {
				t.Errorf("answers not decrypted for the receiver: %v", b.Application.Answers)
			}
			if len(b.Application.Attachments) != 1 || !bytes.Equal(b.Application.Attachments[0].Content, pdf) {
				t.Fatalf("attachments = %+v", b.Application.Attachments)
			}
			sum := sha256.Sum256(b.Application.Attachments[0].Content)
			if hex.EncodeToString(sum[:]) != b.Application.Attachments[0].SHA256 {
				t.Errorf("attachment hash mismatch")
			}
			if diff := cmp.Diff([]string{"queued", "delivered"}, e.logStatuses(t, darmstadt, app.ID)); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryDeadLetterRedrive(t *testing.T) {
	e := newEnv(t, "sqlite", delivery.Options{MaxAttempts: 3})
	h := newHook(t)
	r := e.route(t, darmstadt, service, delivery.ChannelWebhook, delivery.WebhookConfig{URL: h.srv.URL, Secrets: []string{secret1}})
	h.status.Store(http.StatusServiceUnavailable)
	h.failN.Store(100)
	e.start(t)
	app := e.submit(t, darmstadt)
	d := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDead)
	if d.Attempts != 3 || !strings.Contains(d.LastError, "503") {
		t.Errorf("dead delivery = %+v", d)
	}
	if diff := cmp.Diff([]string{"queued", "retry", "retry", "dead"}, e.logStatuses(t, darmstadt, app.ID)); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	failed, err := e.svc.Failed(context.Background(), hessen, 0)
	if err != nil || len(failed) != 1 || failed[0].ApplicationID != app.ID {
		t.Fatalf("Failed(hessen) = %v, %v", failed, err)
	}
	if other, _ := e.svc.Failed(context.Background(), muenchen, 0); len(other) != 0 {
		t.Errorf("Failed(muenchen) = %v, want none (isolation)", other)
	}
	h.failN.Store(0)
	if err := e.svc.Redrive(context.Background(), darmstadt, app.ID, r.ID, "operator-1"); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
	if err := e.svc.Redrive(context.Background(), darmstadt, app.ID, r.ID, "operator-1"); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
		t.Errorf("Redrive of a delivered delivery = %v, want conflict", err)
	}
	if got := e.logStatuses(t, darmstadt, app.ID); !slices.Equal(got[len(got)-2:], []string{"redrive", "delivered"}) {
		t.Errorf("log = %v", got)
	}

	t.Run("RedirectNotFollowed", func(t *testing.T) {
		var hit atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Add(1) }))
		defer target.Close()
		redir := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
		defer redir.Close()
		rr := e.route(t, "064120000000", service, delivery.ChannelWebhook, delivery.WebhookConfig{URL: redir.URL, Secrets: []string{secret1}})
		app := e.submit(t, "064120000000")
		d := e.waitStatus(t, "064120000000", app.ID, rr.ID, delivery.StatusDead)
		if hit.Load() != 0 || !strings.Contains(d.LastError, "redirect") {
			t.Errorf("redirect: target hit %d times, error %q", hit.Load(), d.LastError)
		}
	})

	t.Run("ClientErrorIsPermanent", func(t *testing.T) {
		h.status.Store(http.StatusUnprocessableEntity)
		h.failN.Store(1)
		app := e.submit(t, darmstadt)
		d := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDead)
		if d.Attempts != 1 || !strings.Contains(d.LastError, "422") {
			t.Errorf("delivery = %+v", d)
		}
	})
}

func TestBackoffGrows(t *testing.T) {
	e := newEnv(t, "sqlite", delivery.Options{MaxAttempts: 4, BaseBackoff: 100 * time.Millisecond})
	h := newHook(t)
	r := e.route(t, darmstadt, service, delivery.ChannelWebhook, delivery.WebhookConfig{URL: h.srv.URL, Secrets: []string{secret1}})
	h.status.Store(http.StatusBadGateway)
	h.failN.Store(100)
	e.start(t)
	app := e.submit(t, darmstadt)
	e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDead)
	log, _ := e.svc.Log(context.Background(), darmstadt, app.ID)
	// queued, retry(1), retry(2), retry(3), dead(4): gaps after attempt n
	// are drawn from [base·2^(n-1)/2, base·2^(n-1)).
	if len(log) != 5 {
		t.Fatalf("log = %+v", log)
	}
	for n := 1; n <= 3; n++ {
		gap := log[n+1].At.Sub(log[n].At)
		lo := 100 * time.Millisecond << (n - 1) / 2
		if gap < lo {
			t.Errorf("gap after attempt %d = %v, want ≥ %v", n, gap, lo)
		}
	}
}

func TestConcurrentAttemptsDeliverOnce(t *testing.T) {
	e := newEnv(t, "sqlite", delivery.Options{})
	h := newHook(t)
	r := e.route(t, darmstadt, service, delivery.ChannelWebhook, delivery.WebhookConfig{URL: h.srv.URL, Secrets: []string{secret1}})
	app := e.submit(t, darmstadt) // queue not started: we drive it by hand
	ctx := context.Background()
	for range 3 { // fan-out is idempotent
		if err := e.svc.FanOut(ctx, darmstadt, app.ID, service); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.svc.Attempt(ctx, darmstadt, app.ID, r.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, n := h.deliveries()
	if n != 1 || len(got) != 1 {
		t.Errorf("receiver saw %d requests, %d deliveries; want 1", n, len(got))
	}
	ds, _ := e.svc.Deliveries(ctx, darmstadt, app.ID)
	if len(ds) != 1 || ds[0].Status != delivery.StatusDelivered || ds[0].Attempts != 1 {
		t.Errorf("deliveries = %+v", ds)
	}
}

// TestBackfill: applications filed before their route existed are
// delivered once the operator configured the route and ran Backfill.
func TestBackfill(t *testing.T) {
	e := newEnv(t, "sqlite", delivery.Options{})
	h := newHook(t)
	e.start(t)
	early := e.submit(t, darmstadt)
	other := e.submit(t, muenchen)
	time.Sleep(300 * time.Millisecond) // the fan-out ran and found no route
	r := e.route(t, hessen, service, delivery.ChannelWebhook, delivery.WebhookConfig{URL: h.srv.URL, Secrets: []string{secret1}})
	n, err := e.svc.Backfill(context.Background(), hessen, time.Time{})
	if err != nil || n != 1 {
		t.Fatalf("Backfill = %d, %v; want the one Hessian application", n, err)
	}
	e.waitStatus(t, darmstadt, early.ID, r.ID, delivery.StatusDelivered)
	if n, _ := e.svc.Backfill(context.Background(), hessen, time.Time{}); n != 0 {
		t.Errorf("second Backfill = %d, want 0", n)
	}
	if ds, _ := e.svc.Deliveries(context.Background(), muenchen, other.ID); len(ds) != 0 {
		t.Errorf("München application got deliveries: %+v", ds)
	}
}

// TestFailedSubtreeNotCrowdedOut: the dead-letter list of a municipality
// whose ARS ends in 0 still shows its failures when a neighbour whose ARS
// shares the prefix (…0010 vs …0011) has many newer ones.
func TestFailedSubtreeNotCrowdedOut(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			clock := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			e := newEnv(t, d, delivery.Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
			ctx := context.Background()
			const root, neighbour = "061234560010", "061234560011"
			if _, err := e.svc.IsolationFixture(ctx, root, "own-app", "eigener Fehler"); err != nil {
				t.Fatal(err)
			}
			for i := range 12 {
				if _, err := e.svc.IsolationFixture(ctx, neighbour, fmt.Sprintf("other-%02d", i), "fremder Fehler"); err != nil {
					t.Fatal(err)
				}
			}
			for _, limit := range []int{1, 2, 200} {
				got, err := e.svc.Failed(ctx, root, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || got[0].Tenant != root || got[0].ApplicationID != "own-app" {
					t.Errorf("Failed(%s, %d) = %d deliveries %v, want only own-app", root, limit, len(got), got)
				}
			}
			if got, _ := e.svc.Failed(ctx, neighbour, 5); len(got) != 5 {
				t.Errorf("Failed(%s, 5) = %d deliveries, want 5", neighbour, len(got))
			}
		})
	}
}
