// SPDX-License-Identifier: EUPL-1.2

package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
	"rathaus/delivery"
	"rathaus/fitconnect"
	"rathaus/fitconnect/fitconnecttest"
	"rathaus/submission"
)

const fcSchemaURI = "https://schema.rathaus.example/universal/1.json"

// fcKeys are the test CA and the keys of the specialist application and
// the delivery service (RSA-4096, made once per process).
type fcKeys struct {
	ca       *fitconnecttest.CA
	enc, sig *fitconnecttest.KeyPair
	service  *jose.JSONWebKey
}

var (
	fcOnce sync.Once
	fcFix  fcKeys
)

func fcFixture(tb testing.TB) *fcKeys {
	tb.Helper()
	fcOnce.Do(func() {
		fcFix.ca = fitconnecttest.NewCAOrPanic("rathaus delivery test")
		fcFix.enc = fcFix.ca.MustIssue(fitconnecttest.RSAKey(4096, 1), fitconnect.UseEncryption, "fachverfahren-enc-1")
		fcFix.sig = fcFix.ca.MustIssue(fitconnecttest.RSAKey(4096, 2), fitconnect.UseSignature, "fachverfahren-sig-1")
		fcFix.service = fitconnecttest.ServiceKey(fitconnecttest.RSAKey(4096, 0), "zustelldienst-test")
	})
	return &fcFix
}

// zustelldienst is a FIT-Connect delivery service on loopback with one
// destination of Darmstadt for the test service, sender credentials for
// rathaus and a subscriber acting as the specialist application (own key
// pair, own http.Client).
type zustelldienst struct {
	srv        *httptest.Server
	svc        *fitconnect.DeliveryService
	dest       *fitconnect.Destination
	senderID   string
	senderSec  string
	subscriber *fitconnect.Subscriber
}

func newZustelldienst(t *testing.T, store fitconnect.DeliveryStore) *zustelldienst {
	t.Helper()
	k := fcFixture(t)
	z := &zustelldienst{}
	var h http.Handler
	z.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(z.srv.Close)
	svc, err := fitconnect.NewDeliveryService(store, fitconnect.ServiceConfig{BaseURL: z.srv.URL, SigningKey: k.service, TrustRoots: k.ca.Pool, Logf: t.Logf,
		AllowHTTPCallbacks: true})
	if err != nil {
		t.Fatal(err)
	}
	h, z.svc = svc, svc
	t.Cleanup(svc.Close)
	ctx := context.Background()
	z.dest, err = svc.CreateDestination(ctx, fitconnect.DestinationSpec{Tenant: darmstadt, EncryptionKey: k.enc.Public, SigningKey: k.sig.Public,
		Services: []fitconnect.PublicService{{Identifier: "urn:de:fim:leika:leistung:" + service, Name: "Hundesteuer",
			SubmissionSchemas: []fitconnect.SubmissionSchema{{SchemaURI: fcSchemaURI, MimeType: "application/json"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if z.senderID, z.senderSec, err = svc.CreateClient(ctx, darmstadt, fitconnect.RoleSender); err != nil {
		t.Fatal(err)
	}
	subID, subSec, err := svc.CreateClient(ctx, darmstadt, fitconnect.RoleSubscriber, z.dest.ID)
	if err != nil {
		t.Fatal(err)
	}
	z.subscriber = fitconnect.NewSubscriber(fitconnect.Endpoint{SubmissionAPI: z.srv.URL, TokenURL: svc.TokenURL(), ClientID: subID, ClientSecret: subSec,
		HTTPClient: &http.Client{Timeout: 20 * time.Second}, UserAgent: "fachverfahren-test"}, z.dest.ID, []*jose.JSONWebKey{k.enc.Private}, k.sig.Private, nil)
	z.subscriber.TrustRoots = k.ca.Pool
	schema, err := submission.UniversalForm("de").JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if z.subscriber.DataSchemas[fcSchemaURI], err = fitconnect.CompileJSONSchema(fcSchemaURI, schema); err != nil {
		t.Fatal(err)
	}
	return z
}

func (z *zustelldienst) config() delivery.FITConnectConfig {
	return delivery.FITConnectConfig{SubmissionAPI: z.srv.URL, TokenURL: z.svc.TokenURL(), ClientID: z.senderID, ClientSecret: z.senderSec,
		DestinationID: z.dest.ID, ServiceName: "Hundesteuer", DataSchemaURI: fcSchemaURI, ServiceIssuer: z.srv.URL}
}

// fcEnv is a delivery environment whose applications carry the PDF receipt.
func fcEnv(t *testing.T, opts delivery.Options) *env {
	t.Helper()
	opts.FITConnectRoots = fcFixture(t).ca.Pool
	e := newEnv(t, "sqlite", opts)
	return e
}

// receive lists the waiting submissions and receives the one of caseRef.
func (z *zustelldienst) receiveAll(t *testing.T) []*fitconnect.Received {
	t.Helper()
	ctx := context.Background()
	list, err := z.subscriber.List(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []*fitconnect.Received
	for _, s := range list.Submissions {
		r, err := z.subscriber.Receive(ctx, s.SubmissionID)
		if err != nil {
			t.Fatalf("Receive %s: %v", s.SubmissionID, err)
		}
		out = append(out, r)
	}
	return out
}

// TestFITConnectRoundTrip sends to an external delivery service (its own
// in-memory store) and to the one rathaus hosts (sqlstore.FITConnectStore
// in rathaus's database).
func TestFITConnectRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, dialect string
		hosted        bool
	}{{"External", "sqlite", false}, {"Hosted", "sqlite", true}, {"HostedPostgres", "postgres", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.dialect, delivery.Options{FITConnectRoots: fcFixture(t).ca.Pool})
			e.receipt = true
			var store fitconnect.DeliveryStore = fitconnect.NewMemStore()
			if tc.hosted {
				store = e.db.FITConnectStore()
			}
			fcRoundTrip(t, e, newZustelldienst(t, store))
		})
	}
}

func fcRoundTrip(t *testing.T, e *env, z *zustelldienst) {
	r := e.route(t, darmstadt, service, delivery.ChannelFITConnect, z.config())
	e.start(t)
	ctx := context.Background()

	app := e.submit(t, darmstadt)
	d := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
	if d.RemoteID == "" {
		t.Fatalf("delivery = %+v, want the submission id", d)
	}
	got := z.receiveAll(t)
	if len(got) != 1 || got[0].SubmissionID != d.RemoteID {
		t.Fatalf("received %d submissions", len(got))
	}
	rc := got[0]
	// The specialist application decrypted, checked hashes, the announced
	// attachments and the data's JSON Schema in Receive; check content.
	var answers map[string]any
	if err := json.Unmarshal(rc.Data, &answers); err != nil {
		t.Fatal(err)
	}
	if k, _ := answers["kontakt"].(map[string]any); k["nachname"] != "Müller-Lüdenscheidt" {
		t.Errorf("data = %s", rc.Data)
	}
	if len(rc.Attachments) != 2 || rc.Attachments[0].Purpose != fitconnect.PurposeForm || !bytes.HasPrefix(rc.Attachments[0].Content, []byte("%PDF")) ||
		rc.Attachments[1].Purpose != fitconnect.PurposeAttachment || !bytes.Equal(rc.Attachments[1].Content, pdf) {
		t.Fatalf("attachments = %+v", rc.Attachments)
	}
	if rc.Metadata.ReplyChannel == nil || rc.Metadata.ReplyChannel.EMail == nil || rc.Metadata.ReplyChannel.EMail.Address != "juergen@example.org" {
		t.Errorf("reply channel = %+v", rc.Metadata.ReplyChannel)
	}
	if rc.Metadata.PublicServiceType.Identifier != "urn:de:fim:leika:leistung:"+service {
		t.Errorf("service = %+v", rc.Metadata.PublicServiceType)
	}
	if err := z.subscriber.Accept(ctx, rc); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusAccepted)

	t.Run("RejectShowsReasonAndResendWithoutCitizen", func(t *testing.T) {
		app := e.submit(t, darmstadt)
		d := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
		got := z.receiveAll(t)
		if len(got) != 1 {
			t.Fatalf("received %d", len(got))
		}
		if err := z.subscriber.Reject(ctx, got[0], fitconnect.Problem{Type: fitconnect.ProblemPrefix + "invalid-data",
			Title: "Angaben unvollständig", Detail: "Hundemarke fehlt", Instance: "data"}); err != nil {
			t.Fatal(err)
		}
		rej := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusRejected)
		if !strings.Contains(rej.LastError, "Hundemarke fehlt") {
			t.Errorf("reason not shown: %q", rej.LastError)
		}
		failed, _ := e.svc.Failed(ctx, darmstadt, 0)
		if len(failed) != 1 || failed[0].ApplicationID != app.ID {
			t.Fatalf("operator view = %+v", failed)
		}
		if err := e.svc.Redrive(ctx, darmstadt, app.ID, r.ID, "operator-1"); err != nil {
			t.Fatal(err)
		}
		again := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
		if again.RemoteID == d.RemoteID {
			t.Errorf("resend reused the rejected submission %s", d.RemoteID)
		}
		got = z.receiveAll(t)
		if len(got) != 1 || got[0].SubmissionID != again.RemoteID {
			t.Fatalf("received %d after resend", len(got))
		}
		if err := z.subscriber.Accept(ctx, got[0]); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusAccepted)
	})

	t.Run("BadCredentialsAreDeadLettered", func(t *testing.T) {
		cfg := z.config()
		cfg.ClientSecret = "wrong"
		bad := e.route(t, "064120000000", service, delivery.ChannelFITConnect, cfg)
		app := e.submit(t, "064120000000")
		d := e.waitStatus(t, "064120000000", app.ID, bad.ID, delivery.StatusDead)
		if d.Attempts != 1 || d.LastError == "" {
			t.Errorf("delivery = %+v", d)
		}
	})

	t.Run("UntrustedDestinationKey", func(t *testing.T) {
		other := fitconnecttest.NewCAOrPanic("other")
		e2 := newEnv(t, "sqlite", delivery.Options{FITConnectRoots: other.Pool})
		r2 := e2.route(t, darmstadt, service, delivery.ChannelFITConnect, z.config())
		e2.start(t)
		app := e2.submit(t, darmstadt)
		d := e2.waitStatus(t, darmstadt, app.ID, r2.ID, delivery.StatusDead)
		if !strings.Contains(d.LastError, "destination "+z.dest.ID) {
			t.Errorf("error = %q", d.LastError)
		}
	})
}

// TestFITConnectRouting finds the destination through a Routing API by
// LeiKa key and ARS; the route's destinationSignature is verified with the
// configured keys, a forged one dead-letters the delivery.
func TestFITConnectRouting(t *testing.T) {
	z := newZustelldienst(t, fitconnect.NewMemStore())
	ssp := fitconnecttest.ServiceKey(fitconnecttest.RSAKey(4096, 0), "ssp-key-1") // stands in for the Self-Service-Portal's key
	sign := func(dest string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS512, Key: ssp}, (&jose.SignerOptions{}).WithType("jwt"))
		if err != nil {
			t.Fatal(err)
		}
		claims, _ := json.Marshal(map[string]any{"submissionHost": "localhost", "iss": "https://portal.example", "destinationId": dest,
			"services": []map[string]any{{"gebietIDs": []string{"urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:" + darmstadt},
				"leistungIDs": []string{"urn:de:fim:leika:leistung:" + service}}}, "iat": time.Now().Unix(), "jti": "3f1e…"})
		obj, err := signer.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := obj.CompactSerialize()
		return s
	}
	var mu sync.Mutex
	sig := sign(z.dest.ID)
	var asked string
	routing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = r.URL.RawQuery
		json.NewEncoder(w).Encode(map[string]any{"count": 1, "offset": 0, "totalCount": 1, "routes": []map[string]any{
			{"destinationId": z.dest.ID, "destinationSignature": sig, "destinationName": "Ordnungsamt Darmstadt"}}})
	}))
	defer routing.Close()
	keys, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{ssp.Public()}})
	cfg := z.config()
	cfg.DestinationID, cfg.RoutingAPI, cfg.RoutingKeys = "", routing.URL+"/v1", keys
	e := fcEnv(t, delivery.Options{})
	r := e.route(t, darmstadt, service, delivery.ChannelFITConnect, cfg)
	e.start(t)
	app := e.submit(t, darmstadt)
	d := e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
	if got := z.receiveAll(t); len(got) != 1 || got[0].SubmissionID != d.RemoteID || got[0].DestinationID != z.dest.ID {
		t.Fatalf("received %+v", got)
	}
	mu.Lock()
	if asked != "ars="+darmstadt+"&leikaKey="+service {
		t.Errorf("routing query %q", asked)
	}
	sig = sign("00000000-0000-4000-8000-000000000000") // signed for another destination
	mu.Unlock()
	app = e.submit(t, darmstadt)
	d = e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDead)
	if !strings.Contains(d.LastError, "signed for destination") {
		t.Errorf("forged route: %q", d.LastError)
	}
}

// TestFITConnectSenderCallback: with a callback URL on the route, the
// delivery service calls rathaus back when the specialist application
// decides, and rathaus records the decision at once (no sweep runs here).
// A replayed or forged callback is refused.
func TestFITConnectSenderCallback(t *testing.T) {
	sweepEvery = time.Hour
	defer func() { sweepEvery = 200 * time.Millisecond }()
	z := newZustelldienst(t, fitconnect.NewMemStore())
	e := fcEnv(t, delivery.Options{})
	type seen struct {
		h    http.Header
		body []byte
	}
	got := make(chan seen, 8)
	cbsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := e.svc.FITConnectCallback(r.Context(), strings.TrimPrefix(r.URL.Path, "/zustellung/fitconnect/"), r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- seen{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer cbsrv.Close()
	cfg := z.config()
	routeID := "0193f2c4-7d1e-7000-8000-00000000c0de"
	cfg.CallbackURL, cfg.CallbackSecret = cbsrv.URL+"/zustellung/fitconnect/"+routeID, "sender-callback-secret-0123456789abcdef"
	raw, _ := json.Marshal(cfg)
	if err := e.svc.PutRoute(context.Background(), &delivery.Route{Tenant: darmstadt, ID: routeID, ServiceKey: service, Channel: delivery.ChannelFITConnect, Config: raw, Enabled: true}, "test"); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	app := e.submit(t, darmstadt)
	e.waitStatus(t, darmstadt, app.ID, routeID, delivery.StatusDelivered)
	rcv := z.receiveAll(t)
	if len(rcv) != 1 {
		t.Fatalf("received %d", len(rcv))
	}
	if err := z.subscriber.Accept(context.Background(), rcv[0]); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, darmstadt, app.ID, routeID, delivery.StatusAccepted)
	var cb seen
	select {
	case cb = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no verified callback")
	}
	t.Run("Replay", func(t *testing.T) {
		err := e.svc.FITConnectCallback(context.Background(), routeID, cb.h, cb.body)
		if rathaus.ErrorCode(err) != rathaus.EUNAUTHORIZED {
			t.Errorf("replayed callback: %v, want unauthorized", err)
		}
	})
	t.Run("Forged", func(t *testing.T) {
		h := cb.h.Clone()
		h.Set(fitconnect.HeaderCallbackTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
		if err := e.svc.FITConnectCallback(context.Background(), routeID, h, cb.body); rathaus.ErrorCode(err) != rathaus.EUNAUTHORIZED {
			t.Errorf("forged callback: %v, want unauthorized", err)
		}
		if err := e.svc.FITConnectCallback(context.Background(), "unknown-route", cb.h, cb.body); rathaus.ErrorCode(err) != rathaus.EUNAUTHORIZED {
			t.Errorf("unknown route: %v, want unauthorized", err)
		}
	})
}
