// SPDX-License-Identifier: EUPL-1.2

// Package delivery_bench measures delivery end to end over loopback:
// applications submitted through the intake (delivery.send in the same
// transaction), fanned out, sent by the River worker and taken by a
// receiver, until every delivery is recorded as delivered.
//
//	go test -bench . -benchtime 200x ./bench/delivery/
package delivery_bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"rathaus/delivery"
	"rathaus/fitconnect"
	"rathaus/fitconnect/fitconnecttest"
	"rathaus/form"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/vault"
)

const (
	darmstadt = "064110000000"
	service   = "99050012104000"
	secret    = "whsec-0123456789abcdef"
)

type bench struct {
	db     *sqlstore.DB
	intake *submission.Service
	svc    *delivery.Service
	q      *jobs.Queue
}

func newBench(b *testing.B, workers int) *bench {
	ctx := context.Background()
	db := sqltest.Open(b, sqlstore.SQLite)
	q, err := jobs.New(ctx, db, jobs.Options{PollInterval: 10 * time.Millisecond, MaxWorkers: workers})
	if err != nil {
		b.Fatal(err)
	}
	master, _, _ := vault.GenerateMasterKey()
	v := vault.New(db.VaultKeys(), master)
	store := db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	})
	be := &bench{db: db, q: q, intake: submission.New(store, v, submission.Options{})}
	b.Cleanup(func() { be.intake.Close() })
	be.svc, err = delivery.New(db, delivery.Options{Sealer: v, Queue: q, Source: &delivery.SubmissionSource{Intake: be.intake, NoReceipt: true,
		Model: func(context.Context, *submission.Application) (*form.Model, error) {
			return submission.UniversalForm("de"), nil
		}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := be.svc.Register(q); err != nil {
		b.Fatal(err)
	}
	q.Register(submission.JobProcessStart, func(context.Context, json.RawMessage) error { return nil })
	return be
}

func answers() form.Answers {
	return form.Answers{
		"anliegen": map[string]any{"beschreibung": "Ich möchte meinen Hund anmelden."},
		"kontakt": map[string]any{"anrede": "frau", "vorname": "Erika", "nachname": "Mustermann", "email": "erika@example.org",
			"anschrift": map[string]any{"strasse": "Luisenplatz", "hausnummer": "5", "plz": "64283", "ort": "Darmstadt"}},
		"einwilligung": map[string]any{"zustimmung": "ja"},
	}
}

// BenchmarkWebhookEndToEnd submits b.N applications (the intake does not
// wait for delivery) and measures until all are delivered to a signed
// webhook receiver on loopback that verifies every signature.
func BenchmarkWebhookEndToEnd(b *testing.B) {
	be := newBench(b, 8)
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		if err := delivery.Verify(r.Header.Get(delivery.HeaderSignature), body, []string{secret}, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	cfg, _ := json.Marshal(delivery.WebhookConfig{URL: srv.URL, Secrets: []string{secret}})
	if err := be.svc.PutRoute(ctx, &delivery.Route{Tenant: darmstadt, ServiceKey: service, Channel: delivery.ChannelWebhook, Config: cfg, Enabled: true}, "bench"); err != nil {
		b.Fatal(err)
	}
	if err := be.q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer be.q.Stop(ctx)
	b.ResetTimer()
	start := time.Now()
	var intake time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := be.intake.Submit(ctx, submission.SubmitRequest{Tenant: darmstadt, ServiceKey: service, Model: submission.UniversalForm("de"),
			Answers: answers(), Applicant: submission.Applicant{LoA: 2}}); err != nil {
			b.Fatal(err)
		}
		intake += time.Since(t0)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var n int
		be.db.SQL().QueryRow(`SELECT count(*) FROM delivery WHERE status = 'delivered'`).Scan(&n)
		if n == b.N {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered after 5 min", n, b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "deliveries/s")
	b.ReportMetric(float64(intake.Microseconds())/float64(b.N)/1000, "intake-ms/op")
}

// BenchmarkFITConnectEndToEnd submits b.N applications and measures until
// all are submitted to the FIT-Connect delivery service rathaus hosts
// (sqlstore.FITConnectStore in the same database) on loopback: per
// application destination lookup (cached key), metadata, 2 JWEs
// (metadata, data), announce, submit; the service signs 2 SETs.
func BenchmarkFITConnectEndToEnd(b *testing.B) {
	be := newBench(b, 8)
	ctx := context.Background()
	ca := fitconnecttest.NewCAOrPanic("bench")
	enc := ca.MustIssue(fitconnecttest.RSAKey(4096, 1), fitconnect.UseEncryption, "bench-enc-1")
	sig := ca.MustIssue(fitconnecttest.RSAKey(4096, 2), fitconnect.UseSignature, "bench-sig-1")
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	fc, err := fitconnect.NewDeliveryService(be.db.FITConnectStore(), fitconnect.ServiceConfig{BaseURL: srv.URL,
		SigningKey: fitconnecttest.ServiceKey(fitconnecttest.RSAKey(4096, 0), "bench-service"), TrustRoots: ca.Pool})
	if err != nil {
		b.Fatal(err)
	}
	h = fc
	dest, err := fc.CreateDestination(ctx, fitconnect.DestinationSpec{Tenant: darmstadt, EncryptionKey: enc.Public, SigningKey: sig.Public,
		Services: []fitconnect.PublicService{{Identifier: "urn:de:fim:leika:leistung:" + service}}})
	if err != nil {
		b.Fatal(err)
	}
	id, sec, err := fc.CreateClient(ctx, darmstadt, fitconnect.RoleSender)
	if err != nil {
		b.Fatal(err)
	}
	cfg, _ := json.Marshal(delivery.FITConnectConfig{SubmissionAPI: srv.URL, TokenURL: fc.TokenURL(), ClientID: id, ClientSecret: sec,
		DestinationID: dest.ID, DataSchemaURI: "https://schema.rathaus.example/universal.json", TrustRootsPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root.Raw}))})
	if err := be.svc.PutRoute(ctx, &delivery.Route{Tenant: darmstadt, ServiceKey: service, Channel: delivery.ChannelFITConnect, Config: cfg, Enabled: true}, "bench"); err != nil {
		b.Fatal(err)
	}
	if err := be.q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer be.q.Stop(ctx)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := be.intake.Submit(ctx, submission.SubmitRequest{Tenant: darmstadt, ServiceKey: service, Model: submission.UniversalForm("de"),
			Answers: answers(), Applicant: submission.Applicant{LoA: 2}}); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var n, dead int
		be.db.SQL().QueryRow(`SELECT count(*) FROM delivery WHERE status = 'delivered'`).Scan(&n)
		be.db.SQL().QueryRow(`SELECT count(*) FROM delivery WHERE status = 'dead'`).Scan(&dead)
		if dead > 0 {
			var msg string
			be.db.SQL().QueryRow(`SELECT last_error FROM delivery WHERE status = 'dead'`).Scan(&msg)
			b.Fatalf("dead delivery: %s", msg)
		}
		if n == b.N {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered after 10 min", n, b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
