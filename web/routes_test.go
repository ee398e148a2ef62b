// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"rathaus/identity"
	"rathaus/sqlstore"
	"rathaus/web"
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
	for _, ri := range routes {
		t.Run(ri.Pattern, func(t *testing.T) {
			if ri.Meta.Scope == web.ScopeUndeclared {
				t.Errorf("route %q has no Scope in its Meta", ri.Pattern)
			}
			if !ri.HasWildcard() {
				return
			}
			if ri.Meta.Isolation == nil && ri.Meta.NotTenantScoped == "" {
				t.Errorf("route %q has a path wildcard but neither Meta.Isolation nor Meta.NotTenantScoped", ri.Pattern)
			}
			if ri.Meta.Scope != web.ScopePublic && ri.Meta.Isolation == nil {
				t.Errorf("route %q is not public and has a wildcard: it needs Meta.Isolation", ri.Pattern)
			}
			if ri.Meta.Example == "" {
				t.Errorf("route %q has a wildcard but no Meta.Example for crawlers", ri.Pattern)
			}
		})
	}
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
			covered := 0
			for _, ri := range f.srv.Routes() {
				if ri.Meta.Isolation == nil {
					continue
				}
				covered++
				t.Run(ri.Pattern, func(t *testing.T) {
					probe, err := ri.Meta.Isolation(context.Background(), fx)
					if err != nil {
						t.Fatalf("isolation fixture: %v", err)
					}
					method := probe.Method
					if method == "" {
						method = http.MethodGet
					}
					res := f.do(method, probe.Path, probe.Body, []*http.Cookie{staffA}, nil)
					if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
						t.Errorf("%s %s as staff of A: status %d, want 403 or 404", method, probe.Path, res.StatusCode)
					}
					for _, sec := range probe.Secrets {
						if strings.Contains(res.body, sec) {
							t.Errorf("%s %s as staff of A shows %q of tenant B", method, probe.Path, sec)
						}
					}
					// Positive control: the same request for A's object works.
					own := strings.ReplaceAll(probe.Path, fx.B, fx.A)
					if own != probe.Path && method == http.MethodGet {
						if res := f.get(own, staffA); res.StatusCode != http.StatusOK {
							t.Errorf("GET %s (own tenant) status %d, want 200", own, res.StatusCode)
						}
					}
				})
			}
			if covered == 0 {
				t.Fatal("no route declares Meta.Isolation; the isolation test covers nothing")
			}
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
			crawled := 0
			for _, ri := range f.srv.Routes() {
				if ri.Method != "" && ri.Method != http.MethodGet {
					continue
				}
				path := crawlPath(ri)
				if path == "" {
					t.Errorf("route %q: no path to crawl (set Meta.Example)", ri.Pattern)
					continue
				}
				for who, cookies := range users {
					res := f.get(path, cookies...)
					crawled++
					checkHeaders(t, ri.Pattern+" as "+who, res, tls, who != "anonymous")
				}
			}
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
	h := res.Header
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
	if h.Get("Content-Type") == "" && res.StatusCode != http.StatusSeeOther {
		t.Errorf("%s: no Content-Type", what)
	}
	if h.Get("Cache-Control") == "" {
		t.Errorf("%s: no Cache-Control", what)
	}
	if loggedIn && strings.HasPrefix(h.Get("Content-Type"), "text/html") && h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: logged in, Cache-Control = %q, want no-store", what, h.Get("Cache-Control"))
	}
	hsts := h.Get("Strict-Transport-Security")
	if tls && !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("%s: TLS without HSTS", what)
	}
	if !tls && hsts != "" {
		t.Errorf("%s: HSTS over plain HTTP", what)
	}
	for _, c := range res.Cookies() {
		if !c.HttpOnly || c.SameSite == http.SameSiteNoneMode || c.SameSite == http.SameSiteDefaultMode {
			t.Errorf("%s: cookie %s lacks HttpOnly/SameSite", what, c.Name)
		}
		if tls && !c.Secure {
			t.Errorf("%s: cookie %s not Secure under TLS", what, c.Name)
		}
	}
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
