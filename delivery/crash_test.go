// SPDX-License-Identifier: EUPL-1.2

package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rathaus/delivery"
	"rathaus/fitconnect"
	"rathaus/sqlstore"
	"rathaus/vault"
)

// TestCrashMidDeliveryDeliversOnce kills rathaus (a child process: this
// test binary re-executed, running the delivery worker on a SQLite file)
// with SIGKILL while the receivers hold its requests, and drops the
// receivers' connections too. A second child picks the deliveries up
// after their lease expired. Each receiver has exactly one delivery per
// application: the webhook receiver by the Idempotency-Key, the
// FIT-Connect delivery service exactly one submitted submission (the
// announced submission was persisted and completed, not sent again).
func TestCrashMidDeliveryDeliversOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	master, masterText, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := newEnvDB(t, db, master, delivery.Options{})

	// The webhook receiver: records by idempotency key; the first request
	// is processed and then held (rathaus gets killed waiting for it).
	held := make(chan string, 4)
	var mu sync.Mutex
	requests, got := 0, map[string]int{}
	var holdOnce sync.Once
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := delivery.Verify(r.Header.Get(delivery.HeaderSignature), body, []string{secret1}, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(delivery.HeaderIdempotencyKey)
		mu.Lock()
		requests++
		got[key]++ // a real receiver stores the key with the application and drops repeats
		mu.Unlock()
		hold := false
		holdOnce.Do(func() { hold = true })
		if hold {
			held <- "webhook"
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hookSrv.Close()

	// The FIT-Connect delivery service: the first submit (PUT
	// /v2/submissions/{id}) is carried out and then held.
	z := newZustelldienst(t, fitconnect.NewMemStore())
	var fcOnce sync.Once
	inner := z.srv.Config.Handler
	z.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isSubmit := r.Method == http.MethodPut && strings.Count(r.URL.Path, "/") == 3 && strings.HasPrefix(r.URL.Path, "/v2/submissions/")
		hold := false
		if isSubmit {
			fcOnce.Do(func() { hold = true })
		}
		if !hold {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Errorf("held submit answered %d: %s", rec.Code, rec.Body)
		}
		held <- "fitconnect"
		<-r.Context().Done()
	})

	hook := e.route(t, darmstadt, service, delivery.ChannelWebhook, delivery.WebhookConfig{URL: hookSrv.URL, Secrets: []string{secret1}})
	fcCfg := z.config()
	fcCfg.TrustRootsPEM = pemOf(fcFixture(t).ca.Root.Raw)
	fc := e.route(t, darmstadt, service, delivery.ChannelFITConnect, fcCfg)
	app := e.submit(t, darmstadt)

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "RATHAUS_DELIVERY_CHILD_DIR="+dir, "RATHAUS_DELIVERY_CHILD_MASTER="+masterText)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := child()
	for range 2 {
		select {
		case <-held:
		case <-time.After(60 * time.Second):
			first.Process.Kill()
			t.Fatal("the receivers saw no delivery within 60 s")
		}
	}
	// Both receivers hold a request: kill rathaus, then the receivers'
	// connections.
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	hookSrv.CloseClientConnections()
	z.srv.CloseClientConnections()
	for _, id := range []string{hook.ID, fc.ID} {
		d, err := e.svc.Delivery(context.Background(), darmstadt, app.ID, id)
		if err != nil || d.Status != delivery.StatusPending || d.Attempts != 1 {
			t.Fatalf("after the kill: %+v, %v; want pending after one attempt", d, err)
		}
	}

	second := child()
	defer func() { second.Process.Kill(); second.Wait() }()
	for _, id := range []string{hook.ID, fc.ID} {
		d := e.waitStatus(t, darmstadt, app.ID, id, delivery.StatusDelivered)
		if d.Attempts != 2 {
			t.Errorf("route %s: %d attempts, want 2", d.Channel, d.Attempts)
		}
	}
	mu.Lock()
	if requests != 2 || len(got) != 1 || got[delivery.IdempotencyKey(app.ID, hook.ID)] != 2 {
		t.Errorf("webhook: %d requests, keys %v; want one key seen twice", requests, got)
	}
	mu.Unlock()
	list, err := z.subscriber.List(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if list.TotalCount != 1 {
		t.Fatalf("delivery service holds %d submitted submissions, want exactly 1", list.TotalCount)
	}
	d, _ := e.svc.Delivery(context.Background(), darmstadt, app.ID, fc.ID)
	if list.Submissions[0].SubmissionID != d.RemoteID {
		t.Errorf("submitted %s, delivery records %s", list.Submissions[0].SubmissionID, d.RemoteID)
	}
	if _, err := z.subscriber.Receive(context.Background(), d.RemoteID); err != nil {
		t.Errorf("the completed submission does not verify: %v", err)
	}
}

// TestCrashChild is the rathaus process of TestCrashMidDeliveryDeliversOnce.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("RATHAUS_DELIVERY_CHILD_DIR")
	if dir == "" {
		t.Skip("child process of TestCrashMidDeliveryDeliversOnce")
	}
	master, err := vault.ParseMasterKey(os.Getenv("RATHAUS_DELIVERY_CHILD_MASTER"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvDB(t, db, master, delivery.Options{Lease: 3 * time.Second, AttemptTimeout: 20 * time.Second})
	e.start(t)
	time.Sleep(60 * time.Second) // until killed
}

func pemOf(der []byte) string {
	b, _ := json.Marshal(der) // base64
	s := strings.Trim(string(b), `"`)
	var out strings.Builder
	out.WriteString("-----BEGIN CERTIFICATE-----\n")
	for len(s) > 64 {
		out.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	out.WriteString(s + "\n-----END CERTIFICATE-----\n")
	return out.String()
}

// TestReceiverTimeoutDeliversOnce: the receiver takes the application but
// answers too late; rathaus retries with the same idempotency key and the
// receiver keeps one delivery.
func TestReceiverTimeoutDeliversOnce(t *testing.T) {
	e := newEnv(t, "sqlite", delivery.Options{Lease: 4 * time.Second, AttemptTimeout: 300 * time.Millisecond})
	var mu sync.Mutex
	requests, got := 0, map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		n := requests
		got[r.Header.Get(delivery.HeaderIdempotencyKey)] = true
		mu.Unlock()
		if n == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	r := e.route(t, darmstadt, service, delivery.ChannelWebhook, delivery.WebhookConfig{URL: srv.URL, Secrets: []string{secret1}})
	e.start(t)
	app := e.submit(t, darmstadt)
	d := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
	mu.Lock()
	defer mu.Unlock()
	if d.Attempts != 2 || requests != 2 || len(got) != 1 {
		t.Errorf("attempts %d, requests %d, keys %d; want 2, 2, 1", d.Attempts, requests, len(got))
	}
}
