// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rathaus/casework"
	"rathaus/demo"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/mailbox"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/vault"
)

// TestServeMailboxProcess runs the universal process through the fully
// wired serve --demo over HTTP, on both dialects: an application of a
// logged-in citizen starts its case (sweep), the caseworker requests
// information at the desk, the request is in the citizen's Postfach with
// its deadline, the citizen replies there, the caseworker approves, the
// notice PDF arrives in the Postfach and the status page says
// "abgeschlossen".
func TestServeMailboxProcess(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			cfg := sqltest.NewConfig(t, dialect)
			dir := t.TempDir()
			r := startServe(t, map[string]string{"RATHAUS_DATA": dir, "RATHAUS_DB": cfg.URL}, "--demo")
			ctx := context.Background()
			db := r.DB
			ids := db.Identity()
			login := func(kind identity.Kind, subject string, grants ...identity.Grant) (*http.Cookie, string) {
				t.Helper()
				u, err := ids.UpsertUser(ctx, identity.User{Kind: kind, Issuer: "https://test.invalid", Subject: subject, Name: subject})
				serveMust(t, err)
				for i := range grants {
					grants[i].UserID = u.ID
				}
				if len(grants) > 0 {
					serveMust(t, ids.SetGrants(ctx, u.ID, grants))
				}
				now := time.Now().UTC().Truncate(time.Second)
				s := identity.Session{ID: session.NewID(), UserID: u.ID, LoA: identity.LoAHigh, IdP: "https://test.invalid", AuthTime: now, ExpiresAt: now.Add(time.Hour)}
				serveMust(t, ids.CreateSession(ctx, s))
				return &http.Cookie{Name: "rathaus_session", Value: s.ID}, u.ID
			}
			citizen, citizenID := login(identity.KindCitizen, "erika")
			staff, _ := login(identity.KindStaff, "sachbearbeitung", identity.Grant{Tenant: demo.Darmstadt, Role: identity.RoleCaseworker})

			// The application, sealed with the demo key serve keeps in the data directory.
			keyText, err := os.ReadFile(filepath.Join(dir, demoMasterKeyFile))
			serveMust(t, err)
			mk, err := vault.ParseMasterKey(strings.TrimSpace(string(keyText)))
			serveMust(t, err)
			v := vault.New(db.VaultKeys(), mk)
			id, ref := submission.NewID(), submission.NewReference("DA", 2026)
			answers, _ := json.Marshal(map[string]any{"name": "Erika Mustermann"})
			sealed, err := v.Seal(ctx, demo.Darmstadt, answers, []byte(id))
			serveMust(t, err)
			serveMust(t, db.SubmissionStore(nil).CreateApplications(ctx, []*submission.Intake{{App: &submission.Application{
				Tenant: demo.Darmstadt, ID: id, Reference: ref, ServiceKey: demo.KeyWohngeld, FormID: submission.UniversalFormID, FormVersion: submission.UniversalFormVersion,
				ApplicantUserID: citizenID, LoA: identity.LoAHigh, SealedAnswers: sealed, Status: "submitted",
				SubmittedAt: time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond), IdempotencyKey: "flow-" + id}}}))

			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			send := func(method, path, body, ct string, c *http.Cookie) (int, string) {
				t.Helper()
				req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
				serveMust(t, err)
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				req.AddCookie(c)
				res, err := client.Do(req)
				serveMust(t, err)
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			waitFor := func(what string, ok func() bool) {
				t.Helper()
				for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
					if ok() {
						return
					}
				}
				t.Fatalf("timed out waiting for %s", what)
			}
			caseStatus := func() string {
				c, err := db.Cases().Case(ctx, demo.Darmstadt, id)
				if err != nil {
					return ""
				}
				return c.Status
			}
			desk := "/verwaltung/faelle/" + demo.Darmstadt + "/" + url.PathEscape(id)
			form := "application/x-www-form-urlencoded"

			waitFor("the case", func() bool { return caseStatus() == casework.StatusNew })
			if code, body := send(http.MethodPost, desk+"/request", url.Values{"message": {"Bitte reichen Sie Ihre Mietbescheinigung nach."}, "deadline": {"2030-05-31"}}.Encode(), form, staff); code >= 400 {
				t.Fatalf("request information: %d\n%s", code, body)
			}
			var request *mailbox.Message
			mb, err := mailbox.New(mailbox.Options{DB: db, Sealer: v})
			serveMust(t, err)
			waitFor("the request in the Postfach", func() bool {
				ms, _ := mb.Messages(ctx, citizenID)
				for i := range ms {
					if ms[i].Kind == mailbox.KindRequest {
						request = &ms[i]
					}
				}
				return request != nil
			})
			if code, body := send(http.MethodGet, "/postfach", "", "", citizen); code != 200 || !strings.Contains(body, "Frist: 31.05.2030") || !strings.Contains(body, ref) {
				t.Errorf("Postfach: %d\n%s", code, body)
			}
			if _, body := send(http.MethodGet, "/antraege/"+id, "", "", citizen); !strings.Contains(body, "wartet auf Ihre Angaben") || !strings.Contains(body, "Mietbescheinigung") {
				t.Errorf("status while waiting:\n%s", body)
			}

			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			_ = w.WriteField("text", "Die Mietbescheinigung hängt an.")
			fw, _ := w.CreateFormFile("anhang", "miete.pdf")
			_, _ = fw.Write([]byte("%PDF-1.4\n% Mietbescheinigung\n%%EOF\n"))
			_ = w.Close()
			if code, body := send(http.MethodPost, "/postfach/"+request.ID+"/antwort", b.String(), w.FormDataContentType(), citizen); code != http.StatusSeeOther {
				t.Fatalf("reply: %d\n%s", code, body)
			}
			waitFor("the case back at the check", func() bool { s := caseStatus(); return s != casework.StatusWaiting && s != "" })

			if code, body := send(http.MethodPost, desk+"/decide", url.Values{"decision": {"approve"}, "reason": {"Alle Voraussetzungen erfüllt."}}.Encode(), form, staff); code >= 400 {
				t.Fatalf("decide: %d\n%s", code, body)
			}
			waitFor("the case closed", func() bool { return caseStatus() == casework.StatusClosed })
			var notice *mailbox.Message
			waitFor("the notice in the Postfach", func() bool {
				ms, _ := mb.Messages(ctx, citizenID)
				for i := range ms {
					if ms[i].Kind == mailbox.KindNotice && len(ms[i].Attachments) > 0 {
						notice = &ms[i]
					}
				}
				return notice != nil
			})
			if code, pdf := send(http.MethodGet, "/postfach/"+notice.ID+"/anhang/1", "", "", citizen); code != 200 || !strings.HasPrefix(pdf, "%PDF-") {
				t.Errorf("notice PDF: %d %.20q", code, pdf)
			}
			if _, body := send(http.MethodGet, "/antraege/"+id, "", "", citizen); !strings.Contains(body, `<strong id="status-state">abgeschlossen</strong>`) {
				t.Errorf("final status page:\n%s", body)
			}
		})
	}
}
