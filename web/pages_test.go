// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/identity"
	"rathaus/sqlstore"
	"rathaus/web"
)

// TestCitizenJourney walks home → municipality (by postcode and by name) →
// choose → search → service page with the responsible office, on both
// dialects.
func TestCitizenJourney(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d, web.Config{Demo: true, Version: "test"})

			home := f.get("/")
			wantContains(t, "home", home, http.StatusOK, `<html lang="de">`, "Demo-Betrieb", `action="/suche"`, `action="/gemeinde"`,
				`href="/lebenslagen/ll-umzug"`, "Ein- und Auswanderung", "Keine Gemeinde gewählt.")

			for _, q := range []string{"64283", "darmstadt", "Darmstadt"} {
				res := f.get("/gemeinde?q=" + q + "&next=/suche")
				wantContains(t, "gemeinde "+q, res, http.StatusOK, "Darmstadt, Wissenschaftsstadt", `value="`+arsDarmstadt+`"`, `value="/suche"`)
				if strings.Contains(res.body, "Kassel") {
					t.Errorf("gemeinde %s lists Kassel", q)
				}
			}
			wantContains(t, "gemeinde none", f.get("/gemeinde?q=Atlantis"), http.StatusOK, "Keine Gemeinde gefunden")

			res := f.do(http.MethodPost, "/gemeinde", form("ars", arsDarmstadt, "next", "/leistungen/"+keyAusweis), nil, nil)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/leistungen/"+keyAusweis {
				t.Fatalf("choose: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			var choice *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == "municipality" {
					choice = c
				}
			}
			if choice == nil || choice.Value != arsDarmstadt || !choice.HttpOnly || choice.SameSite != http.SameSiteLaxMode {
				t.Fatalf("municipality cookie %+v", choice)
			}

			svc := f.get("/leistungen/"+keyAusweis, choice)
			wantContains(t, "service", svc, http.StatusOK, "Personalausweis beantragen", "Beschreibung von: Land Hessen",
				"Hessischer Text zum Personalausweis.", "Bürger- und Ordnungsamt Darmstadt", "Grafenstraße 30", "Mo–Fr 8–12 Uhr",
				"37,00 Euro", "§ 9 PAuswG", "Lichtbild", keyAusweis, `href="/antrag/`+keyAusweis+`"`, "Ihre Gemeinde: Darmstadt, Wissenschaftsstadt")
			for _, bad := range []string{"Bürgerbüro Kassel", "<script>alert(1)", "Bundestext zum Personalausweis"} {
				if strings.Contains(svc.body, bad) {
					t.Errorf("service page contains %q", bad)
				}
			}
			national := f.get("/leistungen/" + keyHund)
			wantContains(t, "service without choice", national, http.StatusOK, "Hundesteuer anmelden", "Wählen Sie zuerst Ihre Gemeinde.")
			if strings.Contains(national.body, "/antrag/") {
				t.Error("service without form links to /antrag/")
			}
			wantContains(t, "service unknown", f.get("/leistungen/00000000000000", choice), http.StatusNotFound, "Seite nicht gefunden", "Diese Leistung gibt es für Ihre Gemeinde nicht.")
			wantContains(t, "service unknown without choice", f.get("/leistungen/00000000000000"), http.StatusOK, "Gemeinde wählen", `value="/leistungen/00000000000000"`)
			wantContains(t, "service bad key", f.get("/leistungen/%3Cx%3E"), http.StatusNotFound)

			page1 := f.get("/suche?q=Bescheinigung", choice)
			wantContains(t, "search 1", page1, http.StatusOK, "Suchergebnisse (25)", "Treffer 1 bis 20 von 25", `rel="next"`,
				"Es werden Leistungen angezeigt, die für Darmstadt, Wissenschaftsstadt gelten.")
			page2 := f.get("/suche?q=Bescheinigung&seite=2", choice)
			wantContains(t, "search 2", page2, http.StatusOK, "Treffer 21 bis 25 von 25", `rel="prev"`)
			wantContains(t, "search bad page", f.get("/suche?q=x&seite=null"), http.StatusBadRequest, "Parameter seite")
			wantContains(t, "search nothing", f.get("/suche?q=Raumfahrt"), http.StatusOK, "Keine Leistungen gefunden")

			wantContains(t, "lebenslagen", f.get("/lebenslagen"), http.StatusOK, "Umzug", "Haustiere")
			wantContains(t, "lebenslage", f.get("/lebenslagen/ll-umzug"), http.StatusOK, "Personalausweis beantragen")
			wantContains(t, "lebenslage unknown", f.get("/lebenslagen/nix"), http.StatusNotFound)

			// Browsers drop tabs and newlines from a Location: "/\t/evil"
			// would lead to //evil.example.
			for _, next := range []string{"https://evil.example/", "/\t/evil.example", "/\n/evil.example", "/\\evil.example"} {
				clear := f.do(http.MethodPost, "/gemeinde", form("ars", "", "next", next), []*http.Cookie{choice}, nil)
				if clear.StatusCode != http.StatusSeeOther || clear.Header.Get("Location") != "/" {
					t.Errorf("clear with next %q: %d %q (open redirect?)", next, clear.StatusCode, clear.Header.Get("Location"))
				}
			}
		})
	}
}

func wantContains(t *testing.T, what string, res response, status int, subs ...string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("%s: status %d, want %d", what, res.StatusCode, status)
	}
	for _, s := range subs {
		if !strings.Contains(res.body, s) {
			t.Errorf("%s: body lacks %q", what, s)
		}
	}
}

func TestChooseMunicipalityBadInput(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{})
	tests := []struct {
		name, ars string
		status    int
		msg       string
	}{
		{"malformed", "12ab", http.StatusBadRequest, "kein 12-stelliger Regionalschlüssel"},
		{"unknown", "099999999999", http.StatusBadRequest, "unbekannt"},
		{"not a Gemeinde", arsHessen, http.StatusBadRequest, "keine Gemeinde"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(http.MethodPost, "/gemeinde", form("ars", tt.ars), nil, nil)
			wantContains(t, tt.name, res, tt.status, "Feld ars", tt.msg)
		})
	}
}

func TestChoiceFollowsCitizenSession(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{})
	c := f.login(identity.KindCitizen, "c1", identity.LoASubstantial)
	res := f.do(http.MethodPost, "/gemeinde", form("ars", arsDarmstadt), []*http.Cookie{c}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose: %d", res.StatusCode)
	}
	// Without the municipality cookie, the session remembers the choice.
	wantContains(t, "home", f.get("/", c), http.StatusOK, "Ihre Gemeinde: Darmstadt, Wissenschaftsstadt")
}

func TestAccountAndStaffPages(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{})
	c := f.login(identity.KindCitizen, "c1", identity.LoAHigh)
	wantContains(t, "konto", f.get("/konto", c), http.StatusOK, "Erika Mustermann c1", "hoch", "Mustermann", `action="/auth/logout"`)
	s := f.login(identity.KindStaff, "s1", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
	wantContains(t, "verwaltung", f.get("/verwaltung", s), http.StatusOK, "Sachbearbeitung", `href="/verwaltung/`+arsDarmstadt+`"`, "Darmstadt, Wissenschaftsstadt")
	wantContains(t, "verwaltung tenant", f.get("/verwaltung/"+arsDarmstadt, s), http.StatusOK, "159878", "Gemeinde")
}

func TestLanguage(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{})
	res := f.get("/?lang=en")
	wantContains(t, "?lang=en", res, http.StatusOK, `<html lang="en">`, "Welcome to the digital town hall", `href="/?lang=de"`)
	var lc *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "lang" {
			lc = c
		}
	}
	if lc == nil || lc.Value != "en" {
		t.Fatalf("lang cookie %+v", lc)
	}
	wantContains(t, "cookie", f.get("/suche", lc), http.StatusOK, `<html lang="en">`, "Search services")
	al := f.do(http.MethodGet, "/", "", nil, map[string]string{"Accept-Language": "en-GB,en;q=0.9"})
	wantContains(t, "Accept-Language en", al, http.StatusOK, `<html lang="en">`)
	fr := f.do(http.MethodGet, "/", "", nil, map[string]string{"Accept-Language": "fr"})
	wantContains(t, "Accept-Language fr", fr, http.StatusOK, `<html lang="de">`)
	wantContains(t, "404 en", f.get("/nix?lang=en"), http.StatusNotFound, "Page not found")
}

// TestLocales checks that both bundles have the same keys and that every
// key the templates and code use exists.
func TestLocales(t *testing.T) {
	keys := map[string][]string{}
	for _, l := range web.Languages {
		var m map[string]string
		if _, err := toml.DecodeFile(filepath.Join("locales", l+".toml"), &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			keys[l] = append(keys[l], k)
		}
		sort.Strings(keys[l])
	}
	if diff := cmp.Diff(keys["de"], keys["en"]); diff != "" {
		t.Errorf("de and en keys differ (-de +en):\n%s", diff)
	}
	have := map[string]bool{}
	for _, k := range keys["de"] {
		have[k] = true
	}
	lit := regexp.MustCompile(`T "([a-z][a-z0-9._]*)"|s\.tr\(r, "([a-z][a-z0-9._]*)"|"(error\.title\.[a-z]+)"`)
	var used int
	err := fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go")) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			k := m[1] + m[2] + m[3]
			used++
			if !have[k] {
				t.Errorf("%s uses message %q that is not in locales/de.toml", p, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 50 {
		t.Errorf("found only %d message uses; the scan is broken", used)
	}
	for _, prefix := range []string{"loa.", "role.", "level."} { // keys built with print in templates
		n := 0
		for _, k := range keys["de"] {
			if strings.HasPrefix(k, prefix) {
				n++
			}
		}
		if n < 3 {
			t.Errorf("too few %s* messages", prefix)
		}
	}
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{rathaus.EINVALID, 400}, {rathaus.ENOTFOUND, 404}, {rathaus.ECONFLICT, 409}, {rathaus.EUNAUTHORIZED, 401},
		{rathaus.EFORBIDDEN, 403}, {rathaus.EUNAVAILABLE, 503}, {rathaus.EINTERNAL, 500}, {"something-else", 500},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := web.StatusFor(tt.code); got != tt.want {
				t.Errorf("StatusFor(%q) = %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

// TestErrorPages checks that handler errors render the safe message with
// the mapped status and log the detail, and that panics become a 500 page.
func TestErrorPages(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	f := newFixture(t, sqlstore.SQLite, web.Config{Logger: logger}, option{server: func(s *web.Server) {
		s.Route("GET /test/konflikt", web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			return rathaus.Wrap(rathaus.ECONFLICT, errors.New("row version 7 != 8"), "Der Antrag wurde inzwischen geändert.")
		}), web.Meta{Scope: web.ScopePublic})
		s.Route("GET /test/intern", web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("secret connection string postgres://u:pw@db")
		}), web.Meta{Scope: web.ScopePublic})
		s.Route("GET /test/panik", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("boom")
		}), web.Meta{Scope: web.ScopePublic})
	}})
	res := f.get("/test/konflikt")
	wantContains(t, "conflict", res, http.StatusConflict, "Der Antrag wurde inzwischen geändert.", res.Header.Get("X-Request-Id"))
	if strings.Contains(res.body, "row version") {
		t.Error("detail leaked into the page")
	}
	in := f.get("/test/intern")
	wantContains(t, "internal", in, http.StatusInternalServerError, "Interner Fehler")
	if strings.Contains(in.body, "postgres://") {
		t.Error("internal detail leaked into the page")
	}
	p := f.get("/test/panik")
	wantContains(t, "panic", p, http.StatusInternalServerError, "Interner Fehler")
	checkHeaders(t, "panic", p, false, false)
	for _, want := range []string{`"error":"conflict: Der Antrag wurde inzwischen geändert.: row version 7 != 8"`, `"panic":"boom"`, `"route":"GET /test/konflikt"`, `"request_id":"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestRequestID(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{})
	tests := []struct{ in, want string }{
		{"abc-123", "abc-123"},
		{"bad id with spaces", ""},
		{strings.Repeat("x", 100), ""},
	}
	for _, tt := range tests {
		res := f.do(http.MethodGet, "/healthz", "", nil, map[string]string{"X-Request-Id": tt.in})
		got := res.Header.Get("X-Request-Id")
		if tt.want != "" && got != tt.want || tt.want == "" && (got == tt.in || len(got) != 24) {
			t.Errorf("X-Request-Id %q → %q", tt.in, got)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{LoginBurst: 3, LoginEvery: time.Hour})
	for i := range 3 {
		if res := f.get("/auth/login?as=citizen"); res.StatusCode != http.StatusOK {
			t.Fatalf("attempt %d: status %d", i+1, res.StatusCode)
		}
	}
	res := f.get("/auth/login?as=citizen")
	wantContains(t, "4th attempt", res, http.StatusTooManyRequests, "Zu viele Anmeldeversuche")
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	// Other routes are not limited.
	if res := f.get("/"); res.StatusCode != http.StatusOK {
		t.Errorf("home after login limit: %d", res.StatusCode)
	}
}

func TestBodyLimitAndCSRF(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{MaxBodyBytes: 1024})
	big := form("ars", arsDarmstadt, "pad", strings.Repeat("x", 4096))
	if res := f.do(http.MethodPost, "/gemeinde", big, nil, nil); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: status %d, want 413", res.StatusCode)
	}
	cross := f.do(http.MethodPost, "/gemeinde", form("ars", arsDarmstadt), nil, map[string]string{"Sec-Fetch-Site": "cross-site"})
	wantContains(t, "cross-site POST", cross, http.StatusForbidden, "fremden Seite")
	if len(cross.Cookies()) != 0 {
		t.Error("cross-site POST set a cookie")
	}
	same := f.do(http.MethodPost, "/gemeinde", form("ars", arsDarmstadt), nil, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if same.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST: status %d", same.StatusCode)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	var notReady error = errors.New("migrations pending")
	f := newFixture(t, sqlstore.SQLite, web.Config{}, option{deps: func(d *web.Deps) {
		d.Ready = func(context.Context) error { return notReady }
	}})
	wantContains(t, "healthz", f.get("/healthz"), http.StatusOK, "ok")
	wantContains(t, "readyz not ready", f.get("/readyz"), http.StatusServiceUnavailable, "not ready")
	notReady = nil
	wantContains(t, "readyz ready", f.get("/readyz"), http.StatusOK, "ready")
	f.get("/leistungen/" + keyHund)
	if res := f.get("/metrics"); res.StatusCode != http.StatusNotFound || strings.Contains(res.body, "go_goroutines") {
		t.Errorf("portal serves /metrics: %d", res.StatusCode)
	}
	ops := httptest.NewServer(f.srv.OpsHandler())
	t.Cleanup(ops.Close)
	opsGet := func(path string) response {
		t.Helper()
		res, err := http.Get(ops.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return response{Response: res, body: string(b)}
	}
	wantContains(t, "ops healthz", opsGet("/healthz"), http.StatusOK, "ok")
	wantContains(t, "ops readyz", opsGet("/readyz"), http.StatusOK, "ready")
	if res := opsGet("/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("ops /: %d, want 404", res.StatusCode)
	}
	m := opsGet("/metrics")
	wantContains(t, "metrics", m, http.StatusOK,
		`rathaus_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`rathaus_http_requests_total{code="503",method="GET",route="GET /readyz"} 1`,
		`rathaus_http_request_duration_seconds_bucket{route="GET /leistungen/{key}"`,
		"go_goroutines")
	if strings.Contains(m.body, keyHund) {
		t.Error("metrics label carries a raw path instead of the route pattern")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{})
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPost, "/suche", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/gemeinde", http.StatusMethodNotAllowed, "GET, POST, HEAD"},
		{http.MethodPut, "/leistungen/x", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, "/gibt-es-nicht", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := f.do(tt.method, tt.path, "", nil, map[string]string{"Sec-Fetch-Site": "same-origin"})
			if res.StatusCode != tt.status || res.Header.Get("Allow") != tt.allow {
				t.Errorf("status %d Allow %q, want %d %q", res.StatusCode, res.Header.Get("Allow"), tt.status, tt.allow)
			}
		})
	}
}

// TestSourceNotServed checks that no file of the repository is reachable
// (BSI APP.3.1.A14), only the embedded static assets.
func TestSourceNotServed(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{})
	for _, p := range []string{"/go.mod", "/.git/config", "/web/web.go", "/static/../go.mod", "/static/%2e%2e/web.go",
		"/static/../../go.mod", "/templates/layout.html", "/static/templates/layout.html", "/locales/de.toml", "/static/"} {
		res := f.get(p)
		if res.StatusCode == http.StatusOK && !strings.Contains(res.body, "<!DOCTYPE html>") || strings.Contains(res.body, "module rathaus") ||
			strings.Contains(res.body, "package web") || strings.Contains(res.body, "{{define") {
			t.Errorf("GET %s: %d serves repository content", p, res.StatusCode)
		}
	}
	res := f.get("/static/style.css")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(res.body, ":focus-visible") {
		t.Errorf("style.css: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
