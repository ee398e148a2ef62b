// SPDX-License-Identifier: EUPL-1.2

package delivery_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"rathaus"
	"rathaus/delivery"
	"rathaus/form"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/vault"
)

const (
	darmstadt = "064110000000"
	muenchen  = "091620000000"
	hessen    = "060000000000"
	service   = "99050012104000"
)

// sweepEvery is the interval of the periodic sweep of test environments.
var sweepEvery = 200 * time.Millisecond

// env is an intake and a delivery service on a real store with a real
// River queue (started by start).
type env struct {
	db     *sqlstore.DB
	q      *jobs.Queue
	intake *submission.Service
	svc    *delivery.Service
	vault  *vault.Vault
	// receipt makes the source add the PDF receipt (as for FIT-Connect).
	receipt bool
}

// Load implements delivery.Source over the intake (read at load time, so
// tests may switch receipt on).
func (e *env) Load(ctx context.Context, tenant, id string) (*delivery.Application, error) {
	src := &delivery.SubmissionSource{Intake: e.intake, NoReceipt: !e.receipt,
		Model: func(context.Context, *submission.Application) (*form.Model, error) {
			return submission.UniversalForm("de"), nil
		},
		Names: func(context.Context, *submission.Application) (string, string) {
			return "Wissenschaftsstadt Darmstadt", "Hundesteuer"
		}}
	return src.Load(ctx, tenant, id)
}

func newEnv(t testing.TB, dialect string, opts delivery.Options) *env {
	t.Helper()
	return newEnvDB(t, sqltest.Open(t, dialect), nil, opts)
}

func newEnvDB(t testing.TB, db *sqlstore.DB, master vault.MasterKey, opts delivery.Options) *env {
	t.Helper()
	ctx := context.Background()
	q, err := jobs.New(ctx, db, jobs.Options{PollInterval: 20 * time.Millisecond, MaxWorkers: 4,
		Periodic: []jobs.Periodic{delivery.Periodic(sweepEvery)}})
	if err != nil {
		t.Fatal(err)
	}
	if master == nil {
		if master, _, err = vault.GenerateMasterKey(); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{db: db, q: q}
	e.vault = vault.New(db.VaultKeys(), master)
	store := db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	})
	e.intake = submission.New(store, e.vault, submission.Options{ReferencePrefix: "DA"})
	t.Cleanup(func() { e.intake.Close() })
	opts.Sealer, opts.Queue = e.vault, q
	if opts.Source == nil {
		opts.Source = e
	}
	if opts.SweepGrace == 0 {
		opts.SweepGrace = 50 * time.Millisecond
	}
	if opts.BaseBackoff == 0 {
		opts.BaseBackoff = 20 * time.Millisecond
	}
	e.svc, err = delivery.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Register(q); err != nil {
		t.Fatal(err)
	}
	if err := q.Register(submission.JobProcessStart, func(context.Context, json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) start(t testing.TB) {
	t.Helper()
	if err := e.q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.q.Stop(ctx)
	})
}

// pdf is a tiny file that sniffs as PDF.
var pdf = []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

func validAnswers() form.Answers {
	return form.Answers{
		"anliegen": map[string]any{"beschreibung": "Ich möchte meinen Hund anmelden. Größe: groß, Farbe: weiß."},
		"kontakt": map[string]any{
			"anrede": "frau", "vorname": "Jürgen", "nachname": "Müller-Lüdenscheidt", "email": "juergen@example.org",
			"anschrift": map[string]any{"strasse": "Heidestraße", "hausnummer": "17", "plz": "64283", "ort": "Darmstadt"},
		},
		"unterlagen":   map[string]any{"datei": []any{map[string]any{"name": "nachweis.pdf", "size": len(pdf), "mediaType": "application/pdf"}}},
		"einwilligung": map[string]any{"zustimmung": "ja"},
	}
}

// submit files one application of tenant ars and returns it.
func (e *env) submit(t testing.TB, ars string) *submission.Application {
	t.Helper()
	rc, err := e.intake.Submit(context.Background(), submission.SubmitRequest{
		Tenant: ars, ServiceKey: service, Model: submission.UniversalForm("de"), Answers: validAnswers(),
		Attachments: []submission.Upload{{FieldPath: "unterlagen[0].datei[0]", Filename: "nachweis.pdf", MediaType: "application/pdf", Content: pdf}},
		Applicant:   submission.Applicant{UserID: "user-1", LoA: 2, IdP: "https://demo-idp.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rc.Application
}

func (e *env) route(t testing.TB, ars, svc, channel string, cfg any) *delivery.Route {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &delivery.Route{Tenant: ars, ServiceKey: svc, Channel: channel, Config: raw, Enabled: true, Name: channel}
	if err := e.svc.PutRoute(context.Background(), r, "test"); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitStatus polls until the delivery reaches status. The bound is generous:
// after a crash the next node only sweeps once River has handed it the
// leadership the killed node held, which takes a while on a loaded machine.
func (e *env) waitStatus(t testing.TB, ars, app, route, status string) *delivery.Delivery {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last *delivery.Delivery
	for time.Now().Before(deadline) {
		d, err := e.svc.Delivery(context.Background(), ars, app, route)
		if err == nil && d.Status == status {
			return d
		}
		if err != nil && rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
			t.Fatal(err)
		}
		last = d
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("delivery %s/%s: status %+v, want %s", app, route, last, status)
	return nil
}

func (e *env) logStatuses(t testing.TB, ars, app string) []string {
	t.Helper()
	log, err := e.svc.Log(context.Background(), ars, app)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range log {
		out = append(out, l.Status)
	}
	return out
}
