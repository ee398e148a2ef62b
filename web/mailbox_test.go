// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"rathaus/casework"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/mailbox"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/vault"
	"rathaus/web"
	"rathaus/web/webtest"
)

var testPDF = []byte("%PDF-1.4\n% Bescheid Wohngeld\n1 0 obj<<>>endobj\n%%EOF\n")

// mailboxFixture is the portal with the mailbox feature over a real store.
type mailboxFixture struct {
	*fixture
	mb      *mailbox.Service
	replies []string // application ids OnReply saw
}

func newMailboxFixture(t *testing.T, dialect string) *mailboxFixture {
	t.Helper()
	db := sqltest.Open(t, dialect)
	seed(t, db)
	mk, _, err := vault.GenerateMasterKey()
	must(t, err)
	mb, err := mailbox.New(mailbox.Options{DB: db, Sealer: vault.New(db.VaultKeys(), mk)})
	must(t, err)
	mf := &mailboxFixture{mb: mb}
	mb.OnReply = func(ctx context.Context, tx *sql.Tx, r *mailbox.Message) error {
		mf.replies = append(mf.replies, r.ApplicationID)
		return nil
	}
	mgr := session.NewManager(db.Identity(), session.Options{})
	n := 0
	srv, err := web.New(web.Config{}, web.Deps{Tenants: db.Tenants(), Catalog: db.Catalog(), Identity: db.Identity(), Sessions: mgr.Middleware,
		Features: []web.Feature{web.MailboxFeature{Mailbox: mb, SeedApplication: func(ctx context.Context, ars, userID string) (string, string, error) {
			n++
			app := testApplication(ars, userID, n)
			return app.ID, app.Reference, db.SubmissionStore(nil).CreateApplications(ctx, []*submission.Intake{{App: app}})
		}}}})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	mf.fixture = &fixture{t: t, db: db, srv: srv, ts: ts, sessions: mgr}
	return mf
}

func testApplication(ars, userID string, n int) *submission.Application {
	ref := []string{"", "DA-2026-7K3M-9QXT", "KS-2026-4HJW-2PZR", "DA-2026-8ABC-3DEF", "DA-2026-9GHK-4LMN"}[n%5]
	return &submission.Application{Tenant: ars, ID: "0190aaaa-0000-7000-8000-00000000000" + string(rune('0'+n)), Reference: ref,
		ServiceKey: keyAusweis, FormID: "f", FormVersion: "1", ApplicantUserID: userID, SealedAnswers: []byte("x"),
		Status: "submitted", SubmittedAt: time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Microsecond), IdempotencyKey: "idem-" + ref}
}

func (f *mailboxFixture) userID(c *http.Cookie) string {
	f.t.Helper()
	s, err := f.db.Identity().Session(context.Background(), c.Value)
	must(f.t, err)
	return s.UserID
}

func (f *mailboxFixture) post(m mailbox.Message) *mailbox.Message {
	f.t.Helper()
	out, err := f.mb.Send(context.Background(), m)
	must(f.t, err)
	return out
}

// multipartReply builds a reply form with text and files.
func multipartReply(t *testing.T, text string, files map[string][]byte) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	must(t, w.WriteField("text", text))
	for name, data := range files {
		fw, err := w.CreateFormFile("anhang", name)
		must(t, err)
		_, _ = fw.Write(data)
	}
	must(t, w.Close())
	return b.String(), w.FormDataContentType()
}

func TestMailboxPages(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f := newMailboxFixture(t, d)
			ctx := context.Background()
			erika := f.login(identity.KindCitizen, "erika", identity.LoASubstantial)
			max := f.login(identity.KindCitizen, "max", identity.LoASubstantial)
			uid := f.userID(erika)
			app := testApplication(arsDarmstadt, uid, 1)
			must(t, f.db.SubmissionStore(nil).CreateApplications(ctx, []*submission.Intake{{App: app}}))
			c := &casework.Case{Tenant: arsDarmstadt, ID: app.ID, Reference: app.Reference, ServiceKey: keyAusweis, Title: "Personalausweis beantragen",
				Status: casework.StatusWaiting, Applicant: uid, CreatedAt: app.SubmittedAt, UpdatedAt: time.Now().UTC()}
			must(t, f.db.Cases().PutCase(ctx, c))
			must(t, f.db.Cases().Append(ctx,
				casework.Entry{Tenant: arsDarmstadt, CaseID: app.ID, At: app.SubmittedAt, Actor: "system", Kind: casework.KindStep, Text: "Antrag eingegangen (" + app.Reference + ")"},
				casework.Entry{Tenant: arsDarmstadt, CaseID: app.ID, At: time.Now().UTC(), Actor: "sb", Kind: casework.KindNote, Text: "Interne Notiz: Rückruf"},
			))
			deadline := time.Date(2031, 4, 15, 22, 0, 0, 0, time.UTC)
			req := f.post(mailbox.Message{Tenant: arsDarmstadt, UserID: uid, ApplicationID: app.ID, Kind: mailbox.KindRequest,
				Subject: "Nachforderung zu Ihrem Antrag " + app.Reference, Body: "Bitte reichen Sie ein aktuelles Lichtbild nach.", DueAt: &deadline})
			notice := f.post(mailbox.Message{Tenant: arsDarmstadt, UserID: uid, ApplicationID: app.ID, Kind: mailbox.KindNotice,
				Subject: "Bescheid zu Ihrem Antrag " + app.Reference, Body: "Anbei erhalten Sie Ihren Bescheid.",
				Attachments: []mailbox.Attachment{{Filename: "Bescheid Wohngeld.pdf", MediaType: "application/pdf", Data: testPDF}}})

			// Anonymous visitors are sent to the login.
			if res := f.get("/postfach"); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/auth/login") {
				t.Errorf("anonymous /postfach: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			res := f.get("/postfach", erika)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("/postfach: %d", res.StatusCode)
			}
			for _, want := range []string{`<li><a href="/postfach">Postfach</a></li>`, "Ungelesene Nachrichten: 2", "Personalausweis beantragen – Antrag " + app.Reference, req.Subject, notice.Subject, "Frist: 15.04.2031", "Ungelesen:"} {
				if !strings.Contains(res.body, want) {
					t.Errorf("/postfach lacks %q", want)
				}
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", res.Header.Get("Cache-Control"))
			}
			// Max sees an empty mailbox and none of Erika's messages.
			other := f.get("/postfach", max)
			if !strings.Contains(other.body, "Ihr Postfach ist leer") || strings.Contains(other.body, app.Reference) {
				t.Errorf("another citizen's mailbox shows Erika's messages")
			}
			for _, p := range []string{"/postfach/" + notice.ID, "/postfach/" + notice.ID + "/anhang/1", "/antraege/" + app.ID} {
				r := f.get(p, max)
				if r.StatusCode != http.StatusNotFound || strings.Contains(r.body, "Bescheid") && strings.Contains(r.body, app.Reference) {
					t.Errorf("GET %s as another citizen: %d", p, r.StatusCode)
				}
			}

			// Opening the notice marks it read and lists its PDF.
			res = f.get("/postfach/"+notice.ID, erika)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Anbei erhalten Sie Ihren Bescheid.") || !strings.Contains(res.body, "/postfach/"+notice.ID+"/anhang/1") {
				t.Fatalf("notice page: %d\n%s", res.StatusCode, res.body)
			}
			if res := f.get("/postfach", erika); !strings.Contains(res.body, "Ungelesene Nachrichten: 1") {
				t.Error("unread count did not drop after reading")
			}
			res = f.get("/postfach/"+notice.ID+"/anhang/1", erika)
			if res.StatusCode != http.StatusOK || res.body != string(testPDF) || res.Header.Get("Content-Type") != "application/pdf" ||
				!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
				t.Errorf("attachment: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
			}
			for _, p := range []string{"/postfach/" + notice.ID + "/anhang/2", "/postfach/" + notice.ID + "/anhang/x", "/postfach/unbekannt"} {
				if r := f.get(p, erika); r.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
				}
			}

			// Status page: waiting for the citizen, with the deadline; no internal notes.
			res = f.get("/antraege/"+app.ID, erika)
			for _, want := range []string{"wartet auf Ihre Angaben", "Bitte reichen Sie ein aktuelles Lichtbild nach.", "Frist: 15.04.2031", "Antrag eingegangen (" + app.Reference + ")", "/postfach/" + req.ID + "#antwort"} {
				if !strings.Contains(res.body, want) {
					t.Errorf("status page lacks %q", want)
				}
			}
			if strings.Contains(res.body, "Interne Notiz") {
				t.Error("status page shows an internal note")
			}
			if res := f.get("/antraege", erika); !strings.Contains(res.body, app.Reference) || !strings.Contains(res.body, "Bitte antworten Sie bis 15.04.2031") {
				t.Errorf("/antraege:\n%s", res.body)
			}

			// A reply with a file that is not what it claims is refused with the reason; the text stays.
			body, ct := multipartReply(t, "Hier das Lichtbild.", map[string][]byte{"foto.png": []byte("<html>kein Bild</html>")})
			res = f.do(http.MethodPost, "/postfach/"+req.ID+"/antwort", "", []*http.Cookie{erika}, nil)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("empty reply: %d, want 422", res.StatusCode)
			}
			res = f.doRaw(http.MethodPost, "/postfach/"+req.ID+"/antwort", body, ct, erika)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "nur PDF, JPEG oder PNG") || !strings.Contains(res.body, "Hier das Lichtbild.") {
				t.Errorf("bad file: %d\n%s", res.StatusCode, res.body)
			}
			// Max cannot reply to Erika's request.
			body, ct = multipartReply(t, "fremd", nil)
			if res := f.doRaw(http.MethodPost, "/postfach/"+req.ID+"/antwort", body, ct, max); res.StatusCode != http.StatusNotFound {
				t.Errorf("reply as another citizen: %d", res.StatusCode)
			}
			body, ct = multipartReply(t, "Hier das Lichtbild.", map[string][]byte{"lichtbild.jpg": {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3}})
			res = f.doRaw(http.MethodPost, "/postfach/"+req.ID+"/antwort", body, ct, erika)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("reply: %d\n%s", res.StatusCode, res.body)
			}
			res = f.get(res.Header.Get("Location"), erika)
			if !strings.Contains(res.body, "Ihre Antwort wurde gesendet.") || !strings.Contains(res.body, "lichtbild.jpg") || !strings.Contains(res.body, "image/jpeg") {
				t.Errorf("reply page:\n%s", res.body)
			}
			if len(f.replies) != 1 || f.replies[0] != app.ID {
				t.Errorf("OnReply saw %v", f.replies)
			}
			if res := f.get("/antraege/"+app.ID, erika); !strings.Contains(res.body, "Zurzeit nichts") {
				t.Error("status still expects an answer after the reply")
			}
			// Closed: the status says "abgeschlossen".
			c.Status, c.Decision = casework.StatusClosed, casework.DecisionApprove
			must(t, f.db.Cases().PutCase(ctx, c))
			res = f.get("/antraege/"+app.ID, erika)
			if !strings.Contains(res.body, `<strong id="status-state">abgeschlossen</strong> – bewilligt`) {
				t.Errorf("closed status page:\n%s", res.body)
			}
			if res := f.get("/antraege/"+app.ID+"?lang=en", erika); !strings.Contains(res.body, "closed") || !strings.Contains(res.body, "What we need from you") {
				t.Error("English status page")
			}
		})
	}
}

// TestMailboxReplyRateLimit: replies share the per-IP token bucket of the
// login routes (APP.3.1 A7): a burst of replies ends in 429.
func TestMailboxReplyRateLimit(t *testing.T) {
	f := newMailboxFixture(t, sqlstore.SQLite)
	erika := f.login(identity.KindCitizen, "erika", identity.LoASubstantial)
	m := f.post(mailbox.Message{Tenant: arsDarmstadt, UserID: f.userID(erika), Kind: mailbox.KindMessage, Subject: "Hallo", Body: "x"})
	sent, limited := 0, false
	for i := range 40 {
		body, ct := multipartReply(t, fmt.Sprintf("Antwort %d", i), nil)
		code := f.doRaw(http.MethodPost, "/postfach/"+m.ID+"/antwort", body, ct, erika).StatusCode
		if code == http.StatusTooManyRequests {
			limited = true
			break
		}
		if code != http.StatusSeeOther {
			t.Fatalf("reply %d: status %d", i, code)
		}
		sent++
	}
	// Burst 10, then one per 6 s: a slow machine may earn a token or two.
	if !limited || sent < 10 || sent > 15 {
		t.Errorf("%d replies accepted before 429 (limited %v), want 10 (a few more on a slow machine)", sent, limited)
	}
}

// doRaw sends a request with a body of the given content type.
func (f *fixture) doRaw(method, path, body, contentType string, cookies ...*http.Cookie) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	must(f.t, err)
	req.Header.Set("Content-Type", contentType)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	must(f.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(f.t, err)
	return response{res, string(b)}
}

// TestMailboxIsolation runs the isolation probes of the mailbox routes: a
// citizen of A asks for another citizen's messages and applications in B.
func TestMailboxIsolation(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f := newMailboxFixture(t, d)
			staffA := f.login(identity.KindStaff, "staff-a", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
			citizen := f.login(identity.KindCitizen, "citizen-a", identity.LoASubstantial)
			p, err := f.sessions.Load(context.Background(), requestWithCookie(staffA))
			if err != nil || p == nil {
				t.Fatalf("load principal: %v %v", p, err)
			}
			routes := f.srv.Routes()
			webtest.CheckDeclared(t, routes)
			fx := &web.IsolationFixture{A: arsDarmstadt, B: arsKassel, Tenants: f.db.Tenants(), Catalog: f.db.Catalog(), Identity: f.db.Identity(), Principal: p}
			if n := webtest.CheckIsolation(t, f.ts.URL, routes, fx, webtest.Users{Staff: []*http.Cookie{staffA}, Citizen: []*http.Cookie{citizen}}); n < 5 {
				t.Errorf("%d routes probed, want the 4 mailbox routes and the portal's", n)
			}
			users := map[string][]*http.Cookie{"anonymous": nil, "citizen": {citizen}, "staff": {staffA}}
			webtest.CheckHeaders(t, f.ts.URL, routes, users, false)
		})
	}
}
