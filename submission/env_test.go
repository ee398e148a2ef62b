// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"context"
	"database/sql"
	"testing"

	"rathaus"
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
)

// env is an intake on a real store of one dialect with a real River queue.
type env struct {
	db    *sqlstore.DB
	store *sqlstore.SubmissionStore
	svc   *submission.Service
	fail  func(kind string, args any) error // injected enqueue failure
}

func newEnv(t testing.TB, dialect string, opts submission.Options) *env {
	t.Helper()
	return newEnvDB(t, sqltest.Open(t, dialect), opts)
}

func newEnvDB(t testing.TB, db *sqlstore.DB, opts submission.Options) *env {
	t.Helper()
	return newEnvOutbox(t, db, opts, false)
}

// newEnvOutbox is newEnvDB whose store commits jobs into the outbox (and
// whose Service pumps them into River) when outbox is set.
func newEnvOutbox(t testing.TB, db *sqlstore.DB, opts submission.Options, outbox bool) *env {
	t.Helper()
	ctx := context.Background()
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	master, _, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db}
	e.store = db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			if e.fail != nil {
				if err := e.fail(j.Kind, j.Args); err != nil {
					return err
				}
			}
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	})
	if outbox {
		e.store.UseOutbox()
	}
	e.svc = submission.New(e.store, vault.New(db.VaultKeys(), master), opts)
	t.Cleanup(func() { e.svc.Close() })
	return e
}

func (e *env) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.SQL().QueryRowContext(context.Background(), e.db.Rebind(q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// pdf is a tiny file that sniffs as PDF.
var pdf = []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// validAnswers are answers to the universal form with one upload.
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

func request(tenant, key string) submission.SubmitRequest {
	return submission.SubmitRequest{
		Tenant: tenant, ServiceKey: "99050012104000", Model: submission.UniversalForm("de"), Answers: validAnswers(),
		Attachments:    []submission.Upload{{FieldPath: "unterlagen[0].datei[0]", Filename: "nachweis.pdf", MediaType: "application/pdf", Content: pdf}},
		Applicant:      submission.Applicant{UserID: "user-1", LoA: 2, IdP: "https://demo-idp.example"},
		IdempotencyKey: key,
	}
}

func code(err error) string { return rathaus.ErrorCode(err) }
