// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"rathaus/fim"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/internal/testenv"
	"rathaus/jobs"
	"rathaus/scan"
	"rathaus/scan/scantest"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/vault"
	"rathaus/web"
	"rathaus/web/webtest"
)

// antragFixture is the portal with the online applications on a real store.
type antragFixture struct {
	*fixture
	store *sqlstore.SubmissionStore
	svc   *submission.Service
	feat  web.FormFeature
}

// newAntragFixture builds the seeded portal with the FormFeature; scanner
// nil means scan.Nop.
func newAntragFixture(t *testing.T, dialect string, scanner scan.Scanner) *antragFixture {
	t.Helper()
	db := sqltest.Open(t, dialect)
	seed(t, db)
	srv, ts, mgr, store, svc, feat := buildAntrag(t, db, scanner)
	return &antragFixture{fixture: &fixture{t: t, db: db, srv: srv, ts: ts, sessions: mgr}, store: store, svc: svc, feat: feat}
}

// testOnSubmitted becomes FormFeature.OnSubmitted of fixtures built while set.
var testOnSubmitted func(ctx context.Context, app *submission.Application, pdf []byte) error

// buildAntrag wires the intake (River queue, vault, group commit) and the
// portal with the FormFeature over db.
func buildAntrag(t testing.TB, db *sqlstore.DB, scanner scan.Scanner) (*web.Server, *httptest.Server, *session.Manager, *sqlstore.SubmissionStore, *submission.Service, web.FormFeature) {
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
	v := vault.New(db.VaultKeys(), master)
	store := db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	})
	svc := submission.New(store, v, submission.Options{})
	t.Cleanup(func() { svc.Close() })
	feat := web.FormFeature{Intake: svc, Forms: db.Forms(), Sealer: v, Scanner: scanner, Store: store, OnSubmitted: testOnSubmitted}
	mgr := session.NewManager(db.Identity(), session.Options{})
	srv, err := web.New(web.Config{BaseURL: "http://rathaus.test", Logger: slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelError}))}, web.Deps{
		Tenants: db.Tenants(), Catalog: db.Catalog(), Identity: db.Identity(), Sessions: mgr.Middleware, Ready: db.Ping,
		Auth:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "auth stub") }),
		HasForm:  func(string) bool { return true },
		Features: []web.Feature{feat},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts, mgr, store, svc, feat
}

// tlog writes server errors into the test log.
type tlog struct{ t testing.TB }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(strings.TrimSpace(string(p))); return len(p), nil }

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string, cookies ...*http.Cookie) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	jar.SetCookies(u, append([]*http.Cookie{{Name: "municipality", Value: arsDarmstadt, Path: "/"}}, cookies...))
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res, string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.send(req)
}

func (b *browser) post(path string, vals url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

// upload posts a multipart step with one file.
func (b *browser) upload(path string, vals url.Values, field, filename, mediaType string, content []byte) response {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range vals {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	h.Set("Content-Type", mediaType)
	w, _ := mw.CreatePart(h)
	_, _ = w.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.send(req)
}

func location(t *testing.T, r response, want int) string {
	t.Helper()
	if r.StatusCode != want {
		body := r.body
		if i := strings.Index(body, `<main`); i > 0 {
			body = body[i:]
		}
		t.Fatalf("status %d, want %d: %.1500s", r.StatusCode, want, body)
	}
	return r.Header.Get("Location")
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// universalJourney fills the universal form up to the check page and
// returns the step base path.
func universalJourney(t *testing.T, b *browser) string {
	t.Helper()
	if r := b.get("/antrag/" + keyHund); r.StatusCode != 200 || !strings.Contains(r.body, "Hundesteuer anmelden") {
		t.Fatalf("start page: %d %.300s", r.StatusCode, r.body)
	}
	step1 := location(t, b.post("/antrag/"+keyHund, url.Values{}), http.StatusSeeOther)
	base := strings.TrimSuffix(step1, "/1")
	r := b.get(step1)
	if r.StatusCode != 200 || !strings.Contains(r.body, "Schritt 1 von 4") {
		t.Fatalf("step 1: %d %.500s", r.StatusCode, r.body)
	}
	// Empty answer: error summary linking to the field.
	r = b.post(step1, url.Values{"action": {"weiter"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `class="error-summary"`) ||
		!strings.Contains(r.body, `href="#f-anliegen-0_beschreibung"`) || !strings.Contains(r.body, `aria-invalid="true"`) ||
		!strings.Contains(r.body, `aria-describedby="f-anliegen-0_beschreibung-help f-anliegen-0_beschreibung-error"`) {
		t.Fatalf("empty step 1: %d %s", r.StatusCode, r.body)
	}
	location(t, b.post(step1, url.Values{"action": {"weiter"}, "anliegen[0].beschreibung": {"Ich möchte meinen Hund anmelden. Größe: groß."}}), http.StatusSeeOther)
	location(t, b.post(base+"/2", url.Values{"action": {"weiter"}, "kontakt[0].anrede": {"frau"}, "kontakt[0].vorname": {"Jürgen"},
		"kontakt[0].nachname": {"Müller-Lüdenscheidt"}, "kontakt[0].email": {"juergen@example.org"}, "kontakt[0].geburtsdatum": {"1980-12-31"}}), http.StatusSeeOther)
	return base
}

func TestAntragJourney(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f := newAntragFixture(t, d, nil)
			b := newBrowser(t, f.ts.URL)
			base := universalJourney(t, b)
			// Upload step: a PDF is accepted, a text file claiming to be a PDF is not.
			r := b.upload(base+"/3", url.Values{"action": {"hochladen"}}, "unterlagen[0].datei[0]", "../ev:il<name>.pdf", "application/pdf", []byte("hello, not a pdf"))
			if r.StatusCode != 200 || !strings.Contains(r.body, "passt nicht zum Dateityp") {
				t.Fatalf("mismatching upload: %d %.2000s", r.StatusCode, r.body)
			}
			r = b.upload(base+"/3", url.Values{"action": {"hochladen"}}, "unterlagen[0].datei[0]", "../nachweis.pdf", "application/pdf", pdfBytes)
			if r.StatusCode != 200 || !strings.Contains(r.body, "<strong>nachweis.pdf</strong>") {
				t.Fatalf("upload: %d %.3000s", r.StatusCode, r.body)
			}
			location(t, b.post(base+"/3", url.Values{"action": {"weiter"}}), http.StatusSeeOther)
			location(t, b.post(base+"/4", url.Values{"action": {"weiter"}, "einwilligung[0].zustimmung": {"ja"}}), http.StatusSeeOther)
			r = b.get(base + "/pruefen")
			if r.StatusCode != 200 || !strings.Contains(r.body, "Müller-Lüdenscheidt") || !strings.Contains(r.body, "nachweis.pdf") || !strings.Contains(r.body, "31.12.1980") {
				t.Fatalf("check page: %d %s", r.StatusCode, r.body)
			}
			key := regexp.MustCompile(`name="idempotency" value="([^"]+)"`).FindStringSubmatch(r.body)
			if key == nil {
				t.Fatal("no idempotency key on the check page")
			}
			// Double submit: one application.
			rc1 := location(t, b.post(base+"/absenden", url.Values{"idempotency": {key[1]}}), http.StatusSeeOther)
			rc2 := location(t, b.post(base+"/absenden", url.Values{"idempotency": {key[1]}}), http.StatusSeeOther)
			if rc1 != rc2 || !strings.HasPrefix(rc1, "/antrag/eingang/"+arsDarmstadt+"/") {
				t.Fatalf("receipts %q %q", rc1, rc2)
			}
			var n int
			if err := f.db.SQL().QueryRow(`SELECT COUNT(*) FROM applications`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("applications = %d, %v; want 1", n, err)
			}
			r = b.get(rc1)
			if r.StatusCode != 200 || !strings.Contains(r.body, `id="aktenzeichen"`) || !strings.Contains(r.body, "PDF herunterladen") || !strings.Contains(r.body, "Müller-Lüdenscheidt") {
				t.Fatalf("receipt: %d %s", r.StatusCode, r.body)
			}
			pdf := b.get(rc1 + ".pdf")
			if pdf.StatusCode != 200 || !strings.HasPrefix(pdf.body, "%PDF") || pdf.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("pdf: %d %q", pdf.StatusCode, pdf.Header.Get("Content-Type"))
			}
			// Another browser without the receipt cookie sees nothing.
			if r := newBrowser(t, f.ts.URL).get(rc1); r.StatusCode != 404 || strings.Contains(r.body, "Müller") {
				t.Errorf("receipt without cookie: %d", r.StatusCode)
			}
			if r := newBrowser(t, f.ts.URL).get(rc1 + ".pdf"); r.StatusCode != 404 {
				t.Errorf("pdf without cookie: %d", r.StatusCode)
			}
			// The attachment went with the application, sealed.
			app, err := f.svc.Application(context.Background(), arsDarmstadt, strings.TrimPrefix(rc1, "/antrag/eingang/"+arsDarmstadt+"/"))
			if err != nil || len(app.Attachments) != 1 || app.Attachments[0].Filename != "nachweis.pdf" {
				t.Fatalf("application %+v %v", app, err)
			}
			if got, err := f.svc.AttachmentContent(context.Background(), app, app.Attachments[0].ID); err != nil || !bytes.Equal(got, pdfBytes) {
				t.Errorf("attachment content: %v", err)
			}
		})
	}
}

func TestAntragResumeLink(t *testing.T) {
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	b := newBrowser(t, f.ts.URL)
	step1 := location(t, b.post("/antrag/"+keyHund, url.Values{}), http.StatusSeeOther)
	r := b.post(step1, url.Values{"action": {"speichern"}, "anliegen[0].beschreibung": {"Entwurfstext Äpfel"}})
	m := regexp.MustCompile(`value="http://rathaus.test(/antrag/fortsetzen\?ars=\d+&amp;t=[A-Za-z0-9_-]+)"`).FindStringSubmatch(r.body)
	if r.StatusCode != 200 || m == nil {
		t.Fatalf("saved page: %d %s", r.StatusCode, r.body)
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	// The old browser lost access (cookie cleared); a new one resumes with the link, once.
	other := newBrowser(t, f.ts.URL)
	to := location(t, other.get(link), http.StatusSeeOther)
	if r := other.get(to); r.StatusCode != 200 || !strings.Contains(r.body, "Entwurfstext Äpfel") {
		t.Fatalf("resumed: %d %s", r.StatusCode, r.body)
	}
	if r := newBrowser(t, f.ts.URL).get(link); r.StatusCode != 404 {
		t.Errorf("second use of the link: %d, want 404", r.StatusCode)
	}
}

func TestAntragLoggedInDraftAndPrefill(t *testing.T) {
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	c := f.login(identity.KindCitizen, "erika", identity.LoASubstantial)
	b := newBrowser(t, f.ts.URL, c)
	step1 := location(t, b.post("/antrag/"+keyHund, url.Values{"prefill": {"1"}}), http.StatusSeeOther)
	base := strings.TrimSuffix(step1, "/1")
	location(t, b.post(step1, url.Values{"action": {"weiter"}, "anliegen[0].beschreibung": {"Hund"}}), http.StatusSeeOther)
	r := b.get(base + "/2")
	if !strings.Contains(r.body, `value="Erika"`) || !strings.Contains(r.body, "Aus Ihrem Konto übernommen") {
		t.Fatalf("prefill: %s", r.body)
	}
	if to := location(t, b.post(base+"/2", url.Values{"action": {"speichern"}, "kontakt[0].vorname": {"Erika"}}), http.StatusSeeOther); to != "/antrag/entwuerfe?gespeichert=1" {
		t.Fatalf("save goes to %q", to)
	}
	r = b.get("/antrag/entwuerfe")
	if r.StatusCode != 200 || !strings.Contains(r.body, "Hundesteuer anmelden") || !strings.Contains(r.body, base+"/2") {
		t.Fatalf("drafts page: %d %s", r.StatusCode, r.body)
	}
	// Another citizen cannot open it.
	other := newBrowser(t, f.ts.URL, f.login(identity.KindCitizen, "max", identity.LoASubstantial))
	if r := other.get(base + "/2"); r.StatusCode != 404 || strings.Contains(r.body, "Erika") {
		t.Errorf("other citizen: %d", r.StatusCode)
	}
}

func TestAntragRepeatAndFilter(t *testing.T) {
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	b := newBrowser(t, f.ts.URL)
	base := universalJourney(t, b)
	// Repeatable file field: after an upload a new empty input appears; removing deletes it.
	r := b.upload(base+"/3", url.Values{"action": {"hochladen"}}, "unterlagen[0].datei[0]", "a.pdf", "application/pdf", pdfBytes)
	if !strings.Contains(r.body, `name="unterlagen[0].datei[1]"`) {
		t.Fatalf("second file input missing: %s", r.body)
	}
	r = b.post(base+"/3", url.Values{"action": {"delfile:unterlagen[0].datei[0]"}})
	if strings.Contains(r.body, "<strong>a.pdf</strong>") {
		t.Errorf("file not removed")
	}
}

// TestAntragVirusScan uses a real clamd with a local EICAR signature.
func TestAntragVirusScan(t *testing.T) {
	addr := scantest.Start(t)
	clam, err := scan.NewClamd(addr)
	if err != nil {
		t.Fatal(err)
	}
	f := newAntragFixture(t, sqlstore.SQLite, clam)
	b := newBrowser(t, f.ts.URL)
	base := universalJourney(t, b)
	t.Run("EICAR rejected", func(t *testing.T) {
		r := b.upload(base+"/3", url.Values{"action": {"weiter"}}, "unterlagen[0].datei[0]", "virus.pdf", "application/octet-stream", []byte(scantest.EICAR))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "enthält Schadsoftware") || strings.Contains(r.body, "<strong>virus.pdf</strong>") {
			t.Fatalf("eicar: %d %s", r.StatusCode, r.body)
		}
	})
	t.Run("clean PDF accepted", func(t *testing.T) {
		r := b.upload(base+"/3", url.Values{"action": {"hochladen"}}, "unterlagen[0].datei[0]", "gut.pdf", "application/pdf", pdfBytes)
		if r.StatusCode != 200 || !strings.Contains(r.body, "<strong>gut.pdf</strong>") {
			t.Fatalf("clean: %d %s", r.StatusCode, r.body)
		}
	})
	t.Run("scanner down fails closed", func(t *testing.T) {
		down, _ := scan.NewClamd("unix:" + t.TempDir() + "/none.sock")
		f2 := newAntragFixture(t, sqlstore.SQLite, down)
		b2 := newBrowser(t, f2.ts.URL)
		base2 := universalJourney(t, b2)
		r := b2.upload(base2+"/3", url.Values{"action": {"hochladen"}}, "unterlagen[0].datei[0]", "gut.pdf", "application/pdf", pdfBytes)
		if !strings.Contains(r.body, "Virenprüfung ist gerade nicht erreichbar") || strings.Contains(r.body, "<strong>gut.pdf</strong>") {
			t.Fatalf("scanner down: %d %s", r.StatusCode, r.body)
		}
	})
}

// TestAntragRoutes runs the route registry checks with the feature mounted.
func TestAntragRoutes(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f := newAntragFixture(t, d, nil)
			webtest.CheckDeclared(t, f.srv.Routes())
			citizen := f.login(identity.KindCitizen, "citizen-a", identity.LoASubstantial)
			p, err := f.sessions.Load(context.Background(), requestWithCookie(citizen))
			if err != nil {
				t.Fatal(err)
			}
			fx := &web.IsolationFixture{A: arsDarmstadt, B: arsKassel, Tenants: f.db.Tenants(), Catalog: f.db.Catalog(), Identity: f.db.Identity(), Principal: p, Citizen: p}
			var mine []web.RouteInfo
			for _, ri := range f.srv.Routes() {
				if strings.HasPrefix(ri.Path, "/antrag") {
					mine = append(mine, ri)
				}
			}
			if n := webtest.CheckIsolation(t, f.ts.URL, mine, fx, webtest.Users{Staff: []*http.Cookie{citizen}, Citizen: []*http.Cookie{citizen}}); n < 3 {
				t.Errorf("%d routes probed", n)
			}
			webtest.CheckHeaders(t, f.ts.URL, f.srv.Routes(), map[string][]*http.Cookie{"anonymous": nil, "citizen": {citizen}}, false)
		})
	}
}

// TestAntragLongListFilter: the Staat list of S00000246 (197 rows) is a
// native select with a filter box that works without JavaScript (the
// filter button re-renders the step with the matching rows only).
func TestAntragLongListFilter(t *testing.T) {
	m, err := fim.LoadDir(testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1"))
	if err != nil {
		t.Fatal(err)
	}
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	ctx := context.Background()
	must(t, f.db.Forms().PutForm(ctx, arsHessen, m))
	must(t, f.db.Forms().Bind(ctx, arsHessen, "dldb-a", m.ID, m.Version))
	b := newBrowser(t, f.ts.URL)
	step1 := location(t, b.post("/antrag/dldb-a", url.Values{}), http.StatusSeeOther)
	r := b.get(step1)
	names := regexp.MustCompile(`name="filter:([^"]+)"`).FindAllStringSubmatch(r.body, -1)
	if len(names) == 0 {
		t.Fatalf("no filter box on step 1 of %s", m.ID)
	}
	path := names[0][1]
	all := strings.Count(r.body, "<option")
	if !strings.Contains(r.body, ">Frankreich</option>") || all < 190 {
		t.Fatalf("unfiltered list: %d options", all)
	}
	r = b.post(step1, url.Values{"action": {"filter:" + path}, "filter:" + path: {"frank"}})
	sel := r.body[strings.Index(r.body, `name="`+path+`"`):]
	sel = sel[:strings.Index(sel, "</select>")]
	if r.StatusCode != 200 || !strings.Contains(sel, ">Frankreich</option>") || strings.Contains(sel, ">Italien</option>") || strings.Count(sel, "<option") > 5 {
		t.Fatalf("filtered list: %d %s", r.StatusCode, sel)
	}
	if !strings.Contains(r.body, `value="frank" data-filter-for=`) {
		t.Errorf("filter text not kept")
	}
}

// TestAntragMailboxHook: a logged-in applicant's receipt PDF goes to the
// FormFeature.OnSubmitted hook (the mailbox copy), once.
func TestAntragMailboxHook(t *testing.T) {
	var calls []string
	testOnSubmitted = func(_ context.Context, app *submission.Application, pdf []byte) error {
		if !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Errorf("hook got no PDF")
		}
		calls = append(calls, app.Reference)
		return nil
	}
	defer func() { testOnSubmitted = nil }()
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	b := newBrowser(t, f.ts.URL, f.login(identity.KindCitizen, "erika", identity.LoASubstantial))
	base := universalJourney(t, b)
	location(t, b.post(base+"/3", url.Values{"action": {"weiter"}}), http.StatusSeeOther)
	location(t, b.post(base+"/4", url.Values{"action": {"weiter"}, "einwilligung[0].zustimmung": {"ja"}}), http.StatusSeeOther)
	key := regexp.MustCompile(`name="idempotency" value="([^"]+)"`).FindStringSubmatch(b.get(base + "/pruefen").body)
	rc := location(t, b.post(base+"/absenden", url.Values{"idempotency": {key[1]}}), http.StatusSeeOther)
	location(t, b.post(base+"/absenden", url.Values{"idempotency": {key[1]}}), http.StatusSeeOther)
	if len(calls) != 1 {
		t.Fatalf("hook calls %v, want one", calls)
	}
	if r := b.get(rc); r.StatusCode != 200 || !strings.Contains(r.body, calls[0]) {
		t.Errorf("receipt of the logged-in applicant: %d", r.StatusCode)
	}
}

// TestAntragConditionsWithoutJS: on S00000246 step 4 the groups shown by
// "Art der Aufenthaltserlaubnis" start hidden; without JavaScript choosing a
// value re-renders the step with the revealed group and a notice, and a
// hidden group's answers are dropped.
func TestAntragConditionsWithoutJS(t *testing.T) {
	m, err := fim.LoadDir(testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1"))
	if err != nil {
		t.Fatal(err)
	}
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	ctx := context.Background()
	must(t, f.db.Forms().PutForm(ctx, arsHessen, m))
	must(t, f.db.Forms().Bind(ctx, arsHessen, "dldb-a", m.ID, m.Version))
	b := newBrowser(t, f.ts.URL)
	step1 := location(t, b.post("/antrag/dldb-a", url.Values{}), http.StatusSeeOther)
	step4 := strings.TrimSuffix(step1, "/1") + "/4"
	r := b.get(step4)
	if !strings.Contains(r.body, `id="f-G00002069-0_G00002073" data-id="G00002073" hidden`) || !strings.Contains(r.body, `data-rules="[{&#34;Kind&#34;:&#34;required_if&#34;`) {
		t.Fatalf("conditional group not hidden or rules missing: %.3000s", r.body[strings.Index(r.body, "<form"):])
	}
	r = b.post(step4, url.Values{"action": {"weiter"}, "G00002069[0].F00002920": {"001"}})
	if r.StatusCode != 200 || !strings.Contains(r.body, "weitere Felder hinzugekommen") ||
		strings.Contains(r.body, `data-id="G00002073" hidden`) || !strings.Contains(r.body, `data-id="G00002074" hidden`) {
		t.Fatalf("reveal without JS: %d", r.StatusCode)
	}
	// With JavaScript (js=1) the revealed fields were live already: the step validates at once.
	r = b.post(step4, url.Values{"action": {"weiter"}, "js": {"1"}, "G00002069[0].F00002920": {"001"}})
	if r.StatusCode != http.StatusUnprocessableEntity || strings.Contains(r.body, "weitere Felder hinzugekommen") {
		t.Fatalf("with js=1: %d", r.StatusCode)
	}
}

// TestAntragReplaceUpload: uploading a new file into the same field
// replaces the old one; only the current file becomes an attachment.
func TestAntragReplaceUpload(t *testing.T) {
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	b := newBrowser(t, f.ts.URL)
	base := universalJourney(t, b)
	b.upload(base+"/3", url.Values{"action": {"hochladen"}}, "unterlagen[0].datei[0]", "alt.pdf", "application/pdf", pdfBytes)
	r := b.upload(base+"/3", url.Values{"action": {"hochladen"}}, "unterlagen[0].datei[0]", "neu.pdf", "application/pdf", pdfBytes)
	if !strings.Contains(r.body, "<strong>neu.pdf</strong>") || strings.Contains(r.body, "<strong>alt.pdf</strong>") {
		t.Fatalf("replace: %s", r.body)
	}
	location(t, b.post(base+"/3", url.Values{"action": {"weiter"}}), http.StatusSeeOther)
	location(t, b.post(base+"/4", url.Values{"action": {"weiter"}, "einwilligung[0].zustimmung": {"ja"}}), http.StatusSeeOther)
	key := regexp.MustCompile(`name="idempotency" value="([^"]+)"`).FindStringSubmatch(b.get(base + "/pruefen").body)
	rc := location(t, b.post(base+"/absenden", url.Values{"idempotency": {key[1]}}), http.StatusSeeOther)
	app, err := f.svc.Application(context.Background(), arsDarmstadt, strings.TrimPrefix(rc, "/antrag/eingang/"+arsDarmstadt+"/"))
	if err != nil || len(app.Attachments) != 1 || app.Attachments[0].Filename != "neu.pdf" {
		t.Fatalf("attachments %+v, %v", app, err)
	}
}

// TestAntragEnglish: the universal form, its controls and the error
// summary in English.
func TestAntragEnglish(t *testing.T) {
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	b := newBrowser(t, f.ts.URL, &http.Cookie{Name: "lang", Value: "en", Path: "/"})
	step1 := location(t, b.post("/antrag/"+keyHund, url.Values{}), http.StatusSeeOther)
	r := b.post(step1, url.Values{"action": {"weiter"}})
	for _, want := range []string{"Step 1 of 4", "Please check your answers", "Description of your request", "This answer is required.", "Save and get a link to continue"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("English step lacks %q", want)
		}
	}
}
