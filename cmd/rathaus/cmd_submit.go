// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"rathaus"
	"rathaus/audit"
	"rathaus/form"
	"rathaus/jobs"
	"rathaus/receipt"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/vault"
)

func init() {
	register(&Command{
		Name:    "submit",
		Summary: "submit an application from a JSON answers file (the service's bound form, else the universal form): rathaus submit ANSWERS.json --tenant ARS --service KEY [--attach FILE]… [--key K] [--receipt OUT.pdf] / Antrag einreichen",
		Run:     runSubmit,
	})
	register(&Command{
		Name:    "receipt",
		Summary: "write the PDF receipt of an application: rathaus receipt REFERENCE --tenant ARS --out FILE.pdf / Eingangsbestätigung als PDF",
		Run:     runReceipt,
	})
}

// intakeFlags are the flags of the commands that seal or open applications.
type intakeFlags struct {
	storeFlags
	master string
}

func (f *intakeFlags) register(fs interface {
	StringVar(p *string, name, value, usage string)
}, env *Env) {
	fs.StringVar(&f.master, "master-key", envDefault(env, "RATHAUS_MASTER_KEY", ""), "base64 32-byte master key of the vault [RATHAUS_MASTER_KEY]")
}

// openIntake opens the store and the intake service (group commit on
// SQLite, jobs enqueued with River in the same transaction).
func (f *intakeFlags) openIntake(ctx context.Context) (*sqlstore.DB, *submission.Service, error) {
	if f.master == "" {
		return nil, nil, usagef("--master-key (or RATHAUS_MASTER_KEY) is required")
	}
	mk, err := vault.ParseMasterKey(f.master)
	if err != nil {
		return nil, nil, err
	}
	db, err := f.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	store := db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	})
	return db, submission.New(store, vault.New(db.VaultKeys(), mk), submission.Options{}), nil
}

// formOf returns the form bound to the service as seen from ars, or the
// universal form when none is bound.
func formOf(ctx context.Context, db *sqlstore.DB, ars, service string) (*form.Model, error) {
	ref, err := db.Forms().Binding(ctx, ars, service)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return submission.UniversalForm("de"), nil
	}
	if err != nil {
		return nil, err
	}
	return db.Forms().FormFor(ctx, ars, ref.ID, ref.Version)
}

// formVersion returns the exact form version an application was made with.
func formVersion(ctx context.Context, db *sqlstore.DB, app *submission.Application, lang string) (*form.Model, error) {
	if app.FormID == submission.UniversalFormID {
		return submission.UniversalForm(lang), nil
	}
	return db.Forms().FormFor(ctx, app.Tenant, app.FormID, app.FormVersion)
}

type submitResult struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Tenant    string `json:"tenant"`
	Service   string `json:"service"`
	Form      string `json:"form"`
	Replayed  bool   `json:"replayed"`
	Receipt   string `json:"receipt,omitempty"`
}

func runSubmit(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "submit")
	var f intakeFlags
	f.storeFlags.register(fs, env)
	f.register(fs, env)
	ars := fs.String("tenant", "", "ARS of the municipality applied to")
	service := fs.String("service", "", "service key (LeiKa)")
	key := fs.String("key", "", "idempotency key: the same key returns the first application")
	out := fs.String("receipt", "", "also write the PDF receipt to this file")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var attach []string
	fs.Func("attach", "file to attach (PDF, JPEG or PNG; repeatable)", func(s string) error { attach = append(attach, s); return nil })
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one ANSWERS.json")
	}
	if *ars == "" || *service == "" {
		return usagef("--tenant ARS and --service KEY are required")
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "%s: Datei nicht lesbar / cannot read file", pos[0])
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var answers form.Answers
	if err := dec.Decode(&answers); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "%s: kein JSON-Objekt / not a JSON object: %v", pos[0], err)
	}
	var uploads []submission.Upload
	for _, p := range attach {
		b, err := os.ReadFile(p)
		if err != nil {
			return rathaus.Wrap(rathaus.EINVALID, err, "%s: Datei nicht lesbar / cannot read file", p)
		}
		uploads = append(uploads, submission.Upload{Filename: filepath.Base(p), MediaType: submission.Sniff(b), Content: b})
	}
	db, svc, err := f.openIntake(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	defer svc.Close()
	model, err := formOf(ctx, db, *ars, *service)
	if err != nil {
		return err
	}
	rc, err := svc.Submit(ctx, submission.SubmitRequest{Tenant: *ars, ServiceKey: *service, Model: model, Answers: answers.Compact(),
		Attachments: uploads, IdempotencyKey: *key})
	if err != nil {
		if fes := submission.FieldErrors(err); len(fes) > 0 {
			for _, fe := range fes {
				fmt.Fprintf(env.Stderr, "%s: field %s: %s (%s)\n", pos[0], fe.Path, fe.Message, fe.Code)
			}
		}
		return err
	}
	app := rc.Application
	res := submitResult{ID: app.ID, Reference: app.Reference, Tenant: app.Tenant, Service: app.ServiceKey, Form: app.FormID + " " + app.FormVersion, Replayed: rc.Replayed}
	if *out != "" {
		if err := writeReceipt(ctx, db, svc, app, "de", *out); err != nil {
			return err
		}
		res.Receipt = *out
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	word := "eingegangen / received"
	if rc.Replayed {
		word = "war schon eingegangen / already received"
	}
	fmt.Fprintf(env.Stdout, "Antrag %s %s (id %s, Formular %s)\n", app.Reference, word, app.ID, res.Form)
	return nil
}

func runReceipt(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "receipt")
	var f intakeFlags
	f.storeFlags.register(fs, env)
	f.register(fs, env)
	ars := fs.String("tenant", "", "ARS of the municipality")
	out := fs.String("out", "", "PDF file to write")
	lang := fs.String("lang", "de", "language of the receipt: de or en")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one REFERENCE")
	}
	if *ars == "" || *out == "" {
		return usagef("--tenant ARS and --out FILE.pdf are required")
	}
	if *lang != "de" && *lang != "en" {
		return usagef("--lang %q: want de or en", *lang)
	}
	db, svc, err := f.openIntake(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	defer svc.Close()
	app, err := db.SubmissionStore(nil).ApplicationByReference(ctx, *ars, pos[0])
	if err != nil {
		return err
	}
	// An operator reading an application's answers is audited.
	if _, err := db.Audit().Append(ctx, audit.Entry{Tenant: app.Tenant, Actor: "cli", Action: "application.read",
		Object: "application/" + app.ID, Details: map[string]string{"purpose": "receipt"}}); err != nil {
		return err
	}
	if err := writeReceipt(ctx, db, svc, app, *lang, *out); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s\n", *out)
	return nil
}

// writeReceipt renders the receipt of app to path (0600: it holds personal data).
func writeReceipt(ctx context.Context, db *sqlstore.DB, svc *submission.Service, app *submission.Application, lang, path string) error {
	answers, err := svc.OpenAnswers(ctx, app)
	if err != nil {
		return err
	}
	model, err := formVersion(ctx, db, app, lang)
	if err != nil {
		return err
	}
	tenantName, serviceName := app.Tenant, app.ServiceKey
	if t, err := db.Tenants().Tenant(ctx, app.Tenant); err == nil {
		tenantName = t.Name
	}
	if r, err := db.Catalog().Resolve(ctx, app.Tenant, app.ServiceKey); err == nil {
		serviceName = r.Service.Name
	}
	rc := receipt.FromApplication(app, model, answers, tenantName, serviceName, lang)
	var buf bytes.Buffer
	if err := receipt.Render(&buf, rc); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot write %s", path)
	}
	return nil
}
