// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"rathaus"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/sqlstore"
	"rathaus/web"
	"rathaus/web/webtest"
)

// TestRoutesDeclareAccess fails when a route is registered without a scope,
// or with a wildcard in its path but neither an isolation fixture nor a
// reason why it carries no tenant data.
func TestRoutesDeclareAccess(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{Demo: true})
	routes := f.srv.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	webtest.CheckDeclared(t, routes)
}

// TestTenantIsolation requests every tenant-scoped route as a staff member
// of tenant A (Darmstadt) for objects of tenant B (Kassel) and asserts a
// 403/404 that shows nothing of B. It also checks the same user reaches
// A's objects, so a route that refuses everyone cannot pass by accident.
func TestTenantIsolation(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d, web.Config{})
			staffA := f.login(identity.KindStaff, "staff-a", identity.LoASubstantial,
				identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
			p, err := f.sessions.Load(context.Background(), requestWithCookie(staffA))
			if err != nil || p == nil {
				t.Fatalf("load principal: %v %v", p, err)
			}
			fx := &web.IsolationFixture{A: arsDarmstadt, B: arsKassel, Tenants: f.db.Tenants(), Catalog: f.db.Catalog(),
				Identity: f.db.Identity(), Principal: p}
			webtest.CheckIsolation(t, f.ts.URL, f.srv.Routes(), fx, webtest.Users{Staff: []*http.Cookie{staffA}})
		})
	}
}

func requestWithCookie(c *http.Cookie) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	r.AddCookie(c)
	return r
}

// TestSecurityHeaders crawls every GET route anonymously and logged in and
// checks the header set on each response.
func TestSecurityHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, sqlstore.SQLite, web.Config{TLS: tls, Demo: true}, option{deps: func(d *web.Deps) {
				d.DemoIdP = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("idp")) })
			}})
			citizen := f.login(identity.KindCitizen, "c1", identity.LoASubstantial)
			staff := f.login(identity.KindStaff, "s1", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
			users := map[string][]*http.Cookie{"anonymous": nil, "citizen": {citizen}, "staff": {staff}}
			crawled := webtest.CheckHeaders(t, f.ts.URL, f.srv.Routes(), users, tls)
			// Unmatched paths and error pages carry the set too.
			checkHeaders(t, "404", f.get("/gibt-es-nicht"), tls, false)
			if crawled < 30 {
				t.Errorf("crawled only %d responses", crawled)
			}
		})
	}
}

func checkHeaders(t *testing.T, what string, res response, tls, loggedIn bool) {
	t.Helper()
	webtest.Headers(t, what, webtest.Response{Response: res.Response, Body: res.body}, tls, loggedIn)
}

// TestScopes checks the guard: anonymous users are sent to the login,
// citizens may not enter staff pages, and too-low LoA is refused.
func TestScopes(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, web.Config{}, option{server: func(s *web.Server) {
		s.Route("GET /hoch", web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			_, _ = w.Write([]byte("hoch"))
			return nil
		}), web.Meta{Scope: web.ScopeCitizen, MinLoA: identity.LoAHigh})
		s.Route("GET /ohne-scope", web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return nil }), web.Meta{})
	}})
	citizen := f.login(identity.KindCitizen, "c1", identity.LoASubstantial)
	staff := f.login(identity.KindStaff, "s1", identity.LoALow, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
	tests := []struct {
		name     string
		path     string
		cookie   *http.Cookie
		status   int
		location string
	}{
		{"anonymous account redirects to login", "/konto", nil, http.StatusSeeOther, "/auth/login?as=citizen&next=%2Fkonto"},
		{"anonymous staff page redirects to staff login", "/verwaltung", nil, http.StatusSeeOther, "/auth/login?as=staff&next=%2Fverwaltung"},
		{"citizen account", "/konto", citizen, http.StatusOK, ""},
		{"citizen on staff page", "/verwaltung", citizen, http.StatusForbidden, ""},
		{"staff page", "/verwaltung", staff, http.StatusOK, ""},
		{"staff own tenant", "/verwaltung/" + arsDarmstadt, staff, http.StatusOK, ""},
		{"staff parent tenant", "/verwaltung/" + arsHessen, staff, http.StatusForbidden, ""},
		{"staff malformed ars", "/verwaltung/abc", staff, http.StatusNotFound, ""},
		{"LoA too low", "/hoch", citizen, http.StatusForbidden, ""},
		{"undeclared scope serves nobody", "/ohne-scope", citizen, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cs []*http.Cookie
			if tt.cookie != nil {
				cs = append(cs, tt.cookie)
			}
			res := f.get(tt.path, cs...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.status, res.body)
			}
			if tt.location != "" && res.Header.Get("Location") != tt.location {
				t.Errorf("Location %q, want %q", res.Header.Get("Location"), tt.location)
			}
		})
	}
}

// recorder catches the failures of a check, so a test can assert that the
// check fails.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatal(a ...any)            { r.errs = append(r.errs, fmt.Sprint(a...)) }

// TestUncoveredRouteFails registers routes that break the rules and checks
// that CheckDeclared reports each of them.
func TestUncoveredRouteFails(t *testing.T) {
	noop := web.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	tests := []struct {
		name    string
		pattern string
		meta    web.Meta
		want    string
	}{
		{"no scope", "GET /neu", web.Meta{}, "has no Scope"},
		{"wildcard without isolation", "GET /antraege/{id}", web.Meta{Scope: web.ScopeCitizen, Example: "/antraege/1"}, "needs Meta.Isolation"},
		{"public wildcard without reason", "GET /formulare/{id}", web.Meta{Scope: web.ScopePublic, Example: "/formulare/1"}, "neither Meta.Isolation nor Meta.NotTenantScoped"},
		{"wildcard without example", "GET /faelle/{ars}/{id}", web.Meta{Scope: web.ScopeStaff, Isolation: func(context.Context, *web.IsolationFixture) (web.IsolationProbe, error) {
			return web.IsolationProbe{}, nil
		}}, "no Meta.Example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, sqlstore.SQLite, web.Config{}, option{server: func(s *web.Server) { s.Route(tt.pattern, noop, tt.meta) }})
			rec := &recorder{TB: t}
			webtest.CheckDeclared(rec, f.srv.Routes())
			found := false
			for _, e := range rec.errs {
				if !strings.Contains(e, tt.pattern) {
					t.Errorf("failure about another route: %s", e)
				}
				found = found || strings.Contains(e, tt.want)
			}
			if !found {
				t.Errorf("CheckDeclared reported %q, want a failure about %q", rec.errs, tt.want)
			}
		})
	}
}

// featureStub is a feature with one tenant-scoped staff route.
type featureStub struct{ srv *web.Server }

func (f *featureStub) Register(s *web.Server) {
	f.srv = s
	s.Route("GET /faelle/{ars}", web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		ars := r.PathValue("ars")
		p := session.FromContext(r.Context())
		if !p.Can(identity.RoleCaseworker, ars) {
			return rathaus.Errorf(rathaus.EFORBIDDEN, "Kein Zugriff.")
		}
		_, err := w.Write([]byte("Fälle von " + ars))
		return err
	}), web.Meta{Scope: web.ScopeStaff, Role: identity.RoleCaseworker, Example: "/faelle/" + arsDarmstadt,
		Isolation: func(ctx context.Context, fx *web.IsolationFixture) (web.IsolationProbe, error) {
			return web.IsolationProbe{Path: "/faelle/" + fx.B, Secrets: []string{"Fälle von " + fx.B}}, nil
		}})
	// A citizen's mailbox: messages belong to one user.
	s.Route("GET /postfach/{id}", web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p := session.FromContext(r.Context())
		if r.PathValue("id") != "nachricht-"+p.User.ID {
			return rathaus.Errorf(rathaus.ENOTFOUND, "Diese Nachricht gibt es nicht.")
		}
		_, err := w.Write([]byte("Ihre Nachricht"))
		return err
	}), web.Meta{Scope: web.ScopeCitizen, Personal: true, Example: "/postfach/x",
		Isolation: func(ctx context.Context, fx *web.IsolationFixture) (web.IsolationProbe, error) {
			other, err := fx.Identity.UpsertUser(ctx, identity.User{Kind: identity.KindCitizen, Issuer: "https://idp.test", Subject: "andere", Name: "Andere Person"})
			if err != nil {
				return web.IsolationProbe{}, err
			}
			return web.IsolationProbe{Path: "/postfach/nachricht-" + other.ID, AsCitizen: true, Secrets: []string{"Ihre Nachricht"}}, nil
		}})
}

// TestFeatureRoutes checks that a feature's routes join the registry and
// the isolation check.
func TestFeatureRoutes(t *testing.T) {
	feat := &featureStub{}
	f := newFixture(t, sqlstore.SQLite, web.Config{}, option{deps: func(d *web.Deps) { d.Features = append(d.Features, feat) }})
	if feat.srv != f.srv {
		t.Fatal("feature not registered on the server")
	}
	staffA := f.login(identity.KindStaff, "staff-a", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
	p, err := f.sessions.Load(context.Background(), requestWithCookie(staffA))
	if err != nil {
		t.Fatal(err)
	}
	citizen := f.login(identity.KindCitizen, "citizen-a", identity.LoASubstantial)
	fx := &web.IsolationFixture{A: arsDarmstadt, B: arsKassel, Tenants: f.db.Tenants(), Catalog: f.db.Catalog(), Identity: f.db.Identity(), Principal: p}
	webtest.CheckDeclared(t, f.srv.Routes())
	users := webtest.Users{Staff: []*http.Cookie{staffA}, Citizen: []*http.Cookie{citizen}}
	if n := webtest.CheckIsolation(t, f.ts.URL, f.srv.Routes(), fx, users); n != 3 {
		t.Errorf("isolation probed %d routes, want 3 (portal + 2 of the feature)", n)
	}
}
