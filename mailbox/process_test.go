// SPDX-License-Identifier: EUPL-1.2

package mailbox_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/mailbox"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

type oneApp struct{ app *worker.Application }

func (a oneApp) Application(ctx context.Context, tenant, id string) (*worker.Application, error) {
	if a.app.Tenant != tenant || a.app.ID != id {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no application")
	}
	return a.app, nil
}

// TestUniversalProcessThroughMailbox runs the universal process with the
// real mailbox on both dialects: the caseworker's request arrives in the
// citizen's mailbox with its deadline, the citizen's reply (OnReply →
// worker.CitizenAnswered, in the reply's transaction) moves the process
// on, the approval's notice PDF arrives in the mailbox, and the status
// says "abgeschlossen".
func TestUniversalProcessThroughMailbox(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, dialect, mailbox.Options{})
			ctx := context.Background()
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			sub := &submission.Application{Tenant: arsA, ID: "0190bbbb-0000-7000-8000-000000000001", Reference: "DA-2026-7K3M-9QXT", ServiceKey: "99001",
				FormID: "f", FormVersion: "1", ApplicantUserID: "u-erika", SealedAnswers: []byte("x"), Status: "submitted", SubmittedAt: now, IdempotencyKey: "k"}
			if err := e.db.SubmissionStore(nil).CreateApplications(ctx, []*submission.Intake{{App: sub}}); err != nil {
				t.Fatal(err)
			}
			w, err := worker.New(worker.Options{DB: e.db, Mailbox: mailbox.WorkerAdapter{Service: e.svc},
				Applications: oneApp{&worker.Application{Tenant: arsA, ID: sub.ID, Reference: sub.Reference, ServiceKey: "99001", Title: "Wohngeld",
					ApplicantUserID: "u-erika", SubmittedAt: now, Answers: map[string]any{"name": "Erika"}}},
				Now: func() time.Time { return now }, Letterhead: func(string) string { return "Wissenschaftsstadt Darmstadt" }})
			if err != nil {
				t.Fatal(err)
			}
			e.svc.OnReply = mailbox.AnsweredHook(w.CitizenAnswered)
			if err := w.EnsureUniversal(ctx, "000000000000"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.StartCase(ctx, arsA, sub.ID); err != nil {
				t.Fatal(err)
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(w.Drain(ctx))
			deadline := now.Add(10 * 24 * time.Hour)
			_, err = w.RequestInformation(ctx, "cw-1", arsA, sub.ID, "Bitte reichen Sie die Meldebescheinigung nach.", deadline)
			must(err)
			must(w.Drain(ctx))
			must(w.Drain(ctx)) // a replay posts nothing twice

			st, err := e.svc.ApplicationStatus(ctx, "u-erika", sub.ID)
			must(err)
			if st.State != casework.StatusWaiting || st.Expected != "Bitte reichen Sie die Meldebescheinigung nach." || st.DueAt == nil || !st.DueAt.Equal(deadline) {
				t.Fatalf("waiting status: state %s expected %q due %v", st.State, st.Expected, st.DueAt)
			}
			if len(st.Messages) != 1 || st.Request == nil {
				t.Fatalf("messages = %+v", st.Messages)
			}
			_, err = e.svc.Reply(ctx, "u-erika", st.Request.ID, "Die Meldebescheinigung hängt an.", []mailbox.Upload{{Filename: "melde.pdf", Data: pdf}})
			must(err)
			must(w.Drain(ctx))
			if c, _ := w.Cases.Case(ctx, arsA, sub.ID); c.Status == casework.StatusWaiting {
				t.Fatalf("the process still waits after the reply: %+v", c)
			}
			_, err = w.Decide(ctx, "cw-1", arsA, sub.ID, casework.DecisionApprove, "Alle Voraussetzungen erfüllt.")
			must(err)
			must(w.Drain(ctx))

			st, err = e.svc.ApplicationStatus(ctx, "u-erika", sub.ID)
			must(err)
			if !st.Closed || st.State != casework.StatusClosed || st.Decision != casework.DecisionApprove || st.Expected != "" {
				t.Errorf("final status: %+v", st)
			}
			var notice *mailbox.Message
			for i := range st.Messages {
				if st.Messages[i].Kind == mailbox.KindNotice {
					notice = &st.Messages[i]
				}
			}
			if notice == nil || len(notice.Attachments) != 1 || notice.Attachments[0].MediaType != "application/pdf" {
				t.Fatalf("no notice with a PDF in the mailbox: %+v", st.Messages)
			}
			_, att, err := e.svc.Attachment(ctx, "u-erika", notice.ID, 1)
			must(err)
			if !bytes.HasPrefix(att.Data, []byte("%PDF-")) {
				t.Errorf("notice attachment is not a PDF")
			}
			// A question after the notice: the process waits for nothing, the
			// reply is stored all the same.
			if _, err := e.svc.Reply(ctx, "u-erika", notice.ID, "Danke! Ab wann gilt der Bescheid?", nil); err != nil {
				t.Errorf("reply to the notice after closing: %v", err)
			}
			st, err = e.svc.ApplicationStatus(ctx, "u-erika", sub.ID)
			must(err)
			kinds := ""
			for _, m := range st.Messages {
				kinds += m.Kind + " "
			}
			if kinds != "request reply notice reply " {
				t.Errorf("thread = %q, want request, reply, notice, reply", kinds)
			}
		})
	}
}
