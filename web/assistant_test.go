// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"rathaus/assistant"
	"rathaus/catalog/importer"
	"rathaus/demo"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/internal/browsertest"
	"rathaus/internal/testenv"
	"rathaus/search"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
	"rathaus/web"
	"rathaus/web/webtest"
)

// assistantServer is a portal over the demo catalog with the assistant.
func assistantServer(t testing.TB, dialect string) (*web.Server, *httptest.Server) {
	t.Helper()
	return assistantServerWith(t, dialect, func(db *sqlstore.DB) error {
		return demo.Seed(context.Background(), db.Tenants(), db.Catalog())
	})
}

// seedMuenchenDLDB imports the real München DLDB catalog (shared data).
func seedMuenchenDLDB(t testing.TB) func(db *sqlstore.DB) error {
	svc := testenv.SharedData(t, "chatbot/muenchen-dldb/services_de.dev.json")
	loc := testenv.SharedData(t, "chatbot/muenchen-dldb/locations_de.json")
	return func(db *sqlstore.DB) error {
		ss, offices, offers, _, err := importer.ReadDLDBFiles(arsMuenchen, loc, svc)
		if err != nil {
			return err
		}
		ctx := context.Background()
		if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
			{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bundesrepublik Deutschland", Inhabited: true},
			{ARS: "090000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Bayern", Inhabited: true},
			{ARS: "091000000000", Parent: "090000000000", Level: tenant.LevelRegierungsbezirk, Name: "Oberbayern", Inhabited: true},
			{ARS: arsMuenchen, Parent: "091000000000", Level: tenant.LevelGemeinde, Name: "München, Landeshauptstadt", PLZ: "80331", Population: 1500000, Inhabited: true},
		}); err != nil {
			return err
		}
		if err := db.Catalog().UpsertServices(ctx, ss); err != nil {
			return err
		}
		if err := db.Catalog().UpsertOffices(ctx, offices); err != nil {
			return err
		}
		return db.Catalog().UpsertOffers(ctx, offers)
	}
}

const arsMuenchen = "091620000000"

func assistantServerWith(t testing.TB, dialect string, seed func(*sqlstore.DB) error, feature ...web.AssistantFeature) (*web.Server, *httptest.Server) {
	t.Helper()
	db := sqltest.Open(t, dialect)
	ctx := context.Background()
	if err := seed(db); err != nil {
		t.Fatal(err)
	}
	idx, _, err := assistant.BuildIndex(ctx, db.Catalog(), search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assistant.New(idx, db.Catalog(), db.Tenants(), assistant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := web.AssistantFeature{Burst: -1}
	if len(feature) > 0 {
		f = feature[0]
	}
	f.Assistant = a
	mgr := session.NewManager(db.Identity(), session.Options{})
	srv, err := web.New(web.Config{}, web.Deps{Tenants: db.Tenants(), Catalog: db.Catalog(), Identity: db.Identity(), Ready: db.Ping,
		Sessions: mgr.Middleware, Features: []web.Feature{f}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	assistantLogin = func() *http.Cookie {
		ctx := context.Background()
		u, err := db.Identity().UpsertUser(ctx, identity.User{Kind: identity.KindCitizen, Issuer: "https://idp.test", Subject: "erika", Name: "Erika Mustermann"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		sess := identity.Session{ID: session.NewID(), UserID: u.ID, LoA: identity.LoASubstantial, IdP: "https://idp.test", AuthTime: now, ExpiresAt: now.Add(time.Hour), Lang: "de"}
		if err := db.Identity().CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		return &http.Cookie{Name: mgr.CookieName(), Value: sess.ID}
	}
	return srv, ts
}

// assistantLogin logs a citizen in at the last assistantServer and
// returns the session cookie.
var assistantLogin func() *http.Cookie

func TestAssistantRoutesDeclared(t *testing.T) {
	srv, ts := assistantServer(t, sqlstore.SQLite)
	webtest.CheckDeclared(t, srv.Routes())
	var pats []string
	for _, r := range srv.Routes() {
		pats = append(pats, r.Pattern)
	}
	for _, want := range []string{"GET /assistent", "POST /assistent", "POST /api/assistant"} {
		if !slices.Contains(pats, want) {
			t.Errorf("route %s missing", want)
		}
	}
	webtest.CheckHeaders(t, ts.URL, srv.Routes(), nil, false)
}

// TestAssistantPageWithoutJS talks to /assistent with plain form posts,
// as a browser without JavaScript does.
func TestAssistantPageWithoutJS(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			_, ts := assistantServer(t, dialect)
			res := webtest.Do(t, "GET", ts.URL+"/assistent", "", nil, nil)
			if res.StatusCode != 200 || !strings.Contains(res.Body, "Guten Tag") || !strings.Contains(res.Body, `action="/assistent"`) {
				t.Fatalf("GET /assistent: %d\n%s", res.StatusCode, res.Body)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			cookies := res.Cookies()
			conv := ""
			for _, c := range cookies {
				if c.Name == "assistant" {
					conv = c.Value
				}
			}
			if conv == "" || !strings.Contains(res.Body, `name="conversation" value="`+conv+`"`) {
				t.Fatalf("conversation id not in cookie and hidden field")
			}
			steps := []struct {
				msg  string
				want []string
			}{
				{"ich wohne in Darmstadt", []string{"für Darmstadt, Wissenschaftsstadt"}},
				{"Perso beantragen", []string{"Personalausweis beantragen", `href="/leistungen/` + demo.KeyPersonalausweis + `"`, "https://darmstadt.example/personalausweis", "Stand: 01.11.2026", "Verbindlich ist die Auskunft der zuständigen Stelle", `name="message" value="Was kostet das?"`}},
				{"Was kostet das?", []string{"37,00 Euro", "Stand: 01.11.2026"}},
				{"Jetzt online beantragen", []string{`action="/antrag/` + demo.KeyPersonalausweis + `"`, "Wenn Sie sich anmelden", "Jetzt online beantragen"}},
				{"Meine IBAN ist DE89370400440532013000", []string{"persönlichen Daten", "[IBAN]"}},
			}
			for _, s := range steps {
				res := webtest.Do(t, "POST", ts.URL+"/assistent", "conversation="+url.QueryEscape(conv)+"&message="+url.QueryEscape(s.msg), nil, nil)
				if res.StatusCode != 200 {
					t.Fatalf("POST %q: %d\n%s", s.msg, res.StatusCode, res.Body)
				}
				for _, w := range s.want {
					if !strings.Contains(res.Body, w) {
						t.Errorf("POST %q: page lacks %q", s.msg, w)
					}
				}
				if strings.Contains(res.Body, "DE89370400440532013000") {
					t.Errorf("page shows the IBAN")
				}
			}
			// Logged in: the consent checkbox for prefill (unchecked).
			res = webtest.Do(t, "POST", ts.URL+"/assistent", "conversation="+url.QueryEscape(conv)+"&message=online+beantragen", []*http.Cookie{assistantLogin()}, nil)
			if !strings.Contains(res.Body, `<input type="checkbox" id="prefill-`) || !strings.Contains(res.Body, `name="prefill" value="1">`) || strings.Contains(res.Body, "checked") {
				t.Errorf("logged in: no unchecked consent checkbox for prefill")
			}
			// A fresh conversation after "Neues Gespräch".
			res = webtest.Do(t, "POST", ts.URL+"/assistent", "conversation="+conv+"&reset=1&message=", nil, nil)
			if strings.Contains(res.Body, conv) || strings.Contains(res.Body, "37,00 Euro") {
				t.Errorf("reset kept the old conversation")
			}
			// Bad input.
			res = webtest.Do(t, "POST", ts.URL+"/assistent", "message="+strings.Repeat("x", 501), nil, nil)
			if res.StatusCode != 400 {
				t.Errorf("too long message: %d", res.StatusCode)
			}
		})
	}
}

type apiReply struct {
	Conversation string `json:"conversation"`
	Reply        struct {
		Intent   string `json:"intent"`
		Text     string `json:"text"`
		Services []struct {
			Key, Name, URL, Office string
			Why                    []string
		} `json:"services"`
		Choices []assistant.Choice `json:"choices"`
		Links   []assistant.Link   `json:"links"`
		Handoff bool               `json:"handoff"`
		Apply   *assistant.Apply   `json:"apply"`
	} `json:"reply"`
	Error *struct{ Code, Message string } `json:"error"`
}

func postAPI(t testing.TB, base, body string) (int, apiReply) {
	t.Helper()
	res, err := http.Post(base+"/api/assistant", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out apiReply
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("not JSON (%d): %s", res.StatusCode, b)
	}
	return res.StatusCode, out
}

func TestAssistantAPI(t *testing.T) {
	_, ts := assistantServer(t, sqlstore.SQLite)
	code, r := postAPI(t, ts.URL, `{"message":"Hundesteuer","municipality":"`+demo.Weiterstadt+`"}`)
	if code != 200 || r.Conversation == "" || len(r.Reply.Services) != 1 || r.Reply.Services[0].Key != demo.KeyHundesteuer ||
		r.Reply.Services[0].Office != "Bürgerbüro Weiterstadt" || r.Reply.Services[0].URL != "/leistungen/"+demo.KeyHundesteuer || len(r.Reply.Services[0].Why) == 0 {
		t.Fatalf("first turn: %d %+v", code, r)
	}
	code, r2 := postAPI(t, ts.URL, `{"conversation":"`+r.Conversation+`","message":"Was kostet das?"}`)
	if code != 200 || r2.Conversation != r.Conversation || !strings.Contains(r2.Reply.Text, "84 Euro") || len(r2.Reply.Links) == 0 {
		t.Fatalf("follow-up: %d %+v", code, r2)
	}
	code, r3 := postAPI(t, ts.URL, `{"conversation":"`+r.Conversation+`","message":"Ich will mit einem Mitarbeiter sprechen"}`)
	if code != 200 || !r3.Reply.Handoff {
		t.Fatalf("handoff: %d %+v", code, r3)
	}
	for _, tc := range []struct{ name, body string }{
		{"not JSON", `message=hallo`},
		{"unknown field", `{"message":"x","foo":1}`},
		{"bad municipality", `{"message":"x","municipality":"12"}`},
		{"unknown municipality", `{"message":"x","municipality":"099999999999"}`},
		{"too long", `{"message":"` + strings.Repeat("a", 501) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, r := postAPI(t, ts.URL, tc.body)
			if code != 400 || r.Error == nil || r.Error.Code != "invalid" || r.Error.Message == "" {
				t.Errorf("%d %+v", code, r)
			}
		})
	}
}

func TestAssistantRateLimit(t *testing.T) {
	_, ts := assistantServerWith(t, sqlstore.SQLite, func(db *sqlstore.DB) error {
		return demo.Seed(context.Background(), db.Tenants(), db.Catalog())
	}, web.AssistantFeature{Burst: 3, Every: time.Hour})
	for i := range 3 {
		if code, _ := postAPI(t, ts.URL, `{"message":"Hallo"}`); code != 200 {
			t.Fatalf("request %d: %d", i+1, code)
		}
	}
	code, r := postAPI(t, ts.URL, `{"message":"Hallo"}`)
	if code != 429 || r.Error == nil || r.Error.Code != "rate_limited" {
		t.Errorf("4th request: %d %+v", code, r)
	}
	res := webtest.Do(t, "POST", ts.URL+"/assistent", "message=Hallo", nil, nil)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || !strings.Contains(res.Body, "Zu viele Fragen") {
		t.Errorf("page over the limit: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res := webtest.Do(t, "GET", ts.URL+"/assistent", "", nil, nil); res.StatusCode != 200 {
		t.Errorf("reading the page is not limited: %d", res.StatusCode)
	}
}

// TestAssistantBrowser drives the chat page in Chromium without and with
// JavaScript, with axe-core on both.
func TestAssistantBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	_, ts := assistantServer(t, sqlstore.SQLite)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	scripts := func(disabled bool) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled})
			return chromedp.Void{}, err
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	ask := func(msg string, n int) {
		t.Helper()
		// Enter submits like a person does (and fires the submit event).
		do("ask "+msg, chromedp.SendKeys(chromedp.CSS("#chat-message"), msg+"\r", chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS("#antwort-"+itoa(n))))
	}

	// Without JavaScript: every question is a form post and a full page.
	do("scripts off", scripts(true))
	do("open", chromedp.Navigate(ts.URL+"/assistent"), chromedp.WaitVisible(chromedp.CSS("#antwort-1")))
	ask("ich wohne in Darmstadt", 2)
	ask("Ich brauche eine Geburtsurkunde", 3)
	if got := text("#antwort-3"); !strings.Contains(got, "Geburtsurkunde beantragen") {
		t.Errorf("answer 3: %s", got)
	}
	ask("Was kostet das?", 4)
	if got := text("#antwort-4"); !strings.Contains(got, "12,00 Euro") || !strings.Contains(got, "Stand: 01.11.2026") {
		t.Errorf("answer 4: %s", got)
	}
	do("choice button", chromedp.Click(chromedp.CSS(`#chat-choices button[value="Welche Unterlagen brauche ich?"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#antwort-5")))
	if got := text("#antwort-5"); !strings.Contains(got, "Personalausweis oder Reisepass") {
		t.Errorf("answer 5: %s", got)
	}
	do("scripts on for axe", scripts(false))
	browsertest.Axe(t, ctx)

	// With JavaScript: replies are appended without a page load.
	do("reload with scripts", chromedp.Navigate(ts.URL+"/assistent"), chromedp.WaitVisible(chromedp.CSS("#antwort-5")))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.samePage = true`)); err != nil {
		t.Fatal(err)
	}
	ask("Wo ist das?", 6)
	ask("Jetzt online beantragen", 7)
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.samePage === true`))
	if err != nil || !same {
		t.Errorf("the page was reloaded: the reply did not come through the API (%v)", err)
	}
	if got := text("#antwort-6"); !strings.Contains(got, "Standesamt Darmstadt") || !strings.Contains(got, "Frankfurter Straße 3") {
		t.Errorf("answer 6: %s", got)
	}
	// Not logged in: the application link with the hint that logging in allows prefill.
	do("apply form", chromedp.WaitVisible(chromedp.CSS(`#antwort-7 form[action="/antrag/`+demo.KeyGeburtsurkunde+`"] p.hint`)))
	live, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("chat-log").getAttribute("aria-live")`))
	if err != nil || live != "polite" {
		t.Errorf("aria-live %q %v", live, err)
	}
	ask("anmelden", 8)
	do("clarification button", chromedp.Click(chromedp.CSS(`#chat-choices button[value="leistung:`+demo.KeyWohnsitzAnmeldung+`"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#antwort-9")))
	if got := text("#antwort-9"); !strings.Contains(got, "Wohnsitz anmelden") {
		t.Errorf("answer 9: %s", got)
	}
	if got := text("#chat-log"); !strings.Contains(got, "Wohnsitz anmelden (Ummeldung)") {
		t.Errorf("the clicked choice is not shown as the user's message")
	}
	browsertest.Axe(t, ctx)
	if os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
		do("new conversation", chromedp.Click(chromedp.CSS(".chat-reset button"), chromedp.NodeVisible),
			chromedp.WaitNotPresent(chromedp.CSS("#antwort-5")), chromedp.WaitVisible(chromedp.CSS("#antwort-1")))
		ask("Ich wohne in 64283", 2)
		ask("Perso verloren", 3)
		ask("Was kostet das?", 4)
		if err := browsertest.Screenshot(ctx, filepath.Join(testenv.RepoRoot(t), "docs", "screenshots", "assistant.png")); err != nil {
			t.Error(err)
		}
	}
}

func itoa(n int) string { return jsonNum(n) }

func jsonNum(n int) string { b, _ := json.Marshal(n); return string(b) }

// BenchmarkAssistantTurnHTTP measures whole assistant turns over HTTP
// (JSON API on loopback, SQLite store) on the demo catalog: search turns,
// clarifications and follow-ups. It reports the 95th percentile as p95-ms.
func BenchmarkAssistantTurnHTTP(b *testing.B) {
	_, ts := assistantServer(b, sqlstore.SQLite)
	benchTurns(b, ts.URL, "ich wohne in Darmstadt",
		[]string{"Perso beantragen", "Was kostet das?", "Welche Unterlagen brauche ich?", "Hund angeschafft", "Wo ist das?", "anmelden"})
}

// BenchmarkAssistantTurnHTTPMuenchen is the same on the real München
// catalog (287 services, 109 offices).
func BenchmarkAssistantTurnHTTPMuenchen(b *testing.B) {
	_, ts := assistantServerWith(b, sqlstore.SQLite, seedMuenchenDLDB(b))
	benchTurns(b, ts.URL, "ich wohne in München",
		[]string{"Ich bin umgezogen", "Wohnsitzanmeldung", "Was kostet das?", "Geldbörse verloren", "Fundsache abholen", "Wo ist das?", "Personalausweis beantragen", "Welche Unterlagen brauche ich?"})
}

func benchTurns(b *testing.B, base, first string, msgs []string) {
	_, r := postAPI(b, base, `{"message":"`+first+`"}`)
	conv := r.Conversation
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := `{"conversation":"` + conv + `","message":"` + msgs[i%len(msgs)] + `"}`
		start := time.Now()
		code, _ := postAPI(b, base, body)
		lat = append(lat, time.Since(start))
		if code != 200 {
			b.Fatalf("status %d", code)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
}
