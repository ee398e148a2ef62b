// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"fmt"
	"time"

	"rathaus/casework/worker"
	"rathaus/demo"
	"rathaus/form"
	"rathaus/identity"
	"rathaus/mailbox"
	"rathaus/submission"
	"rathaus/tenant"
	"rathaus/web"
)

// addDesk wires the durable process worker and the caseworker desk: the
// universal process deployed for Bund (every tenant inherits it), the job
// kinds process.start/effect/timer on the shared queue, a sweep that
// recovers what a crash interrupted (cases of new applications, pending
// effects, due timers; idempotent, so several nodes may run it), and the
// desk at /verwaltung/faelle. Applications are read
// through the intake when RATHAUS_MASTER_KEY is set; --demo adds demo
// cases in Darmstadt.
//
// With mb the process posts requests, messages and notices into the
// citizens' mailbox (mailbox.WorkerAdapter) and a citizen's reply is
// delivered as "citizen answered" in the reply's transaction
// (mailbox.AnsweredHook). The vault key is serveMasterKey's (with --demo
// the one kept in the data directory), so applications made through
// /antrag reach the desk in the demo too.
func addDesk(ctx context.Context, core *serveCore, deps *web.Deps, withDemo bool, mb *mailbox.Service, base string) (*worker.Worker, error) {
	db, log := core.DB, core.Log
	var sources worker.Sources
	demoApps := &worker.MemApplications{}
	if withDemo {
		sources = append(sources, demoApps)
	}
	if core.Intake != nil {
		sources = append(sources, worker.SubmissionApplications{Service: core.Intake, Title: func(ctx context.Context, ars, key string) string {
			if s, err := db.Catalog().Resolve(ctx, ars, key); err == nil {
				return s.Service.Name
			}
			return ""
		}, Form: func(ctx context.Context, app *submission.Application) (*form.Model, error) {
			return formVersion(ctx, db, app, "de")
		}})
	}
	opts := worker.Options{DB: db, Queue: core.Queue, Letterhead: func(ars string) string {
		if t, err := db.Tenants().Tenant(context.Background(), ars); err == nil {
			return t.Name
		}
		return ars
	}}
	if len(sources) > 0 {
		opts.Applications = sources
	}
	if mb != nil {
		opts.Mailbox = mailbox.WorkerAdapter{Service: mb}
	}
	w, err := worker.New(opts)
	if err != nil {
		return nil, err
	}
	if mb != nil {
		mb.OnReply = mailbox.AnsweredHook(w.CitizenAnswered)
	}
	if err := w.EnsureUniversal(ctx, tenant.Bund); err != nil {
		return nil, err
	}
	if withDemo {
		// Erika's first demo case reaches her mailbox: her user (as the
		// demo IdP's login will find it) owns it.
		erika, err := db.Identity().UpsertUser(ctx, identity.User{Kind: identity.KindCitizen, Issuer: base + "/demo-idp", Subject: "erika", Name: "Erika Mustermann"})
		if err != nil {
			return nil, err
		}
		if err := seedDemoCases(ctx, w, demoApps, erika.ID); err != nil {
			return nil, err
		}
	}
	go w.Sweep(ctx, 2*time.Second, 10*time.Second, func(err error) { log.Warn("process sweep", "error", err.Error()) })
	desk := &web.Desk{Service: w, Fixture: w.IsolationFixture}
	if mb != nil {
		desk.Mail = mb // the case page shows the correspondence with the citizen
		desk.MailFixture = web.MailIsolationFixture(mb)
	}
	deps.Features = append(deps.Features, desk)
	return w, nil
}

// seedDemoCases submits a dozen demo applications in Darmstadt (some past
// their deadline) and starts their processes; it is idempotent.
func seedDemoCases(ctx context.Context, w *worker.Worker, apps *worker.MemApplications, erikaID string) error {
	now := time.Now().UTC()
	services := []struct{ key, title string }{
		{"99050012104000", "Personalausweis beantragen"},
		{"99108001000000", "Hund anmelden"},
		{"99115003000000", "Wohngeld beantragen"},
		{"99050041000000", "Anwohnerparkausweis"},
	}
	names := []string{"Erika Mustermann", "Max Mustermann", "Aylin Yılmaz", "Jonas Becker", "Mia Schneider", "Lukas Wagner",
		"Sofia Rossi", "Ben Fischer", "Emma Weber", "Noah Hoffmann", "Lena Schäfer", "Paul Koch"}
	for i, name := range names {
		s := services[i%len(services)]
		app := &worker.Application{Tenant: demo.Darmstadt, ID: fmt.Sprintf("demo-%02d", i+1), Reference: fmt.Sprintf("DA-2026-DEMO-%02d", i+1),
			ServiceKey: s.key, Title: s.title, ApplicantUserID: "demo-buerger", SubmittedAt: now.Add(-time.Duration(45-i*3) * 24 * time.Hour),
			Answers: map[string]any{"name": name, "anschrift": "Luisenplatz 5, 64283 Darmstadt", "begruendung": "Demo-Antrag"}}
		if name == "Erika Mustermann" {
			app.ApplicantUserID = erikaID
		}
		apps.Add(app)
		if _, err := w.StartCase(ctx, app.Tenant, app.ID); err != nil {
			return err
		}
	}
	return w.Drain(ctx)
}
