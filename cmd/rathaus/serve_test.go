// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rathaus/catalog"
	"rathaus/internal/browsertest"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
)

// serveLog is a bytes.Buffer safe for the server's log writes while the
// test reads it.
type serveLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a serve command started in-process.
type running struct {
	serveInfo
	base   string
	stderr *serveLog
	stop   func() int // cancels the context and returns the exit code
}

// startServe runs "rathaus serve args…" in-process on 127.0.0.1:0 and
// waits until it listens.
func startServe(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan serveInfo, 1)
	ctx = withListenHook(ctx, func(info serveInfo) { listening <- info })
	stderr := &serveLog{}
	e := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr, Getenv: func(k string) string { return env[k] }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, e, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	r := &running{stderr: stderr}
	select {
	case r.serveInfo = <-listening:
		r.base = r.Base
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening: %s", code, stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not listen within 30 s: %s", stderr.String())
	}
	var once sync.Once
	code := -1
	r.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("serve did not stop within 20 s after cancel")
			}
		})
		return code
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func TestServeLifecycle(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, map[string]string{"RATHAUS_DATA": dir}, "--metrics-addr", "127.0.0.1:0")
	if !strings.HasPrefix(r.base, "http://127.0.0.1:") || strings.HasSuffix(r.base, ":0") {
		t.Fatalf("base URL %q", r.base)
	}
	if !strings.HasPrefix(r.Metrics, "http://127.0.0.1:") || strings.HasSuffix(r.Metrics, ":0") || r.Metrics == r.base {
		t.Fatalf("metrics URL %q (portal %q)", r.Metrics, r.base)
	}
	// /metrics is not on the public portal, only on the internal listener.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/": 200, "/metrics": 404, "/gibt-es-nicht": 404} {
		res, err := http.Get(r.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/metrics", 200, `rathaus_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`},
		{"/metrics", 200, "rathaus_db_group_commits_total"},
		{"/metrics", 200, "go_goroutines"},
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/", 404, ""},
	} {
		res, err := http.Get(r.Metrics + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
			t.Errorf("metrics listener GET %s: %d, want %d with %q", tt.path, res.StatusCode, tt.status, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "rathaus.db")); err != nil {
		t.Errorf("RATHAUS_DATA not used: %v", err)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit code after cancel %d, want 0; stderr:\n%s", code, r.stderr.String())
	}
	log := r.stderr.String()
	for _, want := range []string{`"msg":"listening on ` + r.base + `"`, `"msg":"shutting down"`, `"msg":"stopped"`, `"route":"GET /healthz"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if _, err := http.Get(r.base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
	if _, err := http.Get(r.Metrics + "/metrics"); err == nil {
		t.Error("metrics listener still answers after shutdown")
	}
}

// TestServeMetricsOff: --metrics-addr off (or RATHAUS_METRICS_ADDR=off)
// opens no metrics listener.
func TestServeMetricsOff(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"flag": {map[string]string{"RATHAUS_DATA": t.TempDir()}, []string{"--metrics-addr", "off"}},
		"env":  {map[string]string{"RATHAUS_DATA": t.TempDir(), "RATHAUS_METRICS_ADDR": "off"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			r := startServe(t, tc.env, tc.args...)
			if r.Metrics != "" {
				t.Errorf("metrics listener at %q, want none", r.Metrics)
			}
			if !strings.Contains(r.stderr.String(), "metrics listener off") {
				t.Errorf("log does not say the metrics listener is off:\n%s", r.stderr.String())
			}
		})
	}
}

func TestServeBadInput(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().String()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"extra argument", []string{"serve", "--data", t.TempDir(), "extra"}, 2, `unexpected argument "extra"`},
		{"bad base URL", []string{"serve", "--data", t.TempDir(), "--base-url", "ftp://x"}, 2, "--base-url"},
		{"unknown flag", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"bad address", []string{"serve", "--data", t.TempDir(), "--addr", "256.0.0.1:bad"}, 1, "cannot listen on 256.0.0.1:bad"},
		{"bad database URL", []string{"serve", "--db", "mysql://x"}, 1, "unsupported database URL"},
		{"bad metrics address", []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-addr", "256.0.0.1:bad"}, 1, "cannot listen on --metrics-addr 256.0.0.1:bad"},
		{"busy metrics address", []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-addr", busy}, 1, "cannot listen on --metrics-addr " + busy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			e := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
			code := Main(context.Background(), e, tt.args)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr lacks %q: %s", tt.msg, stderr.String())
			}
		})
	}
}

// seedJourney imports the real municipalities and LeiKa catalogue into dir
// with the import commands and adds a Land Hessen text and a Darmstadt
// office for the first-time identity card.
func seedJourney(t *testing.T, dir string) {
	t.Helper()
	gemeinden := testenv.SharedData(t, "gemeinden/AuszugGV4QAktuell_raw.csv")
	leika := testenv.SharedData(t, "leika/leika-leistungen.csv")
	ozg := testenv.SharedData(t, "ozg-katalog")
	for _, args := range [][]string{
		{"import", "municipalities", gemeinden, "--data", dir},
		{"import", "leika", leika, "--ozg", ozg, "--data", dir},
	} {
		var stderr bytes.Buffer
		e := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
		if code := Main(context.Background(), e, args); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := db.Catalog()
	bund, err := c.Service(ctx, "000000000000", journeyKey)
	if err != nil {
		t.Fatalf("LeiKa lacks %s: %v", journeyKey, err)
	}
	hessen := *bund
	hessen.Tenant = "060000000000"
	hessen.Summary = "Den Personalausweis beantragen Sie persönlich bei der Personalausweisbehörde Ihres Wohnorts."
	hessen.Documents = []string{"ein aktuelles biometrisches Lichtbild", "Geburtsurkunde (bei Erstausstellung)"}
	hessen.Fees = "37,00 Euro (ab 24 Jahren)"
	serveMust(t, c.UpsertServices(ctx, []catalog.Service{hessen}))
	serveMust(t, c.UpsertOffices(ctx, []catalog.Office{{Tenant: "064110000000", ID: "da-buergeramt", Name: "Bürger- und Ordnungsamt Darmstadt",
		Street: "Grafenstraße", HouseNumber: "30", PostalCode: "64283", City: "Darmstadt", Phone: "06151 115",
		OpeningHours: "Mo–Fr 7:30–12:30 Uhr, Do 14–18 Uhr"}}))
	serveMust(t, c.UpsertOffers(ctx, []catalog.Offer{{Tenant: "064110000000", ServiceKey: journeyKey, OfficeID: "da-buergeramt"}}))
}

// journeyKey is the LeiKa key of "Personalausweis Ausstellung erstmalig".
const journeyKey = "99008001012001"

func serveMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserJourney clicks through the portal in Chromium: home → choose
// Darmstadt by postcode and by name → search → service page → login at the
// demo identity provider → account page → logout, with axe-core on every
// page of the portal.
func TestBrowserJourney(t *testing.T) {
	ctx := browsertest.New(t)
	dir := t.TempDir()
	seedJourney(t, dir)
	r := startServe(t, map[string]string{"RATHAUS_DATA": dir}, "--demo")
	shots := os.Getenv("RATHAUS_SCREENSHOTS") == "1"
	shotDir := filepath.Join(testenv.RepoRoot(t), "docs", "screenshots")

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, serveTail(r.stderr.String(), 3000))
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
	wantText := func(sel string, subs ...string) {
		t.Helper()
		got := text(sel)
		for _, s := range subs {
			if !strings.Contains(got, s) {
				t.Errorf("%s lacks %q; has:\n%s", sel, s, got)
			}
		}
	}

	// Home.
	do("open home", chromedp.Navigate(r.base+"/"))
	wantText("body", "Willkommen im digitalen Rathaus", "Demo-Betrieb", "Keine Gemeinde gewählt.")
	browsertest.Axe(t, ctx)
	if shots {
		serveMust(t, browsertest.Screenshot(ctx, filepath.Join(shotDir, "home.png")))
	}

	// Municipality by postcode.
	do("search 64283", chromedp.SendKeys(chromedp.CSS("#mq"), "64283", chromedp.NodeVisible), chromedp.Submit(chromedp.CSS("#mq")),
		chromedp.WaitVisible(chromedp.CSS("ul.results")))
	wantText("ul.results", "Darmstadt, Wissenschaftsstadt", "PLZ 64283")
	browsertest.Axe(t, ctx)

	// Municipality by name, then choose it.
	do("home again", chromedp.Navigate(r.base+"/"))
	do("search Darmstadt", chromedp.SendKeys(chromedp.CSS("#mq"), "Darmstadt", chromedp.NodeVisible), chromedp.Submit(chromedp.CSS("#mq")),
		chromedp.WaitVisible(chromedp.CSS("ul.results")))
	wantText("ul.results", "Darmstadt, Wissenschaftsstadt")
	do("choose Darmstadt", chromedp.Click(chromedp.CSS(`form.choose input[value="064110000000"] ~ button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#h-search")))
	wantText(".current-municipality", "Ihre Gemeinde: Darmstadt, Wissenschaftsstadt")

	// Search and open the service.
	do("search service", chromedp.SendKeys(chromedp.CSS("#q"), "Personalausweis erstmalig", chromedp.NodeVisible), chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS("ul.results")))
	wantText("main", "Es werden Leistungen angezeigt, die für Darmstadt, Wissenschaftsstadt gelten.")
	browsertest.Axe(t, ctx)
	do("open service", chromedp.Click(chromedp.CSS(`a[href="/leistungen/`+journeyKey+`"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".office")))
	wantText("main", "Beschreibung von: Hessen", "Personalausweisbehörde Ihres Wohnorts", "Bürger- und Ordnungsamt Darmstadt",
		"Grafenstraße 30", "Do 14–18 Uhr", "37,00 Euro", journeyKey)
	browsertest.Axe(t, ctx)
	if shots {
		serveMust(t, browsertest.Screenshot(ctx, filepath.Join(shotDir, "service.png")))
	}

	// Log in as the demo citizen through the demo identity provider.
	do("login link", chromedp.Click(chromedp.CSS(`header a[href^="/auth/login"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#username")))
	if vs, err := browsertest.AxeRun(t, ctx); err != nil || len(vs) > 0 {
		t.Logf("demo IdP login page (identity/demoidp): axe %v %v", vs, err)
	}
	do("demo login", chromedp.SendKeys(chromedp.CSS("#username"), "erika"), chromedp.SendKeys(chromedp.CSS("#password"), "demo-erika"),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("main dl.facts")))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/konto") {
		t.Errorf("after login at %s, want /konto", loc)
	}
	wantText("main", "Mein Konto", "Erika Mustermann", "hoch", "Heidestraße 17")
	browsertest.Axe(t, ctx)

	// Log out.
	do("logout", chromedp.Click(chromedp.CSS(`header form[action="/auth/logout"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`header a[href^="/auth/login"]`)))
	do("account after logout", chromedp.Navigate(r.base+"/konto"), chromedp.WaitVisible(chromedp.CSS("#username")))

	// A caseworker of Darmstadt: the staff page lists the grant, Darmstadt
	// opens, Kassel is refused.
	do("staff page", chromedp.Navigate(r.base+"/verwaltung"), chromedp.WaitVisible(chromedp.CSS("#username")))
	do("staff login", chromedp.SendKeys(chromedp.CSS("#username"), "sachbearbeiter"), chromedp.SendKeys(chromedp.CSS("#password"), "demo-sachbearbeiter"),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS(`main a[href="/verwaltung/064110000000"]`)))
	wantText("main", "Verwaltung", "Sina Bauer", "Sachbearbeitung")
	browsertest.Axe(t, ctx)
	do("own tenant", chromedp.Click(chromedp.CSS(`main a[href="/verwaltung/064110000000"]`)), chromedp.WaitVisible(chromedp.CSS("main dl.facts")))
	wantText("main", "Darmstadt, Wissenschaftsstadt", "064110000000")
	browsertest.Axe(t, ctx)
	do("other tenant", chromedp.Navigate(r.base+"/verwaltung/066110000000"), chromedp.WaitVisible(chromedp.CSS(".error-message")))
	wantText("main", "Kein Zugriff")
	if strings.Contains(text("body"), "Kassel") {
		t.Error("the refused tenant page shows Kassel")
	}
	browsertest.Axe(t, ctx)

	// The English pages pass axe too.
	do("english", chromedp.Navigate(r.base+"/suche?q=Hund&lang=en"), chromedp.WaitVisible(chromedp.CSS("ul.results")))
	wantText("main", "Search services")
	browsertest.Axe(t, ctx)
}

func serveTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
