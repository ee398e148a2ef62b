// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/identity"
	"rathaus/mailbox"
	"rathaus/sqlstore"
	"rathaus/vault"
	"rathaus/web"
	"rathaus/web/webtest"
)

// deskApps is an in-memory application source for the desk tests.
type deskApps struct {
	mu sync.Mutex
	m  map[string]*worker.Application
}

func (a *deskApps) Application(ctx context.Context, tenant, id string) (*worker.Application, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if app := a.m[tenant+"/"+id]; app != nil {
		return app, nil
	}
	return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no application")
}

type deskFixture struct {
	*fixture
	w     *worker.Worker
	apps  *deskApps
	staff *http.Cookie
	now   time.Time
	mb    *mailbox.Service
	user  string // applicant of the submitted applications
}

// deskMailRef lets the desk be registered with its mailbox before the
// fixture's store (and so the mailbox) exists.
type deskMailRef struct{ mb *mailbox.Service }

func (r *deskMailRef) Thread(ctx context.Context, tenant, applicationID string) ([]mailbox.Message, error) {
	return r.mb.Thread(ctx, tenant, applicationID)
}

func (r *deskMailRef) Attachment(ctx context.Context, userID, id string, n int) (*mailbox.Message, *mailbox.Attachment, error) {
	return r.mb.Attachment(ctx, userID, id, n)
}

// newDeskFixture is the portal with the desk over a real store: the
// process posts into a real mailbox (vault-sealed), a citizen's reply is
// delivered to the process as in serve, and the desk reads the mailbox
// (df.mb). Applications have an account (and so a mailbox) when df.user
// is set.
func newDeskFixture(t *testing.T, dialect string) *deskFixture {
	t.Helper()
	ref := &deskMailRef{}
	desk := &web.Desk{Mail: ref, MailFixture: func(ctx context.Context, ars, id, secret string) error {
		return web.MailIsolationFixture(ref.mb)(ctx, ars, id, secret)
	}}
	f := newFixture(t, dialect, web.Config{}, option{deps: func(d *web.Deps) { d.Features = append(d.Features, desk) }})
	df := &deskFixture{fixture: f, apps: &deskApps{m: map[string]*worker.Application{}}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	opts := worker.Options{DB: f.db, Applications: df.apps, Now: func() time.Time { return df.now }}
	mk, _, err := vault.GenerateMasterKey()
	must(t, err)
	df.mb, err = mailbox.New(mailbox.Options{DB: f.db, Sealer: vault.New(f.db.VaultKeys(), mk), Now: func() time.Time { return df.now }})
	must(t, err)
	ref.mb = df.mb
	opts.Mailbox = mailbox.WorkerAdapter{Service: df.mb}
	w, err := worker.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	df.w = w
	desk.Service, desk.Fixture, desk.Now = w, w.IsolationFixture, func() time.Time { return df.now }
	df.mb.OnReply = mailbox.AnsweredHook(w.CitizenAnswered)
	df.staff = f.login(identity.KindStaff, "staff-a", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
	return df
}

func (df *deskFixture) submit(t *testing.T, ars, id, ref string, answers map[string]any) {
	t.Helper()
	df.apps.mu.Lock()
	df.apps.m[ars+"/"+id] = &worker.Application{Tenant: ars, ID: id, Reference: ref, ServiceKey: keyAusweis, Title: "Personalausweis beantragen",
		SubmittedAt: df.now, Answers: answers, ApplicantUserID: df.user}
	df.apps.mu.Unlock()
	if _, err := df.w.StartCase(context.Background(), ars, id); err != nil {
		t.Fatal(err)
	}
	if err := df.w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestDeskInboxAndCase works a case through the desk without JavaScript:
// inbox with filters and the overdue mark, the case page with answers,
// claim, request information, decide, the notice download (audited).
func TestDeskInboxAndCase(t *testing.T) {
	df := newDeskFixture(t, sqlstore.SQLite)
	df.submit(t, arsDarmstadt, "app-1", "DA-2026-0001", map[string]any{"vorname": "Erika", "nachname": "Mustermann"})
	df.now = df.now.Add(40 * 24 * time.Hour) // the first case is overdue now
	df.submit(t, arsDarmstadt, "app-2", "DA-2026-0002", nil)
	df.submit(t, arsKassel, "app-3", "KS-2026-0003", nil)

	res := df.get("/verwaltung/faelle", df.staff)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("inbox: %d %s", res.StatusCode, res.body)
	}
	for _, want := range []string{"DA-2026-0001", "DA-2026-0002", "überfällig", "2 Vorgänge"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("inbox lacks %q", want)
		}
	}
	if strings.Contains(res.body, "KS-2026-0003") {
		t.Error("inbox shows a case of Kassel")
	}
	if res := df.get("/verwaltung/faelle?lang=en", df.staff); !strings.Contains(res.body, "<h1>Cases</h1>") || !strings.Contains(res.body, "overdue") {
		t.Error("English inbox")
	}
	if res := df.get("/verwaltung/faelle?ars="+arsKassel, df.staff); res.StatusCode != http.StatusForbidden {
		t.Errorf("inbox of Kassel: %d", res.StatusCode)
	}
	if res := df.get("/verwaltung/faelle?overdue=1", df.staff); !strings.Contains(res.body, "DA-2026-0001") || strings.Contains(res.body, "DA-2026-0002") {
		t.Error("overdue filter")
	}
	if res := df.get("/verwaltung/faelle?due=2026-04-10", df.staff); !strings.Contains(res.body, "DA-2026-0001") || strings.Contains(res.body, "DA-2026-0002") {
		t.Error("due filter")
	}
	if res := df.get("/verwaltung/faelle?due=morgen", df.staff); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad due: %d", res.StatusCode)
	}
	if res := df.get("/verwaltung/faelle?sort=nope", df.staff); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad sort: %d", res.StatusCode)
	}

	base := "/verwaltung/faelle/" + arsDarmstadt + "/app-1"
	res = df.get(base, df.staff)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Mustermann") || !strings.Contains(res.body, "Vollständigkeit prüfen") {
		t.Fatalf("case page: %d", res.StatusCode)
	}
	if !strings.Contains(res.body, `aria-describedby="r-deadline-hint"`) || !strings.Contains(res.body, "Ohne Angabe 14 Tage. Zur Hälfte der Frist erinnert") {
		t.Error("case page: the deadline field does not say the default and the reminder")
	}
	post := func(action string, kv ...string) response {
		t.Helper()
		r := df.do(http.MethodPost, base+"/"+action, form(kv...), []*http.Cookie{df.staff}, nil)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", action, r.StatusCode, r.body)
		}
		if err := df.w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	post("claim")
	if res := df.get("/verwaltung/faelle?assignee=me", df.staff); !strings.Contains(res.body, "DA-2026-0001") || strings.Contains(res.body, "DA-2026-0002") {
		t.Error("assignee=me filter")
	}
	post("note", "text", "Rückruf vereinbart")
	post("request", "message", "Bitte Lichtbild nachreichen.", "deadline", "2026-04-30")
	if c, _ := df.w.Cases.Case(context.Background(), arsDarmstadt, "app-1"); c.Status != casework.StatusWaiting {
		t.Errorf("after request: %+v", c)
	}
	if r := df.do(http.MethodPost, base+"/decide", form("decision", "approve", "reason", ""), []*http.Cookie{df.staff}, nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("decision without reason: %d", r.StatusCode)
	}
	if err := df.w.CitizenAnswered(context.Background(), arsDarmstadt, "app-1", "citizen"); err != nil {
		t.Fatal(err)
	}
	if err := df.w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	post("decide", "decision", "approve", "reason", "Voraussetzungen erfüllt.")
	res = df.get(base, df.staff)
	for _, want := range []string{"abgeschlossen", "Rückruf vereinbart", "Bitte Lichtbild nachreichen.", "Bewilligt: Voraussetzungen erfüllt.", "dateien/doc:"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	i := strings.Index(res.body, "dateien/doc:")
	link := res.body[strings.LastIndex(res.body[:i], `"`)+1 : i+strings.Index(res.body[i:], `"`)]
	doc := df.get(link, df.staff)
	if doc.StatusCode != http.StatusOK || doc.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(doc.body, "%PDF-") {
		t.Errorf("document %s: %d %s", link, doc.StatusCode, doc.Header.Get("Content-Type"))
	}
	if cd, csp := doc.Header.Get("Content-Disposition"), doc.Header.Get("Content-Security-Policy"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(csp, "sandbox") {
		t.Errorf("document %s: Content-Disposition %q, Content-Security-Policy %q: want an attachment in a sandbox", link, cd, csp)
	}
	seen := map[string]bool{}
	_ = df.db.Audit().Walk(context.Background(), func(e audit.Entry) error {
		if e.Object == "case/app-1" {
			seen[e.Action] = true
		}
		return nil
	})
	for _, a := range []string{"case.view", "case.document", "case.claim", "case.note", "case.request_information", "case.decide"} {
		if !seen[a] {
			t.Errorf("no audit entry %s", a)
		}
	}
	citizen := df.login(identity.KindCitizen, "citizen-a", identity.LoASubstantial)
	if res := df.get(base, citizen); res.StatusCode != http.StatusForbidden {
		t.Errorf("citizen on the desk: %d", res.StatusCode)
	}
}

// TestDeskIsolation runs the tenant-isolation probes of every desk route.
func TestDeskIsolation(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			df := newDeskFixture(t, d)
			p, err := df.sessions.Load(context.Background(), requestWithCookie(df.staff))
			if err != nil {
				t.Fatal(err)
			}
			fx := &web.IsolationFixture{A: arsDarmstadt, B: arsKassel, Tenants: df.db.Tenants(), Catalog: df.db.Catalog(), Identity: df.db.Identity(), Principal: p}
			webtest.CheckDeclared(t, df.srv.Routes())
			if n := webtest.CheckIsolation(t, df.ts.URL, df.srv.Routes(), fx, webtest.Users{Staff: []*http.Cookie{df.staff}}); n < 9 {
				t.Errorf("isolation probed %d routes, want the portal's and 8 of the desk", n)
			}
		})
	}
}

// TestDeskCorrespondence: the caseworker requests information, the
// citizen replies in the Postfach with a text and a PDF; the case page
// shows the request, the reply's text and its attachment, the history
// names the applicant (no raw user id); the download is decrypted,
// audited, and refused for another tenant's caseworker, another case's
// path and a missing attachment; after the decision the status reads
// "bewilligt".
func TestDeskCorrespondence(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			df := newDeskFixture(t, d)
			citizen, err := df.db.Identity().UpsertUser(ctx, identity.User{Kind: identity.KindCitizen, Issuer: "https://idp.test", Subject: "buergerin", Name: "Erika Mustermann"})
			must(t, err)
			df.user = citizen.ID
			df.submit(t, arsDarmstadt, "app-1", "DA-2026-0001", map[string]any{"vorname": "Erika"})
			df.submit(t, arsDarmstadt, "app-2", "DA-2026-0002", map[string]any{"vorname": "Erika"})
			base := "/verwaltung/faelle/" + arsDarmstadt + "/app-1"
			post := func(action string, kv ...string) {
				t.Helper()
				if r := df.do(http.MethodPost, base+"/"+action, form(kv...), []*http.Cookie{df.staff}, nil); r.StatusCode != http.StatusSeeOther {
					t.Fatalf("%s: %d %s", action, r.StatusCode, r.body)
				}
				must(t, df.w.Drain(ctx))
			}
			if res := df.get(base, df.staff); res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Schriftverkehr") {
				t.Fatalf("case page before the request: %d, correspondence section missing", res.StatusCode)
			}
			post("request", "message", "Bitte Lichtbild nachreichen.", "deadline", "2026-04-30")
			msgs, err := df.mb.Messages(ctx, citizen.ID)
			must(t, err)
			var request string
			for _, m := range msgs {
				if m.Kind == mailbox.KindRequest && m.ApplicationID == "app-1" {
					request = m.ID
				}
			}
			if request == "" {
				t.Fatalf("no request in the citizen's mailbox: %+v", msgs)
			}
			reply, err := df.mb.Reply(ctx, citizen.ID, request, "Anbei das Lichtbild, freundliche Grüße.", []mailbox.Upload{{Filename: "lichtbild.pdf", Data: testPDF}})
			must(t, err)
			must(t, df.w.Drain(ctx))

			res := df.get(base, df.staff)
			for _, want := range []string{"Bitte Lichtbild nachreichen.", "Anbei das Lichtbild, freundliche Grüße.", "lichtbild.pdf",
				"Antwort der antragstellenden Person", "Antragstellende Person", "Frist: 30.04.2026"} {
				if !strings.Contains(res.body, want) {
					t.Errorf("case page lacks %q", want)
				}
			}
			if strings.Contains(res.body, citizen.ID) {
				t.Errorf("case page shows the raw user id %s", citizen.ID)
			}
			link := base + "/post/2/1" // the request is the first message, the reply the second
			if !strings.Contains(res.body, `href="`+link+`"`) {
				t.Fatalf("case page lacks the download link %s", link)
			}
			if en := df.get(base+"?lang=en", df.staff); !strings.Contains(en.body, "Correspondence with the applicant") || !strings.Contains(en.body, "Reply of the applicant") {
				t.Error("English case page lacks the correspondence")
			}

			dl := df.get(link, df.staff)
			if dl.StatusCode != http.StatusOK || dl.body != string(testPDF) || dl.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("download: %d %q %s", dl.StatusCode, dl.Header.Get("Content-Type"), dl.body)
			}
			if cd, csp := dl.Header.Get("Content-Disposition"), dl.Header.Get("Content-Security-Policy"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(csp, "sandbox") {
				t.Errorf("download headers: %q %q", cd, csp)
			}
			audited := func() int {
				n := 0
				_ = df.db.Audit().Walk(ctx, func(e audit.Entry) error {
					if e.Action == "case.mail_attachment" && e.Object == "case/app-1" && e.Tenant == arsDarmstadt && e.Details["message"] == reply.ID {
						n++
					}
					return nil
				})
				return n
			}
			if n := audited(); n != 1 {
				t.Errorf("audit entries case.mail_attachment: %d, want 1", n)
			}

			kassel := df.login(identity.KindStaff, "staff-kassel", identity.LoASubstantial, identity.Grant{Tenant: arsKassel, Role: identity.RoleCaseworker})
			for _, c := range []struct {
				name   string
				path   string
				cookie *http.Cookie
			}{
				{"caseworker of another tenant", link, kassel},
				{"the message under another case", "/verwaltung/faelle/" + arsDarmstadt + "/app-2/post/2/1", df.staff},
				{"the message under another tenant's path", "/verwaltung/faelle/" + arsKassel + "/app-1/post/2/1", df.staff},
				{"missing attachment", base + "/post/2/2", df.staff},
				{"attachment zero", base + "/post/2/0", df.staff},
				{"message without attachments", base + "/post/1/1", df.staff},
				{"unknown message", base + "/post/3/1", df.staff},
				{"message zero", base + "/post/0/1", df.staff},
				{"message not a number", base + "/post/x/1", df.staff},
			} {
				t.Run(c.name, func(t *testing.T) {
					r := df.get(c.path, c.cookie)
					if r.StatusCode != http.StatusNotFound || strings.Contains(r.body, "%PDF") {
						t.Errorf("%s: %d, want 404 without the file", c.path, r.StatusCode)
					}
				})
			}
			if n := audited(); n != 1 {
				t.Errorf("refused downloads were audited: %d entries, want 1", n)
			}

			post("decide", "decision", "approve", "reason", "Voraussetzungen erfüllt.")
			res = df.get(base, df.staff)
			if !strings.Contains(res.body, "abgeschlossen – bewilligt") || strings.Contains(res.body, "abgeschlossen – bewilligen") {
				t.Errorf("status after the decision does not read \"abgeschlossen – bewilligt\"")
			}
		})
	}
}
