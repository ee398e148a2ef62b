// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus/fitconnect"
	"rathaus/fitconnect/fitconnecttest"
)

func TestFitconnectCommands(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	env := map[string]string{"RATHAUS_DATA": dir, "RATHAUS_FITCONNECT_URL": base}

	code, out, errs := runMain(t, env, "fitconnect", "destination", "create", "--demo", "--tenant", "064110000000",
		"--service", "99108008003000", "--schema", "https://schema.rathaus.example/wohngeld.json", "--json")
	if code != 0 {
		t.Fatalf("destination create --demo = %d, %q", code, errs)
	}
	var demo map[string]string
	if err := json.Unmarshal([]byte(out), &demo); err != nil {
		t.Fatalf("output is not JSON: %q", out)
	}
	for _, k := range []string{"destinationId", "clientId", "clientSecret", "tokenUrl", "submissionApiUrl", "encryptionKeyFile", "signingKeyFile", "trustRootFile"} {
		if demo[k] == "" {
			t.Errorf("output lacks %s: %v", k, demo)
		}
	}
	if demo["tokenUrl"] != base+"/token" || demo["submissionApiUrl"] != base {
		t.Errorf("urls = %s, %s", demo["tokenUrl"], demo["submissionApiUrl"])
	}
	demoDir := filepath.Dir(demo["encryptionKeyFile"])
	pub := func(name string) string { return filepath.Join(demoDir, name) }

	t.Run("CreateWithKeyFiles", func(t *testing.T) {
		code, out, errs := runMain(t, env, "fitconnect", "destination", "create", "--tenant", "064110000000", "--service", "99108008003000",
			"--encryption-key", pub("enc.pub.jwk"), "--signing-key", pub("sig.pub.jwk"), "--trust-root", demo["trustRootFile"],
			"--callback", "https://fachverfahren.example/callback")
		if code != 0 || !strings.Contains(out, "destination created") || !strings.Contains(out, "callbackSecret") {
			t.Errorf("create = %d, %q, %q", code, out, errs)
		}
	})
	weak := fitconnecttest.NewCAOrPanic("weak").MustIssue(fitconnecttest.RSAKey(2048, 0), fitconnect.UseEncryption, "weak-key-0001")
	weakFile := filepath.Join(dir, "weak.jwk")
	b, _ := json.Marshal(weak.Public)
	os.WriteFile(weakFile, b, 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"NoTenant", []string{"--service", "99108008003000", "--demo"}, 2, "--tenant and --service are required"},
		{"NoKeys", []string{"--tenant", "064110000000", "--service", "99108008003000"}, 2, "--encryption-key and --signing-key are required"},
		{"NoTrustRoot", []string{"--tenant", "064110000000", "--service", "99108008003000", "--encryption-key", pub("enc.pub.jwk"), "--signing-key", pub("sig.pub.jwk")}, 1, "--trust-root is required"},
		{"WeakKey", []string{"--tenant", "064110000000", "--service", "99108008003000", "--encryption-key", weakFile, "--signing-key", pub("sig.pub.jwk"), "--trust-root", demo["trustRootFile"]}, 1, "2048 bits, at least 4096"},
		{"PrivateKeyFile", []string{"--tenant", "064110000000", "--service", "99108008003000", "--encryption-key", demo["encryptionKeyFile"], "--signing-key", pub("sig.pub.jwk"), "--trust-root", demo["trustRootFile"]}, 1, "give the public key only"},
		{"BadTenant", []string{"--tenant", "0641", "--service", "99108008003000", "--encryption-key", pub("enc.pub.jwk"), "--signing-key", pub("sig.pub.jwk"), "--trust-root", demo["trustRootFile"]}, 1, "12-digit ARS"},
		{"HTTPCallback", []string{"--tenant", "064110000000", "--service", "99108008003000", "--encryption-key", pub("enc.pub.jwk"), "--signing-key", pub("sig.pub.jwk"), "--trust-root", demo["trustRootFile"], "--callback", "http://x.example/cb"}, 1, "https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runMain(t, env, append([]string{"fitconnect", "destination", "create"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 && tc.code == 1 {
				t.Errorf("exit %d, stderr %q; want %d with %q on one line", code, errs, tc.code, tc.want)
			}
		})
	}

	t.Run("ServeAndDeliver", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		var serr bytes.Buffer
		go func() {
			e := &Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &serr, Getenv: func(k string) string { return env[k] }}
			done <- Main(ctx, e, []string{"fitconnect", "serve", "--addr", addr})
		}()
		defer func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exit %d: %s", code, serr.String())
			}
		}()
		for i := 0; ; i++ {
			if res, err := http.Get(base + "/.well-known/jwks.json"); err == nil {
				res.Body.Close()
				break
			}
			if i > 100 {
				t.Fatalf("serve did not come up: %s", serr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Credentials made while serve runs are seen by it (shared interim store).
		code, out, errs := runMain(t, env, "fitconnect", "sender", "create", "--tenant", "064110000000", "--json")
		var sender map[string]string
		if code != 0 || json.Unmarshal([]byte(out), &sender) != nil || sender["clientId"] == "" {
			t.Fatalf("sender create = %d, %q, %q", code, out, errs)
		}
		roots, err := fcLoadRoots([]string{demo["trustRootFile"]})
		if err != nil {
			t.Fatal(err)
		}
		s := fitconnect.NewSender(fitconnect.Endpoint{SubmissionAPI: sender["submissionApiUrl"], TokenURL: sender["tokenUrl"],
			ClientID: sender["clientId"], ClientSecret: sender["clientSecret"]}, roots, nil)
		ctx2 := context.Background()
		sent, err := s.Send(ctx2, fitconnect.SendRequest{DestinationID: demo["destinationId"],
			Service: fitconnect.PublicService{Identifier: "urn:de:fim:leika:leistung:99108008003000"}, Data: []byte(`{"name":"Erika"}`),
			DataSchema: fitconnect.SubmissionSchema{SchemaURI: "https://schema.rathaus.example/wohngeld.json", MimeType: "application/json"}})
		if err != nil {
			t.Fatal(err)
		}
		readKey := func(path string) *jose.JSONWebKey {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var k fitconnect.Key
			if err := k.UnmarshalJSON(b); err != nil {
				t.Fatal(err)
			}
			return &k.JSONWebKey
		}
		sub := fitconnect.NewSubscriber(fitconnect.Endpoint{SubmissionAPI: demo["submissionApiUrl"], TokenURL: demo["tokenUrl"],
			ClientID: demo["clientId"], ClientSecret: demo["clientSecret"]}, demo["destinationId"],
			[]*jose.JSONWebKey{readKey(demo["encryptionKeyFile"])}, readKey(demo["signingKeyFile"]), nil)
		sub.TrustRoots = roots
		sch, _ := fitconnect.CompileJSONSchema("https://schema.rathaus.example/wohngeld.json", []byte(`{"type":"object","required":["name"]}`))
		sub.DataSchemas["https://schema.rathaus.example/wohngeld.json"] = sch
		got, err := sub.Receive(ctx2, sent.SubmissionID)
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.Accept(ctx2, got); err != nil {
			t.Fatal(err)
		}
		st, err := s.Status(ctx2, sent)
		if err != nil || st.State != fitconnect.StateAccepted {
			t.Errorf("status = %+v, %v", st, err)
		}
	})
}
