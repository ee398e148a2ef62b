// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"rathaus/catalog"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
	"rathaus/web"
)

// Tenants of the fixture: Darmstadt (A) and Kassel (B) in Hessen.
const (
	arsHessen    = "060000000000"
	arsRBDA      = "064000000000"
	arsDarmstadt = "064110000000"
	arsRBKS      = "066000000000"
	arsKassel    = "066110000000"
	keyAusweis   = "99050012104000"
	keyHund      = "99050013000000"
)

// fixture is a real store with two municipalities, a small catalog and a
// running portal on loopback.
type fixture struct {
	t        *testing.T
	db       *sqlstore.DB
	srv      *web.Server
	ts       *httptest.Server
	sessions *session.Manager
}

// dialects lists the stores the web tests run on: SQLite always, and
// PostgreSQL when RATHAUS_TEST_POSTGRES_URL is set.
func dialects(t *testing.T) []string { return sqltest.Dialects(t) }

// seed writes the fixture tenants and catalog.
func seed(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	ts := []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bundesrepublik Deutschland"},
		{ARS: arsHessen, Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Land Hessen"},
		{ARS: arsRBDA, Parent: arsHessen, Level: tenant.LevelRegierungsbezirk, Name: "Regierungsbezirk Darmstadt"},
		{ARS: arsDarmstadt, Parent: arsRBDA, Level: tenant.LevelGemeinde, Name: "Darmstadt, Wissenschaftsstadt", AGS: "06411000", PLZ: "64283", Population: 159878, Inhabited: true},
		{ARS: arsRBKS, Parent: arsHessen, Level: tenant.LevelRegierungsbezirk, Name: "Regierungsbezirk Kassel"},
		{ARS: arsKassel, Parent: arsRBKS, Level: tenant.LevelGemeinde, Name: "Kassel, documenta-Stadt", AGS: "06611000", PLZ: "34117", Population: 201048, Inhabited: true},
	}
	if err := db.Tenants().UpsertTenants(ctx, ts); err != nil {
		t.Fatal(err)
	}
	c := db.Catalog()
	must(t, c.UpsertLebenslagen(ctx, []catalog.Lebenslage{
		{ID: "ll-umzug", Name: "Umzug", Themenfeld: "Ein- und Auswanderung"},
		{ID: "ll-tiere", Name: "Haustiere", Themenfeld: "Freizeit"},
	}))
	svc := func(ten, key, name, summary string) catalog.Service {
		return catalog.Service{Tenant: ten, Key: key, LeiKa: key, Source: "leika", Name: name, Summary: summary,
			Description: "<p>" + summary + "</p><script>alert(1)</script>", Fees: "37,00 Euro", LegalBasis: "§ 9 PAuswG",
			Documents: []string{"Lichtbild", "Geburtsurkunde"}, Lebenslagen: []string{"Umzug"}, Themenfeld: "Ein- und Auswanderung"}
	}
	ss := []catalog.Service{
		svc(tenant.Bund, keyAusweis, "Personalausweis beantragen", "Bundestext zum Personalausweis."),
		svc(arsHessen, keyAusweis, "Personalausweis beantragen", "Hessischer Text zum Personalausweis."),
		svc(tenant.Bund, keyHund, "Hundesteuer anmelden", "Bundestext zur Hundesteuer."),
	}
	for i := range 25 { // enough for two result pages
		ss = append(ss, svc(tenant.Bund, "dldb-"+string(rune('a'+i)), "Bescheinigung Nummer "+string(rune('A'+i)), "Eine Bescheinigung."))
	}
	must(t, c.UpsertServices(ctx, ss))
	must(t, c.UpsertOffices(ctx, []catalog.Office{
		{Tenant: arsDarmstadt, ID: "da-buergeramt", Name: "Bürger- und Ordnungsamt Darmstadt", Street: "Grafenstraße", HouseNumber: "30",
			PostalCode: "64283", City: "Darmstadt", Phone: "06151 115", OpeningHours: "Mo–Fr 8–12 Uhr"},
		{Tenant: arsKassel, ID: "ks-buergeramt", Name: "Bürgerbüro Kassel Geheim", Street: "Obere Königsstraße", HouseNumber: "8",
			PostalCode: "34117", City: "Kassel"},
	}))
	must(t, c.UpsertOffers(ctx, []catalog.Offer{
		{Tenant: arsDarmstadt, ServiceKey: keyAusweis, OfficeID: "da-buergeramt"},
		{Tenant: arsKassel, ServiceKey: keyAusweis, OfficeID: "ks-buergeramt"},
	}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// option changes the deps before New or the server before Handler.
type option struct {
	deps   func(*web.Deps)
	server func(*web.Server)
}

// newFixture builds a seeded store and a portal over it.
func newFixture(t *testing.T, dialect string, cfg web.Config, opts ...option) *fixture {
	t.Helper()
	db := sqltest.Open(t, dialect)
	seed(t, db)
	mgr := session.NewManager(db.Identity(), session.Options{Secure: cfg.TLS || cfg.SecureCookies})
	deps := web.Deps{
		Tenants:  db.Tenants(),
		Catalog:  db.Catalog(),
		Identity: db.Identity(),
		Sessions: mgr.Middleware,
		Ready:    db.Ping,
		Auth: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "auth stub")
		}),
		HasForm: func(key string) bool { return key == keyAusweis },
	}
	for _, o := range opts {
		if o.deps != nil {
			o.deps(&deps)
		}
	}
	srv, err := web.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		if o.server != nil {
			o.server(srv)
		}
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{t: t, db: db, srv: srv, ts: ts, sessions: mgr}
}

// login creates a user with grants and a session in the store and returns
// the session cookie.
func (f *fixture) login(kind identity.Kind, subject string, loa identity.LoA, grants ...identity.Grant) *http.Cookie {
	f.t.Helper()
	ctx := context.Background()
	u, err := f.db.Identity().UpsertUser(ctx, identity.User{Kind: kind, Issuer: "https://idp.test", Subject: subject, Name: "Erika Mustermann " + subject,
		Profile: identity.Profile{GivenName: "Erika", FamilyName: "Mustermann", City: "Darmstadt"}})
	must(f.t, err)
	for i := range grants {
		grants[i].UserID = u.ID
	}
	if len(grants) > 0 {
		must(f.t, f.db.Identity().SetGrants(ctx, u.ID, grants))
	}
	now := time.Now().UTC().Truncate(time.Second)
	s := identity.Session{ID: session.NewID(), UserID: u.ID, LoA: loa, IdP: "https://idp.test", AuthTime: now, ExpiresAt: now.Add(time.Hour), Lang: "de"}
	must(f.t, f.db.Identity().CreateSession(ctx, s))
	return &http.Cookie{Name: f.sessions.CookieName(), Value: s.ID}
}

// response is a finished request.
type response struct {
	*http.Response
	body string
}

// do sends a request without following redirects.
func (f *fixture) do(method, path string, body string, cookies []*http.Cookie, hdr map[string]string) response {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.ts.URL+path, rd)
	must(f.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
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

func (f *fixture) get(path string, cookies ...*http.Cookie) response {
	f.t.Helper()
	return f.do(http.MethodGet, path, "", cookies, nil)
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}
