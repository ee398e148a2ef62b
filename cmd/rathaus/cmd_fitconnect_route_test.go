// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus/delivery"
	"rathaus/fitconnect"
	"rathaus/form"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/vault"
)

func TestDeliveryRouteCommands(t *testing.T) {
	dir := t.TempDir()
	_, mk, _ := vault.GenerateMasterKey()
	env := map[string]string{"RATHAUS_DATA": dir, "RATHAUS_MASTER_KEY": mk}
	cfg := filepath.Join(dir, "hook.json")
	os.WriteFile(cfg, []byte(`{"url":"https://fachverfahren.example/antraege","secrets":["whsec-0123456789abcdef"]}`), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"url":"http://fachverfahren.example/antraege","secrets":["whsec-0123456789abcdef"]}`), 0o600)

	code, out, errs := runMain(t, env, "delivery", "route", "add", "--tenant", "060000000000", "--service", "*", "--channel", "webhook", "--config", cfg, "--json")
	if code != 0 {
		t.Fatalf("route add = %d %q", code, errs)
	}
	var r struct{ RouteID, Channel string }
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.RouteID == "" || r.Channel != "webhook" {
		t.Fatalf("route add printed %q", out)
	}
	if code, out, errs := runMain(t, env, "delivery", "backfill", "--tenant", "060000000000", "--json"); code != 0 || !strings.Contains(out, `"enqueued": 0`) {
		t.Errorf("backfill = %d %q %q", code, out, errs)
	}
	code, out, _ = runMain(t, env, "delivery", "route", "list", "--tenant", "060000000000", "--json")
	if code != 0 || !strings.Contains(out, r.RouteID) || strings.Contains(out, "whsec") {
		t.Errorf("route list = %d %q (must not print secrets)", code, out)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"NoMasterKey", map[string]string{"RATHAUS_DATA": dir}, []string{"route", "list", "--tenant", "060000000000"}, 2, "RATHAUS_MASTER_KEY"},
		{"BadConfig", env, []string{"route", "add", "--tenant", "060000000000", "--service", "*", "--channel", "webhook", "--config", bad}, 1, "bad.json: webhook: field url"},
		{"UnknownChannel", env, []string{"route", "add", "--tenant", "060000000000", "--service", "*", "--channel", "fax", "--config", cfg}, 1, "unknown channel"},
		{"MissingFlags", env, []string{"route", "add", "--tenant", "060000000000"}, 2, "--service, --channel and --config are required"},
		{"BackfillBadSince", env, []string{"backfill", "--tenant", "060000000000", "--since", "gestern"}, 2, "want YYYY-MM-DD"},
		{"RedriveUnknown", env, []string{"redrive", "--tenant", "064110000000", "--application", "x", "--route", r.RouteID}, 1, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runMain(t, tc.env, append([]string{"delivery"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d %q, want %d with %q", code, errs, tc.code, tc.want)
			}
		})
	}
}

// TestServeDeliversOverHostedFITConnect runs rathaus serve with the
// hosted delivery service mounted at /fitconnect: a destination and sender
// credentials made with the CLI, a FIT-Connect route, an application put
// in by the intake; the serve's delivery worker sends it to its own
// delivery service and the specialist application (demo keys) receives,
// verifies and accepts it.
func TestServeDeliversOverHostedFITConnect(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA-4096 keys and a served portal")
	}
	dir := t.TempDir()
	master, mk, _ := vault.GenerateMasterKey()
	env := map[string]string{"RATHAUS_DATA": dir, "RATHAUS_MASTER_KEY": mk}
	srv := startServe(t, env)
	fcBase := srv.base + "/fitconnect"
	env["RATHAUS_FITCONNECT_URL"] = fcBase

	res, err := http.Get(srv.base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var jwks jose.JSONWebKeySet
	json.NewDecoder(res.Body).Decode(&jwks)
	res.Body.Close()
	if res.StatusCode != 200 || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %d %+v", res.StatusCode, jwks)
	}

	code, out, errs := runMain(t, env, "fitconnect", "destination", "create", "--demo", "--tenant", "064110000000", "--service", "99050012104000",
		"--schema", "https://schema.rathaus.example/universal.json", "--json")
	if code != 0 {
		t.Fatalf("destination create = %d %q", code, errs)
	}
	var dest map[string]string
	json.Unmarshal([]byte(out), &dest)
	if dest["tokenUrl"] != fcBase+"/token" {
		t.Errorf("tokenUrl = %s", dest["tokenUrl"])
	}
	code, out, errs = runMain(t, env, "fitconnect", "sender", "create", "--tenant", "064110000000", "--json")
	if code != 0 {
		t.Fatalf("sender create = %d %q", code, errs)
	}
	var sender map[string]string
	json.Unmarshal([]byte(out), &sender)
	root, _ := os.ReadFile(dest["trustRootFile"])
	cfg, _ := json.Marshal(delivery.FITConnectConfig{SubmissionAPI: fcBase, TokenURL: fcBase + "/token", ClientID: sender["clientId"], ClientSecret: sender["clientSecret"],
		DestinationID: dest["destinationId"], DataSchemaURI: "https://schema.rathaus.example/universal.json", TrustRootsPEM: string(root)})
	cfgFile := filepath.Join(dir, "fc-route.json")
	os.WriteFile(cfgFile, cfg, 0o600)
	if code, _, errs := runMain(t, env, "delivery", "route", "add", "--tenant", "064110000000", "--service", "99050012104000", "--channel", "fitconnect", "--config", cfgFile); code != 0 {
		t.Fatalf("route add = %d %q", code, errs)
	}

	// The intake (as the form pages do it) commits the application with
	// its delivery.send job; the served worker takes it from there.
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	intake := submission.New(db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	}), vault.New(db.VaultKeys(), master), submission.Options{})
	defer intake.Close()
	rc, err := intake.Submit(ctx, submission.SubmitRequest{Tenant: "064110000000", ServiceKey: "99050012104000", Model: submission.UniversalForm("de"),
		Answers: form.Answers{"anliegen": map[string]any{"beschreibung": "Bitte um Rückruf wegen meines Antrags."},
			"kontakt":      map[string]any{"vorname": "Erika", "nachname": "Mustermann", "email": "erika@example.org"},
			"einwilligung": map[string]any{"zustimmung": "ja"}},
		Applicant: submission.Applicant{LoA: 2}})
	if err != nil {
		t.Fatal(err)
	}

	// The specialist application with the demo keys.
	readJWK := func(path string) *jose.JSONWebKey {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		return &k
	}
	sub := fitconnect.NewSubscriber(fitconnect.Endpoint{SubmissionAPI: fcBase, TokenURL: fcBase + "/token", ClientID: dest["clientId"], ClientSecret: dest["clientSecret"],
		HTTPClient: &http.Client{Timeout: 20 * time.Second}}, dest["destinationId"], []*jose.JSONWebKey{readJWK(dest["encryptionKeyFile"])}, readJWK(dest["signingKeyFile"]), nil)
	schema, err := submission.UniversalForm("de").JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if sub.DataSchemas["https://schema.rathaus.example/universal.json"], err = fitconnect.CompileJSONSchema("https://schema.rathaus.example/universal.json", schema); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var list *fitconnect.SubmissionList
	for time.Now().Before(deadline) {
		if list, err = sub.List(ctx, 0, 10); err == nil && list.TotalCount > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if list == nil || list.TotalCount != 1 {
		t.Fatalf("the specialist application sees %+v, %v; serve log:\n%s", list, err, srv.stderr.String())
	}
	got, err := sub.Receive(ctx, list.Submissions[0].SubmissionID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got.Data), "Mustermann") || len(got.Attachments) != 1 || got.Attachments[0].Purpose != fitconnect.PurposeForm {
		t.Errorf("received data %s, %d attachments", got.Data, len(got.Attachments))
	}
	if err := sub.Accept(ctx, got); err != nil {
		t.Fatal(err)
	}
	var status string
	db.SQL().QueryRow(`SELECT status FROM delivery WHERE application_id = ?`, rc.Application.ID).Scan(&status)
	if status != delivery.StatusDelivered && status != delivery.StatusAccepted {
		t.Errorf("delivery status %q", status)
	}
}
