// SPDX-License-Identifier: EUPL-1.2

// Package fitconnect_bench measures the cost of each FIT-Connect crypto step
// and the end-to-end delivery rate over loopback. Run bench/fitconnect/run.sh;
// results go to bench/RESULTS.md, section "FIT-Connect".
package fitconnect_bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"rathaus/fitconnect"
	"rathaus/fitconnect/fitconnecttest"
)

var (
	once                sync.Once
	ca                  *fitconnecttest.CA
	enc, sig            *fitconnecttest.KeyPair
	svcKey              *jose.JSONWebKey
	svcJWKS             *jose.JSONWebKeySet
	smallJWE, oneMiBJWE string
	oneMiB              []byte
)

func setup(b *testing.B) {
	b.Helper()
	once.Do(func() {
		var err error
		if ca, err = fitconnecttest.NewCA("bench"); err != nil {
			panic(err)
		}
		enc = ca.MustIssue(fitconnecttest.RSAKey(4096, 1), fitconnect.UseEncryption, "bench-enc-01")
		sig = ca.MustIssue(fitconnecttest.RSAKey(4096, 2), fitconnect.UseSignature, "bench-sig-01")
		svcKey = fitconnecttest.ServiceKey(fitconnecttest.RSAKey(4096, 0), "bench-service")
		svcJWKS = &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{svcKey.Public()}}
		oneMiB = make([]byte, 1<<20)
		rand.Read(oneMiB)
		smallJWE, _ = fitconnect.EncryptJWE([]byte(`{"a":1}`), &enc.Public.JSONWebKey, "application/json")
		oneMiBJWE, _ = fitconnect.EncryptJWE(oneMiB, &enc.Public.JSONWebKey, "application/octet-stream")
	})
	b.ResetTimer()
}

// BenchmarkRSA4096Wrap encrypts a tiny part: the cost is the RSA-OAEP-256
// wrap of the content key with the 4096-bit public key.
func BenchmarkRSA4096Wrap(b *testing.B) {
	setup(b)
	for b.Loop() {
		if _, err := fitconnect.EncryptJWE([]byte(`{"a":1}`), &enc.Public.JSONWebKey, "application/json"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSA4096Unwrap decrypts a tiny part: the cost is the RSA private
// key operation of the subscriber.
func BenchmarkRSA4096Unwrap(b *testing.B) {
	setup(b)
	for b.Loop() {
		if _, _, err := fitconnect.DecryptJWE(smallJWE, enc.Private); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkA256GCMPerMB encrypts 1 MiB (one wrap plus AES-256-GCM and
// base64url); MB/s is the figure to read.
func BenchmarkA256GCMPerMB(b *testing.B) {
	setup(b)
	b.SetBytes(1 << 20)
	for b.Loop() {
		if _, err := fitconnect.EncryptJWE(oneMiB, &enc.Public.JSONWebKey, "application/octet-stream"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkA256GCMDecryptPerMB decrypts 1 MiB (one unwrap plus GCM).
func BenchmarkA256GCMDecryptPerMB(b *testing.B) {
	setup(b)
	b.SetBytes(1 << 20)
	for b.Loop() {
		if _, _, err := fitconnect.DecryptJWE(oneMiBJWE, enc.Private); err != nil {
			b.Fatal(err)
		}
	}
}

func claims() fitconnect.SET {
	return fitconnect.SET{Schema: fitconnect.SETPayloadSchema, ID: uuid.NewString(), Issuer: "https://zustelldienst.example",
		IssuedAt: time.Now(), Subject: "submission:" + uuid.NewString(), Txn: "case:" + uuid.NewString(),
		Event: fitconnect.EventAcceptSubmission, Payload: fitconnect.EventPayload{AuthenticationTags: &fitconnect.AuthenticationTags{
			Metadata: "XFBoMYUZodetZdvTiFvSkQ", Data: "UCGiqJxhBI3IFVdPalHHvA"}}}
}

// BenchmarkPS512Sign signs one SET with a 4096-bit key.
func BenchmarkPS512Sign(b *testing.B) {
	setup(b)
	c := claims()
	for b.Loop() {
		if _, err := fitconnect.SignSET(c, svcKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPS512Verify verifies one SET (parse, signature, claims).
func BenchmarkPS512Verify(b *testing.B) {
	setup(b)
	tok, err := fitconnect.SignSET(claims(), svcKey)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := fitconnect.VerifySET(tok, svcJWKS, fitconnect.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliveryLoopback measures whole deliveries over loopback HTTP:
// sender Send (metadata, data, one 100 KiB attachment: three JWEs,
// announce, upload, submit, two service SETs), subscriber Receive (three
// decryptions, hashes, JSON Schema, event log verification) and Accept
// (PS512 SET, verified by the service), then the sender's Status (event
// log verified). Sequential, one delivery at a time.
func BenchmarkDeliveryLoopback(b *testing.B) {
	deliver := loopback(b)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		deliver(b)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// BenchmarkDeliveryLoopbackParallel runs the same deliveries from
// GOMAXPROCS goroutines at once.
func BenchmarkDeliveryLoopbackParallel(b *testing.B) {
	deliver := loopback(b)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			deliver(b)
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// loopback starts a delivery service on loopback with one destination and
// returns a function that makes one complete delivery (safe to call from
// RunParallel: it reports failures with Error, not Fatal).
func loopback(b *testing.B) func(b *testing.B) {
	setup(b)
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	b.Cleanup(srv.Close)
	svc, err := fitconnect.NewDeliveryService(fitconnect.NewMemStore(), fitconnect.ServiceConfig{
		BaseURL: srv.URL, SigningKey: svcKey, TrustRoots: ca.Pool, Logf: b.Logf})
	if err != nil {
		b.Fatal(err)
	}
	handler = svc
	ctx := context.Background()
	const leika = "urn:de:fim:leika:leistung:99108008003000"
	const schemaURI = "https://schema.rathaus.example/bench.json"
	dest, err := svc.CreateDestination(ctx, fitconnect.DestinationSpec{Tenant: "064110000000", EncryptionKey: enc.Public,
		SigningKey: sig.Public, Services: []fitconnect.PublicService{{Identifier: leika}}})
	if err != nil {
		b.Fatal(err)
	}
	sid, ssec, _ := svc.CreateClient(ctx, "064110000000", fitconnect.RoleSender)
	rid, rsec, _ := svc.CreateClient(ctx, "064110000000", fitconnect.RoleSubscriber, dest.ID)
	sender := fitconnect.NewSender(fitconnect.Endpoint{SubmissionAPI: srv.URL, TokenURL: svc.TokenURL(), ClientID: sid, ClientSecret: ssec}, ca.Pool, nil)
	sub := fitconnect.NewSubscriber(fitconnect.Endpoint{SubmissionAPI: srv.URL, TokenURL: svc.TokenURL(), ClientID: rid, ClientSecret: rsec},
		dest.ID, []*jose.JSONWebKey{enc.Private}, sig.Private, nil)
	sub.TrustRoots = ca.Pool
	sch, err := fitconnect.CompileJSONSchema(schemaURI, []byte(`{"type":"object","required":["name"]}`))
	if err != nil {
		b.Fatal(err)
	}
	sub.DataSchemas[schemaURI] = sch
	req := fitconnect.SendRequest{DestinationID: dest.ID, Service: fitconnect.PublicService{Identifier: leika},
		Data: []byte(`{"name":"Erika Mustermann"}`), DataSchema: fitconnect.SubmissionSchema{SchemaURI: schemaURI, MimeType: "application/json"},
		Attachments: []fitconnect.Attachment{{Content: bytes.Repeat([]byte("PDF "), 25600), MimeType: "application/pdf", Purpose: fitconnect.PurposeForm}}}
	return func(b *testing.B) {
		sent, err := sender.Send(ctx, req)
		if err != nil {
			b.Error(err)
			return
		}
		got, err := sub.Receive(ctx, sent.SubmissionID)
		if err != nil {
			b.Error(err)
			return
		}
		if err := sub.Accept(ctx, got); err != nil {
			b.Error(err)
			return
		}
		if st, err := sender.Status(ctx, sent); err != nil || st.State != fitconnect.StateAccepted {
			b.Errorf("status %v %v", st, err)
		}
	}
}
