// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/form"
	"rathaus/identity"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

func TestSubmit(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, submission.Options{ReferencePrefix: "DA"})
			ctx := context.Background()
			req := request(darmstadt, "key-1")
			rc, err := e.svc.Submit(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			app := rc.Application
			if rc.Replayed {
				t.Error("first submit reported as replayed")
			}
			if _, err := submission.NormalizeReference(app.Reference); err != nil || app.Reference[:3] != "DA-" {
				t.Errorf("reference %q: %v", app.Reference, err)
			}

			t.Run("ReadBack", func(t *testing.T) {
				got, err := e.svc.Application(ctx, darmstadt, app.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Reference != app.Reference || got.FormID != submission.UniversalFormID || got.FormVersion != submission.UniversalFormVersion ||
					got.ApplicantUserID != "user-1" || got.LoA != identity.LoASubstantial || got.Status != submission.StatusSubmitted ||
					!got.SubmittedAt.Equal(app.SubmittedAt) {
					t.Errorf("read back %+v, submitted %+v", got, app)
				}
				if bytes.Contains(got.SealedAnswers, []byte("Müller")) {
					t.Error("answers stored in plain text")
				}
				ans, err := e.svc.OpenAnswers(ctx, got)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := json.Marshal(req.Answers)
				have, _ := json.Marshal(ans)
				if !bytes.Equal(want, have) {
					t.Errorf("answers\n got %s\nwant %s", have, want)
				}
				if len(got.Attachments) != 1 || got.Attachments[0].Size != int64(len(pdf)) || got.Attachments[0].Filename != "nachweis.pdf" {
					t.Fatalf("attachments %+v", got.Attachments)
				}
				content, err := e.svc.AttachmentContent(ctx, got, got.Attachments[0].ID)
				if err != nil || !bytes.Equal(content, pdf) {
					t.Fatalf("attachment = %q, %v", content, err)
				}
				byRef, err := e.store.ApplicationByReference(ctx, darmstadt, " "+strings.ToLower(app.Reference)+" ")
				if err != nil || byRef.ID != app.ID {
					t.Errorf("ApplicationByReference = %v, %v", byRef, err)
				}
			})
			t.Run("AuditAndJobs", func(t *testing.T) {
				var found bool
				e.db.Audit().Walk(ctx, func(en audit.Entry) error {
					if en.Action == "application.submit" && en.Object == "application/"+app.ID && en.Tenant == darmstadt {
						found = true
					}
					return nil
				})
				if !found {
					t.Error("no audit entry for the submission")
				}
				apps := e.count(t, `SELECT count(*) FROM applications`)
				if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind IN ('process.start', 'delivery.send')`); n != 2*apps {
					t.Errorf("%d jobs enqueued for %d applications, want two each", n, apps)
				}
			})
			t.Run("ApplicationsOf", func(t *testing.T) {
				second := request(darmstadt, "key-2")
				rc2, err := e.svc.Submit(ctx, second)
				if err != nil {
					t.Fatal(err)
				}
				list, err := e.svc.ApplicationsOf(ctx, darmstadt, "user-1")
				if err != nil || len(list) != 2 || list[0].ID != rc2.Application.ID || list[1].ID != app.ID {
					t.Errorf("ApplicationsOf = %d, %v; want newest first", len(list), err)
				}
				for _, tc := range []struct{ name, tenant, user string }{{"OtherUser", darmstadt, "user-2"}, {"Anonymous", darmstadt, ""}, {"OtherTenant", muenchen, "user-1"}} {
					if l, err := e.svc.ApplicationsOf(ctx, tc.tenant, tc.user); err != nil || len(l) != 0 {
						t.Errorf("%s: ApplicationsOf = %d, %v; want none", tc.name, len(l), err)
					}
				}
			})
			t.Run("ErrWrongTenant", func(t *testing.T) {
				if _, err := e.svc.Application(ctx, muenchen, app.ID); code(err) != rathaus.ENOTFOUND {
					t.Errorf("Application as other tenant: %v, want not_found", err)
				}
				if _, err := e.store.AttachmentContent(ctx, muenchen, app.ID, app.Attachments[0].ID); code(err) != rathaus.ENOTFOUND {
					t.Errorf("AttachmentContent as other tenant: %v", err)
				}
			})
			t.Run("Access", func(t *testing.T) {
				for _, tc := range []struct {
					name   string
					user   string
					grants []identity.Grant
					ok     bool
				}{
					{"Applicant", "user-1", nil, true},
					{"CaseworkerOfLand", "staff-1", []identity.Grant{{UserID: "staff-1", Tenant: hessen, Role: identity.RoleCaseworker}}, true},
					{"ErrCaseworkerElsewhere", "staff-2", []identity.Grant{{UserID: "staff-2", Tenant: muenchen, Role: identity.RoleCaseworker}}, false},
					{"ErrDesignerOnly", "staff-3", []identity.Grant{{UserID: "staff-3", Tenant: darmstadt, Role: identity.RoleServiceDesigner}}, false},
					{"ErrStranger", "user-2", nil, false},
					{"ErrAnonymous", "", nil, false},
				} {
					t.Run(tc.name, func(t *testing.T) {
						_, err := e.svc.ApplicationFor(ctx, darmstadt, app.ID, tc.user, tc.grants)
						if tc.ok && err != nil || !tc.ok && code(err) != rathaus.ENOTFOUND {
							t.Errorf("ApplicationFor = %v, want ok=%v", err, tc.ok)
						}
					})
				}
			})
		})
	}
}

func TestIdempotent(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, submission.Options{})
			ctx := context.Background()
			first, err := e.svc.Submit(ctx, request(darmstadt, "same"))
			if err != nil {
				t.Fatal(err)
			}
			t.Run("Sequential", func(t *testing.T) {
				again, err := e.svc.Submit(ctx, request(darmstadt, "same"))
				if err != nil {
					t.Fatal(err)
				}
				if !again.Replayed || again.Application.ID != first.Application.ID || again.Application.Reference != first.Application.Reference {
					t.Errorf("second submit = %+v, want replay of %s", again, first.Application.ID)
				}
			})
			t.Run("Concurrent", func(t *testing.T) {
				var wg sync.WaitGroup
				ids := make([]string, 16)
				errs := make([]error, 16)
				for i := range ids {
					wg.Go(func() {
						rc, err := e.svc.Submit(ctx, request(darmstadt, "race"))
						errs[i] = err
						if err == nil {
							ids[i] = rc.Application.ID
						}
					})
				}
				wg.Wait()
				for i := range ids {
					if errs[i] != nil || ids[i] != ids[0] {
						t.Fatalf("submit %d = %s, %v; want %s", i, ids[i], errs[i], ids[0])
					}
				}
			})
			t.Run("OtherTenantSameKey", func(t *testing.T) {
				rc, err := e.svc.Submit(ctx, request(muenchen, "same"))
				if err != nil || rc.Replayed || rc.Application.ID == first.Application.ID {
					t.Errorf("same key in another tenant = %+v, %v; want a new application", rc, err)
				}
			})
			if n := e.count(t, `SELECT count(*) FROM applications`); n != 3 {
				t.Errorf("%d applications stored, want 3", n)
			}
			if n := e.count(t, `SELECT count(*) FROM river_job`); n != 6 {
				t.Errorf("%d jobs stored, want 6 (two per application)", n)
			}
		})
	}
}

func TestSubmitInvalid(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { testSubmitInvalid(t, d) })
	}
}

func testSubmitInvalid(t *testing.T, dialect string) {
	e := newEnv(t, dialect, submission.Options{MaxAttachmentBytes: 1000, MaxAnswerBytes: 4000})
	ctx := context.Background()
	t.Run("FieldErrors", func(t *testing.T) {
		req := request(darmstadt, "bad")
		k := req.Answers["kontakt"].(map[string]any)
		delete(k, "vorname")
		k["email"] = "keine-adresse"
		k["geburtsdatum"] = "31.12.1980"
		_, err := e.svc.Submit(ctx, req)
		if code(err) != rathaus.EINVALID {
			t.Fatalf("Submit = %v, want invalid", err)
		}
		var paths []string
		for _, fe := range submission.FieldErrors(err) {
			paths = append(paths, fe.Path+" "+fe.Code)
		}
		want := []string{"kontakt[0].email pattern", "kontakt[0].geburtsdatum date", "kontakt[0].vorname required"}
		if !slices.Equal(paths, want) {
			t.Errorf("field errors %q, want %q", paths, want)
		}
	})
	for _, tc := range []struct {
		name string
		edit func(*submission.SubmitRequest)
	}{
		{"ErrNoModel", func(r *submission.SubmitRequest) { r.Model = nil }},
		{"ErrNoTenant", func(r *submission.SubmitRequest) { r.Tenant = "" }},
		{"ErrNoConsent", func(r *submission.SubmitRequest) { delete(r.Answers, "einwilligung") }},
		{"ErrFileTooLarge", func(r *submission.SubmitRequest) {
			r.Attachments[0].Content = append(bytes.Clone(pdf), make([]byte, 1000)...)
		}},
		{"ErrFileNotPDF", func(r *submission.SubmitRequest) { r.Attachments[0].Content = []byte("MZ\x90\x00 not a pdf") }},
		{"ErrAnswersTooLarge", func(r *submission.SubmitRequest) {
			r.Answers["anliegen"] = map[string]any{"beschreibung": strings.Repeat("ä", 3000)}
		}},
		{"ErrFileTypeNotInForm", func(r *submission.SubmitRequest) { r.Attachments[0].MediaType = "text/plain" }},
		{"ErrFileName", func(r *submission.SubmitRequest) { r.Attachments[0].Filename = "../etc/passwd" }},
		{"ErrEmptyFile", func(r *submission.SubmitRequest) { r.Attachments[0].Content = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(darmstadt, "bad-"+tc.name)
			tc.edit(&req)
			if _, err := e.svc.Submit(ctx, req); code(err) != rathaus.EINVALID {
				t.Errorf("Submit = %v, want invalid", err)
			}
		})
	}
	if n := e.count(t, `SELECT count(*) FROM applications`); n != 0 {
		t.Errorf("%d applications stored from invalid requests", n)
	}
}

func TestAtomicity(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, submission.Options{})
			ctx := context.Background()
			boom := errors.New("queue down")
			e.fail = func(kind string, args any) error {
				if kind == submission.JobDeliverySend && args.(submission.JobArgs).ServiceKey == "boom" {
					return boom
				}
				return nil
			}
			req := request(darmstadt, "atomic")
			req.ServiceKey = "boom"
			if _, err := e.svc.Submit(ctx, req); !errors.Is(err, boom) {
				t.Fatalf("Submit with failing enqueue = %v, want the enqueue error", err)
			}
			for _, table := range []string{"applications", "application_blobs", "river_job", "audit_log"} {
				if n := e.count(t, `SELECT count(*) FROM `+table); n != 0 {
					t.Errorf("%s has %d rows after the rolled-back submission", table, n)
				}
			}
			// A failing intake among concurrent good ones fails alone (group commit isolates it).
			var wg sync.WaitGroup
			errs := make([]error, 20)
			for i := range errs {
				wg.Go(func() {
					r := request(darmstadt, fmt.Sprint("k", i))
					if i == 7 {
						r.ServiceKey = "boom"
					}
					_, errs[i] = e.svc.Submit(ctx, r)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if (i == 7) != (err != nil) {
					t.Errorf("submit %d: %v", i, err)
				}
			}
			if n := e.count(t, `SELECT count(*) FROM applications`); n != 19 {
				t.Errorf("%d applications, want 19", n)
			}
			if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'application.submit'`); n != 19 {
				t.Errorf("%d audit entries, want 19", n)
			}
			if seq, reason, err := audit.Verify(ctx, e.db.Audit()); seq != 0 || err != nil {
				t.Errorf("audit chain broken at %d: %s %v", seq, reason, err)
			}
		})
	}
}

func TestDrafts(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, submission.Options{})
			ctx := context.Background()
			in := submission.DraftInput{Tenant: darmstadt, ServiceKey: "99050012104000", FormID: submission.UniversalFormID, FormVersion: "1.0",
				Answers: form.Answers{"anliegen": map[string]any{"beschreibung": "Entwurf für Straßenfest"}}, Step: "anliegen"}

			t.Run("Owner", func(t *testing.T) {
				in := in
				in.UserID = "user-1"
				dr, token, err := e.svc.SaveDraft(ctx, in)
				if err != nil || token != "" {
					t.Fatalf("SaveDraft = %v, token %q", err, token)
				}
				got, err := e.svc.Draft(ctx, darmstadt, dr.ID, "user-1")
				if err != nil || got.Step != "anliegen" || got.Answers["anliegen"].(map[string]any)["beschreibung"] != "Entwurf für Straßenfest" {
					t.Fatalf("Draft = %+v, %v", got, err)
				}
				for _, tc := range []struct{ name, tenant, user string }{
					{"ErrOtherUser", darmstadt, "user-2"}, {"ErrAnonymous", darmstadt, ""}, {"ErrOtherTenant", muenchen, "user-1"},
				} {
					t.Run(tc.name, func(t *testing.T) {
						if _, err := e.svc.Draft(ctx, tc.tenant, dr.ID, tc.user); code(err) != rathaus.ENOTFOUND {
							t.Errorf("Draft = %v, want not_found", err)
						}
						upd := in
						upd.ID, upd.Tenant, upd.UserID = dr.ID, tc.tenant, tc.user
						if _, _, err := e.svc.SaveDraft(ctx, upd); code(err) != rathaus.ENOTFOUND {
							t.Errorf("SaveDraft over another's draft = %v, want not_found", err)
						}
					})
				}
				upd := in
				upd.ID, upd.Step = dr.ID, "kontakt"
				if _, _, err := e.svc.SaveDraft(ctx, upd); err != nil {
					t.Fatal(err)
				}
				if got, _ := e.svc.Draft(ctx, darmstadt, dr.ID, "user-1"); got == nil || got.Step != "kontakt" {
					t.Errorf("updated draft = %+v", got)
				}
			})
			t.Run("ResumeToken", func(t *testing.T) {
				dr, t1, err := e.svc.SaveDraft(ctx, in)
				if err != nil || len(t1) < 43 {
					t.Fatalf("SaveDraft = %v, token %q", err, t1)
				}
				if n := e.count(t, `SELECT count(*) FROM drafts WHERE resume_token_hash = ?`, t1); n != 0 {
					t.Error("the token itself is stored")
				}
				got, t2, err := e.svc.ResumeDraft(ctx, darmstadt, t1)
				if err != nil || got.ID != dr.ID || t2 == "" || t2 == t1 {
					t.Fatalf("ResumeDraft = %+v, %q, %v", got, t2, err)
				}
				if _, _, err := e.svc.ResumeDraft(ctx, darmstadt, t1); code(err) != rathaus.ENOTFOUND {
					t.Errorf("second use of a token = %v, want not_found", err)
				}
				if _, _, err := e.svc.ResumeDraft(ctx, muenchen, t2); code(err) != rathaus.ENOTFOUND {
					t.Errorf("token in other tenant = %v, want not_found", err)
				}
				// Saving with the current token consumes it too.
				upd := in
				upd.ID, upd.ResumeToken, upd.Step = dr.ID, t2, "kontakt"
				_, t3, err := e.svc.SaveDraft(ctx, upd)
				if err != nil || t3 == "" {
					t.Fatalf("SaveDraft with token = %v", err)
				}
				upd.ResumeToken = t2
				if _, _, err := e.svc.SaveDraft(ctx, upd); code(err) != rathaus.ENOTFOUND {
					t.Errorf("SaveDraft with used token = %v, want not_found", err)
				}
				t.Run("AdoptedAfterLogin", func(t *testing.T) {
					d2, tok, err := e.svc.SaveDraft(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					claim := in
					claim.ID, claim.ResumeToken, claim.UserID = d2.ID, tok, "user-9"
					if _, next, err := e.svc.SaveDraft(ctx, claim); err != nil || next != "" {
						t.Fatalf("SaveDraft after login = %q, %v; want no token", next, err)
					}
					if got, err := e.svc.Draft(ctx, darmstadt, d2.ID, "user-9"); err != nil || got.OwnerUserID != "user-9" {
						t.Errorf("adopted draft = %+v, %v", got, err)
					}
					if _, _, err := e.svc.ResumeDraft(ctx, darmstadt, tok); code(err) != rathaus.ENOTFOUND {
						t.Errorf("token of an adopted draft still works: %v", err)
					}
				})
				// Concurrent use of one token: exactly one wins.
				var wg sync.WaitGroup
				var mu sync.Mutex
				wins := 0
				for range 8 {
					wg.Go(func() {
						if _, _, err := e.svc.ResumeDraft(ctx, darmstadt, t3); err == nil {
							mu.Lock()
							wins++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				if wins != 1 {
					t.Errorf("%d concurrent resumes with one token succeeded, want 1", wins)
				}
			})
			t.Run("DeletedOnSubmit", func(t *testing.T) {
				in := in
				in.UserID = "user-1"
				dr, _, err := e.svc.SaveDraft(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				other := request(darmstadt, "not-my-draft")
				other.Applicant.UserID, other.DraftID = "user-2", dr.ID
				if _, err := e.svc.Submit(ctx, other); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Draft(ctx, darmstadt, dr.ID, "user-1"); err != nil {
					t.Fatalf("another applicant's submit deleted the draft: %v", err)
				}
				req := request(darmstadt, "from-draft")
				req.DraftID = dr.ID
				if _, err := e.svc.Submit(ctx, req); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Draft(ctx, darmstadt, dr.ID, "user-1"); code(err) != rathaus.ENOTFOUND {
					t.Errorf("draft after submit: %v", err)
				}
			})
			t.Run("PurgeExpired", func(t *testing.T) {
				dr, _, err := e.svc.SaveDraft(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				n, err := e.store.PurgeExpiredDrafts(ctx, time.Now().Add(31*24*time.Hour))
				if err != nil || n < 1 {
					t.Fatalf("PurgeExpiredDrafts = %d, %v", n, err)
				}
				if _, err := e.store.Draft(ctx, darmstadt, dr.ID); code(err) != rathaus.ENOTFOUND {
					t.Errorf("expired draft still there: %v", err)
				}
			})
		})
	}
}

func TestSubmitAfterClose(t *testing.T) {
	e := newEnv(t, "sqlite", submission.Options{})
	if !e.svc.GroupCommit() {
		t.Fatal("group commit is not on by default for SQLite")
	}
	e.svc.Close()
	if _, err := e.svc.Submit(context.Background(), request(darmstadt, "late")); code(err) != rathaus.EUNAVAILABLE {
		t.Errorf("Submit after Close = %v, want unavailable", err)
	}
}

// TestReferenceTakenInBatch: when the reference drawn for an intake is
// already taken by another application, the store draws a new one inside
// the batch's transaction — the batch commits, the application and its
// audit entry carry the new reference, and the application that had it
// keeps it.
func TestReferenceTakenInBatch(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, submission.Options{})
			ctx := context.Background()
			first, err := e.svc.Submit(ctx, request(darmstadt, "first"))
			if err != nil {
				t.Fatal(err)
			}
			taken := first.Application.Reference
			intake := func(key, ref string) *submission.Intake {
				id := submission.NewID()
				return &submission.Intake{
					App: &submission.Application{Tenant: darmstadt, ID: id, Reference: ref, ServiceKey: "99050012104000",
						FormID: "F1", FormVersion: "1", SealedAnswers: []byte("sealed"), Status: "submitted",
						SubmittedAt: time.Now(), IdempotencyKey: key},
					Audit: audit.Entry{Tenant: darmstadt, Actor: "anonymous", Action: "application.submit", Object: "application/" + id,
						Details: map[string]string{"reference": ref}},
					Jobs: []submission.Job{{Kind: submission.JobDeliverySend, Args: submission.JobArgs{Tenant: darmstadt, ApplicationID: id}}},
				}
			}
			clash := intake("clash", taken)
			other := intake("other", submission.NewReference("DA", 2026))
			if err := e.store.CreateApplications(ctx, []*submission.Intake{clash, other}); err != nil {
				t.Fatalf("batch with a taken reference: %v, want it committed with a new reference", err)
			}
			got := clash.App.Reference
			if got == taken || got[:len(got)-9] != taken[:len(taken)-9] {
				t.Fatalf("reference %q after the clash with %q: want a new one of the same prefix and year", got, taken)
			}
			if a, err := e.store.ApplicationByReference(ctx, darmstadt, got); err != nil || a.ID != clash.App.ID {
				t.Errorf("ApplicationByReference(%q) = %v, %v; want the clashing intake", got, a, err)
			}
			if a, err := e.store.ApplicationByReference(ctx, darmstadt, taken); err != nil || a.ID != first.Application.ID {
				t.Errorf("ApplicationByReference(%q) = %v, %v; want the first application", taken, a, err)
			}
			if _, err := e.store.Application(ctx, darmstadt, other.App.ID); err != nil {
				t.Errorf("the other intake of the batch: %v", err)
			}
			if n := e.count(t, `SELECT count(*) FROM audit_log WHERE object = ? AND details LIKE ?`, "application/"+clash.App.ID, "%"+got+"%"); n != 1 {
				t.Errorf("%d audit entries of the clashing intake with its new reference, want 1", n)
			}
			if seq, reason, err := audit.Verify(ctx, e.db.Audit()); seq != 0 || err != nil {
				t.Errorf("audit chain broken at %d: %s %v", seq, reason, err)
			}
		})
	}
}
