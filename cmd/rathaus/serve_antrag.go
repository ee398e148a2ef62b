// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"time"

	"rathaus/mailbox"
	"rathaus/scan"
	"rathaus/submission"
	"rathaus/web"
)

// addForms mounts the online applications (web.FormFeature) when a vault
// master key is available (see serveMasterKey): every service gets its FIM
// form (rathaus import fim) or the universal application. Uploads are
// scanned by clamd at clamdAddr (--clamd / RATHAUS_CLAMD), else not at all
// (with a warning). Logged-in applicants get the receipt in their mailbox
// when mb is set. The intake is the shared one of core.
func addForms(ctx context.Context, core *serveCore, deps *web.Deps, clamdAddr string, mb *mailbox.Service) error {
	log, db := core.Log, core.DB
	if core.Intake == nil {
		log.Warn("no vault master key (RATHAUS_MASTER_KEY): online applications are off")
		return nil
	}
	var scanner scan.Scanner = scan.Nop
	if clamdAddr != "" {
		c, err := scan.NewClamd(clamdAddr)
		if err != nil {
			return usagef("--clamd: %v", err)
		}
		scanner = c
	} else {
		log.Warn("no virus scanner configured (--clamd / RATHAUS_CLAMD): uploads are not scanned")
	}
	f := web.FormFeature{Intake: core.Intake, Forms: db.Forms(), Sealer: core.Vault, Scanner: scanner, Store: core.Store}
	if mb != nil {
		f.OnSubmitted = func(ctx context.Context, app *submission.Application, pdf []byte) error {
			_, err := mb.Send(ctx, mailbox.Message{Tenant: app.Tenant, UserID: app.ApplicantUserID, ApplicationID: app.ID, Kind: mailbox.KindMessage,
				Subject: "Eingangsbestätigung " + app.Reference,
				Body:    "Ihr Antrag ist eingegangen. Ihr Aktenzeichen: " + app.Reference + ". Die Eingangsbestätigung liegt als PDF bei.",
				Attachments: []mailbox.Attachment{{Filename: "Eingangsbestaetigung-" + app.Reference + ".pdf", MediaType: "application/pdf",
					Size: int64(len(pdf)), Data: pdf}},
				Key: "receipt/" + app.ID})
			return err
		}
	}
	go func() { // staged uploads of abandoned drafts are not kept
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if n, err := db.Forms().PurgeUploads(ctx); err != nil {
				log.Warn("purge staged uploads", "error", err.Error())
			} else if n > 0 {
				log.Info("purged staged uploads of expired drafts", "files", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	// The JSON intake for apps and specialist portals (POST
	// /api/v1/antraege/{key}): the same Service, forms and anonymous policy
	// as the HTML journey; what bench/intake measures.
	deps.Features = append(deps.Features, f, web.IntakeAPIFeature{Intake: core.Intake, Form: web.FormsOf(db.Forms()), AllowAnonymous: f.AllowAnonymous})
	deps.HasForm = func(string) bool { return true } // a FIM form or the universal application
	log.Info("online applications ready", "virus_scan", clamdAddr != "")
	return nil
}
