// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"rathaus"
	"rathaus/fitconnect"
	"rathaus/fitconnect/fitconnecttest"
)

const (
	tenantA   = "064110000000" // Darmstadt
	tenantB   = "091620000000" // München
	leika     = "urn:de:fim:leika:leistung:99108008003000"
	schemaURI = "https://schema.rathaus.example/wohngeld/1.0.0.json"
)

var dataSchema = []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["name", "einkommen"],
  "properties": {
    "name": {"type": "string", "minLength": 1},
    "einkommen": {"type": "number", "minimum": 0}
  },
  "additionalProperties": false
}`)

// clock is a settable clock shared by service and clients.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// receiver is a TLS callback endpoint that verifies and records callbacks.
type receiver struct {
	srv      *httptest.Server
	verifier *fitconnect.CallbackVerifier
	got      chan *fitconnect.CallbackBody
	mu       sync.Mutex
	raw      []*http.Request
	bodies   [][]byte
}

func newReceiver(t *testing.T, secret string, now func() time.Time) *receiver {
	r := &receiver{verifier: &fitconnect.CallbackVerifier{Secret: []byte(secret), Now: now}, got: make(chan *fitconnect.CallbackBody, 16)}
	h := r.verifier.Handler(func(cb *fitconnect.CallbackBody) { r.got <- cb })
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.raw, r.bodies = append(r.raw, req.Clone(context.Background())), append(r.bodies, b)
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(b))
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(t *testing.T, typ string) *fitconnect.CallbackBody {
	t.Helper()
	select {
	case cb := <-r.got:
		if cb.Type != typ {
			t.Fatalf("callback type %s, want %s", cb.Type, typ)
		}
		return cb
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s callback within 10 s", typ)
	}
	return nil
}

// world is a delivery service on loopback with one destination of tenant A,
// a sender and a subscriber (the specialist application), each with its
// own HTTP client.
type world struct {
	f          *fixture
	clock      *clock
	svc        *fitconnect.DeliveryService
	srv        *httptest.Server
	dest       *fitconnect.Destination
	sender     *fitconnect.Sender
	subscriber *fitconnect.Subscriber
	senderID   string
	senderSec  string
	subID      string
	subSec     string
	destCB     *receiver // the specialist application's callback endpoint
	senderCB   *receiver // the online service's callback endpoint
	senderCfg  *fitconnect.CallbackConfig
}

func newWorld(t *testing.T) *world { return newWorldAt(t, "") }

// newWorldAt mounts the delivery service under prefix (e.g. "/fitconnect")
// of the loopback server, as rathaus serve would.
func newWorldAt(t *testing.T, prefix string) *world {
	t.Helper()
	f := keys(t)
	w := &world{f: f, clock: &clock{}}
	var handler http.Handler
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { handler.ServeHTTP(rw, r) })))
	w.srv = httptest.NewServer(mux)
	w.srv.URL += prefix
	t.Cleanup(w.srv.Close)
	destSecret := "subscriber-callback-secret-0123456789"
	senderSecret := "sender-callback-secret-0123456789abcd"
	w.destCB = newReceiver(t, destSecret, w.clock.Now)
	w.senderCB = newReceiver(t, senderSecret, w.clock.Now)
	svc, err := fitconnect.NewDeliveryService(fitconnect.NewMemStore(), fitconnect.ServiceConfig{
		BaseURL: w.srv.URL, SigningKey: f.service, TrustRoots: f.ca.Pool,
		HTTPClient: w.destCB.srv.Client(), Now: w.clock.Now, Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	handler, w.svc = svc, svc
	t.Cleanup(svc.Close)
	ctx := context.Background()
	w.dest, err = svc.CreateDestination(ctx, fitconnect.DestinationSpec{
		Tenant: tenantA, EncryptionKey: f.enc.Public, SigningKey: f.sig.Public,
		Services: []fitconnect.PublicService{{Identifier: leika, Name: "Wohngeld",
			SubmissionSchemas: []fitconnect.SubmissionSchema{{SchemaURI: schemaURI, MimeType: "application/json"}}}},
		Callback: &fitconnect.CallbackConfig{URL: w.destCB.srv.URL + "/callbacks/fit-connect", Secret: destSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.senderID, w.senderSec, err = svc.CreateClient(ctx, tenantA, fitconnect.RoleSender); err != nil {
		t.Fatal(err)
	}
	if w.subID, w.subSec, err = svc.CreateClient(ctx, tenantA, fitconnect.RoleSubscriber, w.dest.ID); err != nil {
		t.Fatal(err)
	}
	w.sender = fitconnect.NewSender(fitconnect.Endpoint{
		SubmissionAPI: w.srv.URL, TokenURL: svc.TokenURL(), ClientID: w.senderID, ClientSecret: w.senderSec,
		HTTPClient: &http.Client{Timeout: 20 * time.Second}, UserAgent: "rathaus-test-sender", ServiceIssuer: w.srv.URL,
	}, f.ca.Pool, w.clock.Now)
	w.subscriber = fitconnect.NewSubscriber(fitconnect.Endpoint{
		SubmissionAPI: w.srv.URL, TokenURL: w.srv.URL + "/token", ClientID: w.subID, ClientSecret: w.subSec,
		HTTPClient: &http.Client{Timeout: 20 * time.Second}, UserAgent: "fachverfahren-test",
	}, w.dest.ID, []*jose.JSONWebKey{f.enc.Private}, f.sig.Private, w.clock.Now)
	w.subscriber.TrustRoots = f.ca.Pool
	sch, err := fitconnect.CompileJSONSchema(schemaURI, dataSchema)
	if err != nil {
		t.Fatal(err)
	}
	w.subscriber.DataSchemas[schemaURI] = sch
	w.senderCfg = &fitconnect.CallbackConfig{URL: w.senderCB.srv.URL + "/fit-connect/events", Secret: senderSecret}
	return w
}

func (w *world) request(data string) fitconnect.SendRequest {
	return fitconnect.SendRequest{
		DestinationID: w.dest.ID,
		Service:       fitconnect.PublicService{Identifier: leika, Name: "Wohngeld"},
		Data:          []byte(data),
		DataSchema:    fitconnect.SubmissionSchema{SchemaURI: schemaURI, MimeType: "application/json"},
		Attachments: []fitconnect.Attachment{
			{Content: []byte("%PDF-1.7 Antrag auf Wohngeld"), Filename: "antrag.pdf", MimeType: "application/pdf", Purpose: fitconnect.PurposeForm},
			{Content: bytes.Repeat([]byte("Mietvertrag "), 1000), Filename: "mietvertrag.txt", MimeType: "text/plain", Purpose: fitconnect.PurposeAttachment},
		},
		ReplyChannel: &fitconnect.ReplyChannel{EMail: &fitconnect.EMailChannel{Address: "erika@example.org"}},
		Callback:     w.senderCfg,
	}
}

func TestRoundTripAccept(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	req := w.request(`{"name":"Erika Mustermann","einkommen":1234.5}`)
	sent, err := w.sender.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	cb := w.destCB.wait(t, fitconnect.CallbackNewSubmissions)
	if len(cb.Submissions) != 1 || cb.Submissions[0].SubmissionID != sent.SubmissionID || cb.Submissions[0].CaseID != sent.CaseID {
		t.Fatalf("callback = %+v, sent = %+v", cb, sent)
	}
	st, err := w.sender.Status(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != fitconnect.StateSubmitted {
		t.Errorf("state before pickup = %s, want submitted", st.State)
	}

	list, err := w.subscriber.List(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if list.TotalCount != 1 || list.Submissions[0].SubmissionID != sent.SubmissionID {
		t.Fatalf("list = %+v", list)
	}
	got, err := w.subscriber.Receive(ctx, sent.SubmissionID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != string(req.Data) {
		t.Errorf("data = %s", got.Data)
	}
	if len(got.Attachments) != 2 {
		t.Fatalf("attachments = %d", len(got.Attachments))
	}
	for i, a := range got.Attachments {
		if !bytes.Equal(a.Content, req.Attachments[i].Content) || a.Filename != req.Attachments[i].Filename || a.AttachmentID != sent.AttachmentIDs[i] {
			t.Errorf("attachment %d = %s %s", i, a.AttachmentID, a.Filename)
		}
	}
	if got.Metadata.PublicServiceType.Identifier != leika || got.Metadata.ReplyChannel.EMail.Address != "erika@example.org" {
		t.Errorf("metadata = %+v", got.Metadata)
	}
	if !got.Tags.Equal(sent.Tags) {
		t.Errorf("tags differ: got %+v, sent %+v", got.Tags, sent.Tags)
	}
	if err := w.subscriber.Accept(ctx, got); err != nil {
		t.Fatal(err)
	}
	ev := w.senderCB.wait(t, fitconnect.CallbackNewEvents)
	if ev.Submissions[0].CaseID != sent.CaseID {
		t.Errorf("sender callback = %+v", ev)
	}
	st, err = w.sender.Status(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != fitconnect.StateAccepted || len(st.Problems) != 0 {
		t.Errorf("state = %s %v, want accepted", st.State, st.Problems)
	}
	var events []string
	for _, e := range st.Events {
		events = append(events, strings.TrimPrefix(e.Event, fitconnect.EventPrefix)+" by "+map[bool]string{true: "destination", false: "service"}[e.Issuer == w.dest.ID])
	}
	if want := "create-submission by service,submit-submission by service,accept-submission by destination"; strings.Join(events, ",") != want {
		t.Errorf("event log = %v, want %s", events, want)
	}

	t.Run("SenderExpectsItsServiceIssuer", func(t *testing.T) {
		other := fitconnect.NewSender(fitconnect.Endpoint{SubmissionAPI: w.srv.URL, TokenURL: w.svc.TokenURL(),
			ClientID: w.senderID, ClientSecret: w.senderSec, ServiceIssuer: "https://zustelldienst.example"}, w.f.ca.Pool, w.clock.Now)
		_, err := other.Status(ctx, sent)
		wantCode(t, err, rathaus.EINVALID, `want "https://zustelldienst.example"`)
	})
	t.Run("DecidedSubmissionIsGone", func(t *testing.T) {
		list, err := w.subscriber.List(ctx, 0, 100)
		if err != nil || list.TotalCount != 0 {
			t.Errorf("list after accept = %+v, %v", list, err)
		}
		_, err = w.subscriber.Receive(ctx, sent.SubmissionID)
		wantCode(t, err, rathaus.ENOTFOUND, "not waiting for pickup")
	})
	t.Run("SecondAcceptConflicts", func(t *testing.T) {
		wantCode(t, w.subscriber.Accept(ctx, got), rathaus.ECONFLICT, "takes no more events")
	})
	t.Run("ReplayedCallbackIsRejected", func(t *testing.T) {
		w.destCB.mu.Lock()
		orig, body := w.destCB.raw[0], w.destCB.bodies[0]
		w.destCB.mu.Unlock()
		r, _ := http.NewRequest(http.MethodPost, w.destCB.srv.URL+"/callbacks/fit-connect", bytes.NewReader(body))
		r.Header = orig.Header.Clone()
		res, err := w.destCB.srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("replayed callback: status %d, want 401", res.StatusCode)
		}
	})
	t.Run("StaleCallbackIsRejected", func(t *testing.T) {
		w.senderCB.mu.Lock()
		orig, body := w.senderCB.raw[0], w.senderCB.bodies[0]
		w.senderCB.mu.Unlock()
		v := &fitconnect.CallbackVerifier{Secret: []byte(w.senderCfg.Secret), Now: func() time.Time { return w.clock.Now().Add(6 * time.Minute) }}
		_, err := v.Verify(orig.Header, body)
		wantCode(t, err, rathaus.EUNAUTHORIZED, "stale")
	})
}

func TestRoundTripReject(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sent, err := w.sender.Send(ctx, w.request(`{"name":"Erika Mustermann","einkommen":-5}`))
	if err != nil {
		t.Fatal(err)
	}
	w.destCB.wait(t, fitconnect.CallbackNewSubmissions)
	got, err := w.subscriber.Receive(ctx, sent.SubmissionID)
	wantCode(t, err, rathaus.EINVALID, "data")
	problems := fitconnect.ProblemsOf(err)
	if len(problems) != 1 || problems[0].Type != fitconnect.ProblemSchemaViolation || problems[0].Instance != "data" {
		t.Fatalf("problems = %+v", problems)
	}
	if err := w.subscriber.Reject(ctx, got, problems...); err != nil {
		t.Fatal(err)
	}
	w.senderCB.wait(t, fitconnect.CallbackNewEvents)
	st, err := w.sender.Status(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != fitconnect.StateRejected || len(st.Problems) != 1 {
		t.Fatalf("status = %s %+v, want rejected with one problem", st.State, st.Problems)
	}
	p := st.Problems[0]
	if p.Type != fitconnect.ProblemSchemaViolation || p.Instance != "data" || !strings.Contains(p.Detail, "einkommen") {
		t.Errorf("problem = %+v, want a schema violation naming einkommen", p)
	}
	// The sender kept the content: a corrected resend goes through.
	sent2, err := w.sender.Send(ctx, w.request(`{"name":"Erika Mustermann","einkommen":5}`))
	if err != nil {
		t.Fatal(err)
	}
	got2, err := w.subscriber.Receive(ctx, sent2.SubmissionID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.subscriber.Accept(ctx, got2); err != nil {
		t.Fatal(err)
	}
	if st, err := w.sender.Status(ctx, sent2); err != nil || st.State != fitconnect.StateAccepted {
		t.Errorf("resend status = %+v, %v", st, err)
	}
}

// api is a raw client for the attacks the real clients never make.
type api struct {
	t     *testing.T
	base  string
	token string
}

func (w *world) api(t *testing.T, id, secret, scope string) *api {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	if scope != "" {
		form.Set("scope", scope)
	}
	res, err := http.PostForm(w.srv.URL+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&tr) != nil {
		t.Fatalf("token: HTTP %d", res.StatusCode)
	}
	return &api{t: t, base: w.srv.URL, token: tr.AccessToken}
}

func (a *api) call(method, path, ctype string, body []byte) (int, fitconnect.Problem, []byte) {
	a.t.Helper()
	r, _ := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if a.token != "" {
		r.Header.Set("Authorization", "Bearer "+a.token)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var p fitconnect.Problem
	if res.StatusCode >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			a.t.Errorf("%s %s: error content type %q, want application/problem+json", method, path, ct)
		}
		json.Unmarshal(b, &p)
	}
	return res.StatusCode, p, b
}

func wantProblem(t *testing.T, status int, p fitconnect.Problem, wantStatus int, substr string) {
	t.Helper()
	if status != wantStatus || p.Status != wantStatus {
		t.Errorf("status %d (problem %d), want %d: %+v", status, p.Status, wantStatus, p)
	}
	if !strings.Contains(p.Title, substr) {
		t.Errorf("problem title %q, want it to contain %q", p.Title, substr)
	}
}

func TestTokens(t *testing.T) {
	w := newWorld(t)
	post := func(form url.Values, basic bool) (int, map[string]any) {
		r, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			r.SetBasicAuth(w.senderID, w.senderSec)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	for _, tc := range []struct {
		name      string
		form      url.Values
		basic     bool
		status    int
		wantError string
	}{
		{"SenderOK", url.Values{"grant_type": {"client_credentials"}, "client_id": {w.senderID}, "client_secret": {w.senderSec}}, false, 200, ""},
		{"WrongSecret", url.Values{"grant_type": {"client_credentials"}, "client_id": {w.senderID}, "client_secret": {"guess"}}, false, 401, "invalid_client"},
		{"UnknownClient", url.Values{"grant_type": {"client_credentials"}, "client_id": {uuid.NewString()}, "client_secret": {"x"}}, false, 401, "invalid_client"},
		{"BasicAuth", url.Values{"grant_type": {"client_credentials"}}, true, 401, "invalid_client"},
		{"WrongGrant", url.Values{"grant_type": {"password"}, "client_id": {w.senderID}, "client_secret": {w.senderSec}}, false, 400, "unsupported_grant_type"},
		{"SenderAsksSubscribeScope", url.Values{"grant_type": {"client_credentials"}, "client_id": {w.senderID}, "client_secret": {w.senderSec}, "scope": {"subscribe-destinations"}}, false, 400, "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m := post(tc.form, tc.basic)
			if status != tc.status {
				t.Errorf("status %d, want %d (%v)", status, tc.status, m)
			}
			if tc.wantError == "" {
				if m["token_type"] != "Bearer" || m["expires_in"] != float64(1800) || m["scope"] != "send-submissions" || m["access_token"] == "" {
					t.Errorf("token answer = %v", m)
				}
			} else if m["error"] != tc.wantError {
				t.Errorf("error = %v, want %s", m["error"], tc.wantError)
			}
		})
	}

	sender := w.api(t, w.senderID, w.senderSec, "")
	subscriber := w.api(t, w.subID, w.subSec, "")
	t.Run("WrongScope", func(t *testing.T) {
		s, p, _ := sender.call("GET", "/v2/destinations/"+w.dest.ID+"/submissions", "", nil)
		wantProblem(t, s, p, 403, "lacks scope subscribe-destinations")
		s, p, _ = subscriber.call("POST", "/v2/submissions", "application/json", []byte(`{"destinationId":"`+w.dest.ID+`","publicService":{"identifier":"`+leika+`"}}`))
		wantProblem(t, s, p, 403, "lacks scope send-submissions")
	})
	t.Run("NoToken", func(t *testing.T) {
		s, p, _ := (&api{t: t, base: w.srv.URL}).call("GET", "/v2/destinations/"+w.dest.ID, "", nil)
		wantProblem(t, s, p, 401, "bearer token required")
	})
	t.Run("Expired", func(t *testing.T) {
		w.clock.Advance(31 * time.Minute)
		s, p, _ := sender.call("GET", "/v2/destinations/"+w.dest.ID, "", nil)
		wantProblem(t, s, p, 401, "access token expired")
		// The client library fetches a fresh token by itself.
		if _, err := w.sender.Destination(context.Background(), w.dest.ID); err != nil {
			t.Errorf("sender after expiry: %v", err)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	idB, secB, err := w.svc.CreateClient(ctx, tenantB, fitconnect.RoleSender)
	if err != nil {
		t.Fatal(err)
	}
	b := w.api(t, idB, secB, "")
	for _, path := range []string{"/v2/destinations/" + w.dest.ID, "/v1/destinations/" + w.dest.ID + "/keys/" + w.dest.EncryptionKid} {
		s, p, _ := b.call("GET", path, "", nil)
		wantProblem(t, s, p, 404, "not found")
	}
	s, p, _ := b.call("POST", "/v2/submissions", "application/json", []byte(`{"destinationId":"`+w.dest.ID+`","publicService":{"identifier":"`+leika+`"}}`))
	wantProblem(t, s, p, 404, "not found")
	// Tenant B's sender cannot read tenant A's event log either.
	sent, err := w.sender.Send(ctx, w.request(`{"name":"A","einkommen":1}`))
	if err != nil {
		t.Fatal(err)
	}
	s, p, _ = b.call("GET", "/v2/cases/"+sent.CaseID+"/events", "", nil)
	wantProblem(t, s, p, 404, "not found")
	// Nor can another sender of the same tenant.
	id2, sec2, _ := w.svc.CreateClient(ctx, tenantA, fitconnect.RoleSender)
	s, p, _ = w.api(t, id2, sec2, "").call("GET", "/v2/cases/"+sent.CaseID+"/events", "", nil)
	wantProblem(t, s, p, 404, "not found")
}

func TestBadKeysAreRejected(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wrongAlg := *w.f.enc.Public
	wrongAlg.Algorithm = "RSA-OAEP"
	svc := []fitconnect.PublicService{{Identifier: leika}}
	for _, tc := range []struct {
		name     string
		enc, sig *fitconnect.Key
		want     string
	}{
		{"Weak2048", w.f.weak.Public, w.f.sig.Public, "encryption key: jwk weak-key-0001: RSA key has 2048 bits, at least 4096 required"},
		{"WrongAlg", &wrongAlg, w.f.sig.Public, "alg must be RSA-OAEP-256"},
		{"ChainToUnknownRoot", w.f.rogueEnc.Public, w.f.sig.Public, "does not verify against the trust roots"},
		{"SwappedKeys", w.f.sig.Public, w.f.enc.Public, "encryption key: jwk sig-key-0001: alg must be RSA-OAEP-256"},
	} {
		t.Run("Destination"+tc.name, func(t *testing.T) {
			_, err := w.svc.CreateDestination(ctx, fitconnect.DestinationSpec{Tenant: tenantA, Services: svc, EncryptionKey: tc.enc, SigningKey: tc.sig})
			wantCode(t, err, rathaus.EINVALID, tc.want)
		})
	}
	t.Run("SenderDistrustsChain", func(t *testing.T) {
		s := fitconnect.NewSender(fitconnect.Endpoint{SubmissionAPI: w.srv.URL, TokenURL: w.svc.TokenURL(),
			ClientID: w.senderID, ClientSecret: w.senderSec}, w.f.rogue.Pool, w.clock.Now)
		_, err := s.Send(ctx, w.request(`{"name":"A","einkommen":1}`))
		wantCode(t, err, rathaus.EINVALID, "x5c chain does not verify against the trust roots")
	})
}

// rawSubmission announces and submits a submission built by hand, so a
// test can break what the real Sender never breaks.
func rawSubmission(t *testing.T, w *world, meta fitconnect.Metadata, data []byte, attachments map[string][]byte, announced []string) fitconnect.SubmissionID {
	t.Helper()
	a := w.api(t, w.senderID, w.senderSec, "")
	body, _ := json.Marshal(map[string]any{"destinationId": w.dest.ID, "announcedAttachments": announced,
		"publicService": map[string]string{"identifier": leika}})
	s, p, b := a.call("POST", "/v2/submissions", "application/json", body)
	if s != 201 {
		t.Fatalf("announce: %d %+v", s, p)
	}
	var id fitconnect.SubmissionID
	json.Unmarshal(b, &id)
	key := &w.f.enc.Public.JSONWebKey
	for aid, content := range attachments {
		tok, _ := fitconnect.EncryptJWE(content, key, "application/pdf")
		if s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID+"/attachments/"+aid, fitconnect.ContentTypeJOSE, []byte(tok)); s != 204 {
			t.Fatalf("upload: %d %+v", s, p)
		}
	}
	mj, _ := json.Marshal(meta)
	em, _ := fitconnect.EncryptJWE(mj, key, "application/json")
	ed, _ := fitconnect.EncryptJWE(data, key, "application/json")
	sb, _ := json.Marshal(map[string]string{"encryptedMetadata": em, "encryptedData": ed})
	if s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID, "application/json", sb); s != 200 {
		t.Fatalf("submit: %d %+v", s, p)
	}
	return id
}

func TestReceiverChecks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	data := []byte(`{"name":"Erika","einkommen":1}`)
	aid := uuid.NewString()
	pdf := []byte("%PDF-1.7")
	build := func() fitconnect.Metadata {
		req := w.request(string(data))
		req.Attachments = []fitconnect.Attachment{{Content: pdf, MimeType: "application/pdf", Purpose: fitconnect.PurposeForm}}
		return fitconnect.BuildMetadata(&req, []string{aid})
	}
	for _, tc := range []struct {
		name     string
		mod      func(m *fitconnect.Metadata)
		data     []byte
		announce []string
		upload   map[string][]byte
		problem  string
		instance string
	}{
		{"DataHashMismatch", func(m *fitconnect.Metadata) { m.ContentStructure.Data.Hash = fitconnect.SHA512([]byte("other")) },
			data, []string{aid}, map[string][]byte{aid: pdf}, fitconnect.ProblemHashMismatch, "data"},
		{"AttachmentHashMismatch", func(m *fitconnect.Metadata) {
			m.ContentStructure.Attachments[0].Hash = fitconnect.SHA512([]byte("other"))
		},
			data, []string{aid}, map[string][]byte{aid: pdf}, fitconnect.ProblemHashMismatch, "attachment:" + aid},
		{"UnannouncedAttachmentInMetadata", func(m *fitconnect.Metadata) {}, data, []string{}, nil, fitconnect.ProblemAttachmentsMismatch, "submission"},
		{"UnsupportedSchema", func(m *fitconnect.Metadata) {
			m.ContentStructure.Data.SubmissionSchema.SchemaURI = "https://example.org/other.json"
		},
			data, []string{aid}, map[string][]byte{aid: pdf}, fitconnect.ProblemUnsupportedSchema, "data"},
		{"InvalidMetadata", func(m *fitconnect.Metadata) { m.ContentStructure.Attachments[0].Purpose = "selfie" },
			data, []string{aid}, map[string][]byte{aid: pdf}, fitconnect.ProblemSchemaViolation, "metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := build()
			tc.mod(&m)
			id := rawSubmission(t, w, m, tc.data, tc.upload, tc.announce)
			got, err := w.subscriber.Receive(ctx, id.SubmissionID)
			ps := fitconnect.ProblemsOf(err)
			if len(ps) != 1 || ps[0].Type != tc.problem || ps[0].Instance != tc.instance {
				t.Fatalf("problems = %+v (err %v), want %s at %s", ps, err, tc.problem, tc.instance)
			}
			if err := w.subscriber.Reject(ctx, got, ps...); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestServiceRejects(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.api(t, w.senderID, w.senderSec, "")
	aid := uuid.NewString()
	announce := func(body string) (int, fitconnect.Problem, fitconnect.SubmissionID) {
		s, p, b := a.call("POST", "/v2/submissions", "application/json", []byte(body))
		var id fitconnect.SubmissionID
		json.Unmarshal(b, &id)
		return s, p, id
	}
	s, p, id := announce(`{"destinationId":"` + w.dest.ID + `","announcedAttachments":["` + aid + `"],"publicService":{"identifier":"` + leika + `"}}`)
	if s != 201 || id.CaseID == "" {
		t.Fatalf("announce: %d %+v", s, p)
	}
	key := &w.f.enc.Public.JSONWebKey
	jwe, _ := fitconnect.EncryptJWE([]byte("x"), key, "text/plain")
	t.Run("UnknownAttachment", func(t *testing.T) {
		s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID+"/attachments/"+uuid.NewString(), fitconnect.ContentTypeJOSE, []byte(jwe))
		wantProblem(t, s, p, 404, "was not announced")
	})
	t.Run("AttachmentNotJOSE", func(t *testing.T) {
		s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID+"/attachments/"+aid, "application/pdf", []byte("%PDF"))
		wantProblem(t, s, p, 415, "application/jose")
	})
	t.Run("AttachmentNotJWE", func(t *testing.T) {
		s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID+"/attachments/"+aid, fitconnect.ContentTypeJOSE, []byte("plain text"))
		wantProblem(t, s, p, 400, "not a compact JWE")
	})
	t.Run("AttachmentForOtherKey", func(t *testing.T) {
		other := w.f.enc.Public.JSONWebKey
		other.KeyID = "some-other-key"
		tok, _ := fitconnect.EncryptJWE([]byte("x"), &other, "text/plain")
		s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID+"/attachments/"+aid, fitconnect.ContentTypeJOSE, []byte(tok))
		wantProblem(t, s, p, 422, "not an encryption key of the destination")
	})
	t.Run("SubmitWithMissingAttachment", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"encryptedMetadata": jwe, "encryptedData": jwe})
		s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID, "application/json", body)
		wantProblem(t, s, p, 422, "not uploaded: "+aid)
	})
	t.Run("SubmitWithoutData", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"encryptedMetadata": jwe})
		s, p, _ := a.call("PUT", "/v2/submissions/"+id.SubmissionID, "application/json", body)
		wantProblem(t, s, p, 400, "encryptedData are required")
	})
	t.Run("ServiceNotOffered", func(t *testing.T) {
		s, p, _ := announce(`{"destinationId":"` + w.dest.ID + `","publicService":{"identifier":"urn:de:fim:leika:leistung:99000000000000"}}`)
		wantProblem(t, s, p, 422, "does not offer service")
	})
	t.Run("BadAttachmentID", func(t *testing.T) {
		s, p, _ := announce(`{"destinationId":"` + w.dest.ID + `","announcedAttachments":["1"],"publicService":{"identifier":"` + leika + `"}}`)
		wantProblem(t, s, p, 400, "must be a UUID")
	})
	t.Run("HTTPCallback", func(t *testing.T) {
		s, p, _ := announce(`{"destinationId":"` + w.dest.ID + `","publicService":{"identifier":"` + leika + `"},"callback":{"url":"http://example.org/cb","secret":"0123456789012345678901234567890123"}}`)
		wantProblem(t, s, p, 400, "https URL")
	})
	t.Run("UnknownDestination", func(t *testing.T) {
		s, p, _ := announce(`{"destinationId":"` + uuid.NewString() + `","publicService":{"identifier":"` + leika + `"}}`)
		wantProblem(t, s, p, 404, "not found")
	})
	t.Run("NoKeyList", func(t *testing.T) {
		s, p, _ := a.call("GET", "/v2/destinations/"+w.dest.ID+"/keys", "", nil)
		wantProblem(t, s, p, 404, "no such endpoint")
	})
	t.Run("JWKSIsPublic", func(t *testing.T) {
		s, _, b := (&api{t: t, base: w.srv.URL}).call("GET", "/.well-known/jwks.json", "", nil)
		var set jose.JSONWebKeySet
		if s != 200 || json.Unmarshal(b, &set) != nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() || set.Keys[0].KeyID != "zustelldienst-2026" {
			t.Errorf("jwks: %d %s", s, b)
		}
	})
	_ = ctx
}

func TestSETsPostedToTheServiceAreVerified(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sent, err := w.sender.Send(ctx, w.request(`{"name":"Erika","einkommen":1}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.subscriber.Receive(ctx, sent.SubmissionID)
	if err != nil {
		t.Fatal(err)
	}
	sub := w.api(t, w.subID, w.subSec, "")
	claims := fitconnect.SET{Schema: fitconnect.SETPayloadSchema, ID: uuid.NewString(), Issuer: w.dest.ID, IssuedAt: w.clock.Now(),
		Subject: "submission:" + sent.SubmissionID, Txn: "case:" + sent.CaseID, Event: fitconnect.EventAcceptSubmission,
		Payload: fitconnect.EventPayload{AuthenticationTags: &got.Tags}}
	post := func(tok string) (int, fitconnect.Problem) {
		s, p, _ := sub.call("POST", "/v2/cases/"+sent.CaseID+"/events", fitconnect.ContentTypeJOSE, []byte(tok))
		return s, p
	}
	t.Run("BadSignature", func(t *testing.T) {
		forged := *w.f.enc.Private // right size, wrong key, kid of the real signing key
		forged.KeyID = w.f.sig.Private.KeyID
		tok, err := fitconnect.SignSET(claims, &forged)
		if err != nil {
			t.Fatal(err)
		}
		s, p := post(tok)
		wantProblem(t, s, p, 422, "bad signature")
	})
	t.Run("WrongTags", func(t *testing.T) {
		c := claims
		tags := got.Tags
		tags.Metadata = "AAAAAAAAAAAAAAAAAAAAAA"
		c.Payload.AuthenticationTags = &tags
		tok, _ := fitconnect.SignSET(c, w.f.sig.Private)
		s, p := post(tok)
		wantProblem(t, s, p, 422, "authentication tag of metadata does not match")
	})
	t.Run("WrongIssuer", func(t *testing.T) {
		c := claims
		c.Issuer = uuid.NewString()
		tok, _ := fitconnect.SignSET(c, w.f.sig.Private)
		s, p := post(tok)
		wantProblem(t, s, p, 422, "iss is")
	})
	t.Run("OtherSubmission", func(t *testing.T) {
		c := claims
		c.Subject = "submission:" + uuid.NewString()
		tok, _ := fitconnect.SignSET(c, w.f.sig.Private)
		s, p := post(tok)
		wantProblem(t, s, p, 422, "sub is")
	})
	t.Run("SenderMayNotPost", func(t *testing.T) {
		tok, _ := fitconnect.SignSET(claims, w.f.sig.Private)
		s, p, _ := w.api(t, w.senderID, w.senderSec, "").call("POST", "/v2/cases/"+sent.CaseID+"/events", fitconnect.ContentTypeJOSE, []byte(tok))
		wantProblem(t, s, p, 403, "only the destination's subscriber")
	})
	if st, err := w.sender.Status(ctx, sent); err != nil || st.State != fitconnect.StateSubmitted {
		t.Errorf("after forged events: %+v, %v; want still submitted", st, err)
	}
}

func TestExpireDeadlines(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	submitted, err := w.sender.Send(ctx, w.request(`{"name":"Erika","einkommen":1}`))
	if err != nil {
		t.Fatal(err)
	}
	w.destCB.wait(t, fitconnect.CallbackNewSubmissions)
	a := w.api(t, w.senderID, w.senderSec, "")
	s, p, b := a.call("POST", "/v2/submissions", "application/json", []byte(`{"destinationId":"`+w.dest.ID+`","publicService":{"identifier":"`+leika+`"}}`))
	if s != 201 {
		t.Fatalf("announce: %d %+v", s, p)
	}
	var incomplete fitconnect.SubmissionID
	json.Unmarshal(b, &incomplete)

	rep, err := w.svc.ExpireDeadlines(ctx, w.clock.Now().Add(23*time.Hour))
	if err != nil || len(rep.Deleted)+len(rep.Rejected) != 0 {
		t.Fatalf("after 23 h: %+v, %v", rep, err)
	}
	rep, err = w.svc.ExpireDeadlines(ctx, w.clock.Now().Add(25*time.Hour))
	if err != nil || len(rep.Deleted) != 1 || rep.Deleted[0] != incomplete.SubmissionID || len(rep.Rejected) != 0 {
		t.Fatalf("after 25 h: %+v, %v", rep, err)
	}
	rep, err = w.svc.ExpireDeadlines(ctx, w.clock.Now().Add(15*24*time.Hour))
	if err != nil || len(rep.Rejected) != 1 || rep.Rejected[0] != submitted.SubmissionID {
		t.Fatalf("after 15 d: %+v, %v", rep, err)
	}
	w.senderCB.wait(t, fitconnect.CallbackNewEvents)
	w.destCB.wait(t, fitconnect.CallbackNewEvents)
	st, err := w.sender.Status(ctx, submitted)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != fitconnect.StateRejected || len(st.Problems) != 1 || st.Problems[0].Type != fitconnect.ProblemNotPickedUp {
		t.Errorf("status = %s %+v, want rejected by the delivery service", st.State, st.Problems)
	}
	if last := st.Events[len(st.Events)-1]; last.Issuer != w.srv.URL {
		t.Errorf("reject issued by %s, want the delivery service", last.Issuer)
	}
	_, err = w.subscriber.Receive(ctx, submitted.SubmissionID)
	wantCode(t, err, rathaus.ENOTFOUND, "not waiting for pickup")
}

func TestKeyRollover(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	before, err := w.sender.Send(ctx, w.request(`{"name":"Alt","einkommen":1}`))
	if err != nil {
		t.Fatal(err)
	}
	next := w.f.ca.MustIssue(fitconnecttest.RSAKey(4096, 3), fitconnect.UseEncryption, "enc-key-0002")
	if _, err := w.svc.RotateEncryptionKey(ctx, tenantA, w.dest.ID, next.Public); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.RotateEncryptionKey(ctx, tenantA, w.dest.ID, next.Public)
	wantCode(t, err, rathaus.ECONFLICT, "already has a key")
	_, err = w.svc.RotateEncryptionKey(ctx, tenantB, w.dest.ID, next.Public)
	wantCode(t, err, rathaus.ENOTFOUND, "not found")
	after, err := w.sender.Send(ctx, w.request(`{"name":"Neu","einkommen":2}`))
	if err != nil {
		t.Fatal(err)
	}
	// A subscriber that holds only the new key cannot open the old submission.
	onlyNew := fitconnect.NewSubscriber(fitconnect.Endpoint{SubmissionAPI: w.srv.URL, TokenURL: w.svc.TokenURL(), ClientID: w.subID, ClientSecret: w.subSec},
		w.dest.ID, []*jose.JSONWebKey{next.Private}, w.f.sig.Private, w.clock.Now)
	_, err = onlyNew.Receive(ctx, before.SubmissionID)
	if ps := fitconnect.ProblemsOf(err); len(ps) != 1 || ps[0].Type != fitconnect.ProblemEncryptionIssue {
		t.Errorf("old submission with only the new key: %v", err)
	}
	// The new submission was encrypted to the new key: decryption works and
	// the check stops only at the data schema this subscriber lacks.
	_, err = onlyNew.Receive(ctx, after.SubmissionID)
	if ps := fitconnect.ProblemsOf(err); len(ps) != 1 || ps[0].Type != fitconnect.ProblemUnsupportedSchema {
		t.Errorf("new submission with only the new key: %v", err)
	}
	// With both keys, both submissions open.
	both := fitconnect.NewSubscriber(fitconnect.Endpoint{SubmissionAPI: w.srv.URL, TokenURL: w.svc.TokenURL(), ClientID: w.subID, ClientSecret: w.subSec},
		w.dest.ID, []*jose.JSONWebKey{w.f.enc.Private, next.Private}, w.f.sig.Private, w.clock.Now)
	both.TrustRoots = w.f.ca.Pool
	both.DataSchemas = w.subscriber.DataSchemas
	for _, sent := range []*fitconnect.Sent{before, after} {
		got, err := both.Receive(ctx, sent.SubmissionID)
		if err != nil {
			t.Fatalf("%s: %v", sent.SubmissionID, err)
		}
		if err := both.Accept(ctx, got); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPagingWaitAndFailedCallback(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// The destination's callback endpoint is down: delivery must not care.
	w.destCB.srv.Close()
	var sent []*fitconnect.Sent
	for i := range 3 {
		s, err := w.sender.Send(ctx, w.request(`{"name":"Nr. `+strconv.Itoa(i)+`","einkommen":1}`))
		if err != nil {
			t.Fatalf("send %d with callback endpoint down: %v", i, err)
		}
		sent = append(sent, s)
	}
	var seen []string
	for off := 0; off < 3; off += 2 {
		page, err := w.subscriber.List(ctx, off, 2)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 3 || page.Offset != off {
			t.Errorf("page at %d = %+v", off, page)
		}
		for _, s := range page.Submissions {
			seen = append(seen, s.SubmissionID)
		}
	}
	if len(seen) != 3 || seen[0] != sent[0].SubmissionID || seen[2] != sent[2].SubmissionID {
		t.Errorf("paged ids = %v", seen)
	}
	sub := w.api(t, w.subID, w.subSec, "")
	s, p, _ := sub.call("GET", "/v2/destinations/"+w.dest.ID+"/submissions?limit=501", "", nil)
	wantProblem(t, s, p, 400, "limit must be a number from 1 to 500")
	s, p, _ = sub.call("GET", "/v1/submissions?destinationId="+w.dest.ID+"&offset=-1", "", nil)
	wantProblem(t, s, p, 400, "offset must be")

	go func() {
		time.Sleep(100 * time.Millisecond)
		got, err := w.subscriber.Receive(ctx, sent[1].SubmissionID)
		if err == nil {
			err = w.subscriber.Reject(ctx, got, fitconnect.Problem{Type: fitconnect.ProblemPrefix + "an-example", Title: "Nur ein Beispiel", Instance: "submission"})
		}
		if err != nil {
			t.Error(err)
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := w.sender.Wait(wctx, sent[1], 20*time.Millisecond)
	if err != nil || st.State != fitconnect.StateRejected || st.Problems[0].Title != "Nur ein Beispiel" {
		t.Errorf("Wait = %+v, %v", st, err)
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	_, err = w.sender.Wait(short, sent[0], 10*time.Millisecond)
	wantCode(t, err, rathaus.EUNAVAILABLE, "still submitted")
}

func TestDestinationManagementAPI(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sub := w.api(t, w.subID, w.subSec, "")
	path := "/v2/destinations/" + w.dest.ID
	next := w.f.ca.MustIssue(fitconnecttest.RSAKey(4096, 3), fitconnect.UseEncryption, "enc-key-0003")
	nextJSON, _ := json.Marshal(next.Public)
	weakJSON, _ := json.Marshal(w.f.weak.Public)
	privJSON, _ := json.Marshal(fitconnect.Key{JSONWebKey: *next.Private, KeyOps: []string{"wrapKey"}})

	s, p, _ := w.api(t, w.senderID, w.senderSec, "").call("POST", path+"/keys", "application/json", nextJSON)
	wantProblem(t, s, p, 403, "lacks scope manage-destinations")
	s, p, _ = sub.call("POST", path+"/keys", "application/json", weakJSON)
	wantProblem(t, s, p, 400, "2048 bits, at least 4096")
	s, p, _ = sub.call("POST", path+"/keys", "application/json", privJSON)
	wantProblem(t, s, p, 400, "private member")
	if s, p, _ = sub.call("POST", path+"/keys", "application/json", nextJSON); s != 201 {
		t.Fatalf("add key: %d %+v", s, p)
	}
	s, p, _ = sub.call("POST", path+"/keys", "application/json", nextJSON)
	wantProblem(t, s, p, 409, "already has a key")
	s, p, _ = sub.call("PATCH", path, "application/json", []byte(`{"encryptionKid":"`+w.f.sig.Public.KeyID+`"}`))
	wantProblem(t, s, p, 400, "not a published encryption key")
	if s, p, _ = sub.call("PATCH", path, "application/json", []byte(`{"encryptionKid":"enc-key-0003"}`)); s != 200 {
		t.Fatalf("switch key: %d %+v", s, p)
	}
	d, err := w.sender.Destination(ctx, w.dest.ID)
	if err != nil || d.EncryptionKid != "enc-key-0003" {
		t.Errorf("destination after switch = %+v, %v", d, err)
	}
	s, _, b := sub.call("GET", "/v2/destinations", "", nil)
	if s != 200 || !strings.Contains(string(b), `"encryptionKid":"enc-key-0003"`) {
		t.Errorf("list destinations: %d %s", s, b)
	}
	if s, p, _ = sub.call("PATCH", path, "application/json", []byte(`{"status":"inactive"}`)); s != 200 {
		t.Fatalf("deactivate: %d %+v", s, p)
	}
	_, err = w.sender.Send(ctx, w.request(`{"name":"A","einkommen":1}`))
	wantCode(t, err, rathaus.EINVALID, "is inactive")
	s, p, _ = w.api(t, w.senderID, w.senderSec, "").call("POST", "/v2/submissions", "application/json",
		[]byte(`{"destinationId":"`+w.dest.ID+`","publicService":{"identifier":"`+leika+`"}}`))
	wantProblem(t, s, p, 422, "is not active")
}

func TestConcurrentDecisionsOneWins(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sent, err := w.sender.Send(ctx, w.request(`{"name":"Erika","einkommen":1}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.subscriber.Receive(ctx, sent.SubmissionID)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			if i%2 == 0 {
				errs <- w.subscriber.Accept(ctx, got)
			} else {
				errs <- w.subscriber.Reject(ctx, got, fitconnect.Problem{Type: fitconnect.ProblemPrefix + "an-example", Instance: "submission"})
			}
		}()
	}
	ok, conflicts := 0, 0
	for range 4 {
		switch err := <-errs; rathaus.ErrorCode(err) {
		case "":
			ok++
		case rathaus.ECONFLICT:
			conflicts++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	if ok != 1 || conflicts != 3 {
		t.Errorf("%d decisions went through, %d conflicts; want 1 and 3", ok, conflicts)
	}
	st, err := w.sender.Status(ctx, sent)
	if err != nil || len(st.Events) != 3 {
		t.Errorf("event log after the race: %+v, %v", st, err)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	w := newWorldAt(t, "/fitconnect")
	ctx := context.Background()
	sent, err := w.sender.Send(ctx, w.request(`{"name":"Erika","einkommen":1}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.subscriber.Receive(ctx, sent.SubmissionID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.subscriber.Accept(ctx, got); err != nil {
		t.Fatal(err)
	}
	if st, err := w.sender.Status(ctx, sent); err != nil || st.State != fitconnect.StateAccepted {
		t.Errorf("status = %+v, %v", st, err)
	}
	if !strings.HasSuffix(w.svc.TokenURL(), "/fitconnect/token") {
		t.Errorf("token URL %s", w.svc.TokenURL())
	}
}

func TestUploadLimit(t *testing.T) {
	f := keys(t)
	ctx := context.Background()
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { handler.ServeHTTP(rw, r) }))
	defer srv.Close()
	svc, err := fitconnect.NewDeliveryService(fitconnect.NewMemStore(), fitconnect.ServiceConfig{BaseURL: srv.URL,
		SigningKey: f.service, TrustRoots: f.ca.Pool, MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	handler = svc
	d, err := svc.CreateDestination(ctx, fitconnect.DestinationSpec{Tenant: tenantA, Services: []fitconnect.PublicService{{Identifier: leika}},
		EncryptionKey: f.enc.Public, SigningKey: f.sig.Public})
	if err != nil {
		t.Fatal(err)
	}
	id, secret, _ := svc.CreateClient(ctx, tenantA, fitconnect.RoleSender)
	w := &world{srv: srv}
	a := w.api(t, id, secret, "")
	aid := uuid.NewString()
	s, p, b := a.call("POST", "/v2/submissions", "application/json", []byte(`{"destinationId":"`+d.ID+`","announcedAttachments":["`+aid+`"],"publicService":{"identifier":"`+leika+`"}}`))
	if s != 201 {
		t.Fatalf("announce: %d %+v", s, p)
	}
	var sub fitconnect.SubmissionID
	json.Unmarshal(b, &sub)
	big, _ := fitconnect.EncryptJWE(bytes.Repeat([]byte("x"), 8192), &f.enc.Public.JSONWebKey, "text/plain")
	s, p, _ = a.call("PUT", "/v2/submissions/"+sub.SubmissionID+"/attachments/"+aid, fitconnect.ContentTypeJOSE, []byte(big))
	wantProblem(t, s, p, 413, "larger than 4096 bytes")
	small, _ := fitconnect.EncryptJWE([]byte("x"), &f.enc.Public.JSONWebKey, "text/plain")
	if s, p, _ = a.call("PUT", "/v2/submissions/"+sub.SubmissionID+"/attachments/"+aid, fitconnect.ContentTypeJOSE, []byte(small)); s != 204 {
		t.Errorf("small attachment: %d %+v", s, p)
	}
}

func TestPrepareCompleteResumes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p, err := w.sender.Prepare(ctx, w.request(`{"name":"Erika","einkommen":1}`))
	if err != nil {
		t.Fatal(err)
	}
	// The sender persists the prepared submission and "crashes" after one upload.
	saved, _ := json.Marshal(p)
	a := w.api(t, w.senderID, w.senderSec, "")
	if s, pr, _ := a.call("PUT", "/v2/submissions/"+p.SubmissionID+"/attachments/"+p.AttachmentIDs[0], fitconnect.ContentTypeJOSE, []byte(p.EncryptedAttachments[0])); s != 204 {
		t.Fatalf("upload: %d %+v", s, pr)
	}
	var resumed fitconnect.Prepared
	if err := json.Unmarshal(saved, &resumed); err != nil {
		t.Fatal(err)
	}
	sent, err := w.sender.Complete(ctx, &resumed)
	if err != nil {
		t.Fatal(err)
	}
	// Completing again (a crash after submit, before recording it) is a no-op.
	again, err := w.sender.Complete(ctx, &resumed)
	if err != nil || again.SubmissionID != sent.SubmissionID {
		t.Fatalf("second Complete = %+v, %v", again, err)
	}
	list, err := w.subscriber.List(ctx, 0, 10)
	if err != nil || list.TotalCount != 1 {
		t.Fatalf("list = %+v, %v; want exactly one submission", list, err)
	}
	got, err := w.subscriber.Receive(ctx, sent.SubmissionID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.subscriber.Accept(ctx, got); err != nil {
		t.Fatal(err)
	}
	// Other parts under the same submission id are not taken for ours.
	forged := resumed
	forged.EncryptedData, _ = fitconnect.EncryptJWE([]byte(`{"name":"Mallory","einkommen":1}`), &w.f.enc.Public.JSONWebKey, "application/json")
	forged.Tags.Data, _ = fitconnect.AuthTag(forged.EncryptedData)
	_, err = w.sender.Complete(ctx, &forged)
	wantCode(t, err, rathaus.EINVALID, "authentication tag of data does not match")
}
