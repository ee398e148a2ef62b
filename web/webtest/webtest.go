// SPDX-License-Identifier: EUPL-1.2

// Package webtest holds the route-enumerating checks of the portal, so
// that they run both against the web package's own fixture and against the
// fully wired server of `rathaus serve` (with every feature's routes):
//
//   - CheckDeclared: every route declares a scope; every route with a path
//     wildcard carries an isolation probe or says why it has no tenant data;
//   - CheckIsolation: every isolation probe, sent as a user of tenant A for
//     an object of tenant B, gets 403/404 and shows nothing of B;
//   - CheckHeaders: every GET route answers with the security header set.
//
// A feature that registers a route through web.Server.Route is covered
// without further work; a tenant-scoped route without a probe fails.
package webtest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"rathaus/web"
)

// CSP is the Content-Security-Policy every response must carry.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// CheckDeclared fails for every route without a scope, and for every route
// with a path wildcard that has neither Meta.Isolation nor
// Meta.NotTenantScoped (non-public wildcard routes need Isolation) or no
// Meta.Example for crawlers.
func CheckDeclared(t testing.TB, routes []web.RouteInfo) {
	t.Helper()
	if len(routes) == 0 {
		t.Fatal("webtest: no routes registered")
	}
	for _, ri := range routes {
		if ri.Meta.Scope == web.ScopeUndeclared {
			t.Errorf("route %q has no Scope in its Meta", ri.Pattern)
		}
		if !ri.HasWildcard() {
			continue
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
	}
}

// Response is a finished request with its body read.
type Response struct {
	*http.Response
	Body string
}

// Do sends one request to base+path with the cookies and headers, without
// following redirects.
func Do(t testing.TB, method, url, body string, cookies []*http.Cookie, hdr map[string]string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{res, string(b)}
}

// Users are the sessions the isolation probes are sent with: a staff
// member holding grants on fixture tenant A only, and a citizen of A.
type Users struct {
	Staff   []*http.Cookie
	Citizen []*http.Cookie
}

// CheckIsolation runs the isolation probe of every route against the
// server at base, as users.Staff (or users.Citizen for AsCitizen probes).
// Each probe must answer 403 or 404 and contain none of its secrets; the
// same GET for A's object (B's ARS replaced by A's) must answer 200, so a
// route that refuses everybody does not pass by accident. It returns the
// number of routes probed and fails when it is zero.
func CheckIsolation(t *testing.T, base string, routes []web.RouteInfo, fx *web.IsolationFixture, users Users) int {
	t.Helper()
	covered := 0
	for _, ri := range routes {
		if ri.Meta.Isolation == nil {
			continue
		}
		covered++
		t.Run("isolation "+ri.Pattern, func(t *testing.T) {
			probe, err := ri.Meta.Isolation(context.Background(), fx)
			if err != nil {
				t.Fatalf("isolation fixture: %v", err)
			}
			method := probe.Method
			if method == "" {
				method = http.MethodGet
			}
			cookies := users.Staff
			if probe.AsCitizen {
				cookies = users.Citizen
				if cookies == nil {
					t.Fatal("probe wants a citizen, but the test gave none")
				}
			}
			res := Do(t, method, base+probe.Path, probe.Body, cookies, nil)
			if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as a user of %s: status %d, want 403 or 404", method, probe.Path, fx.A, res.StatusCode)
			}
			for _, sec := range probe.Secrets {
				if sec != "" && strings.Contains(res.Body, sec) {
					t.Errorf("%s %s as a user of %s shows %q of tenant %s", method, probe.Path, fx.A, sec, fx.B)
				}
			}
			own := strings.ReplaceAll(probe.Path, fx.B, fx.A)
			if own != probe.Path && method == http.MethodGet {
				if res := Do(t, method, base+own, "", cookies, nil); res.StatusCode != http.StatusOK {
					t.Errorf("GET %s (own tenant): status %d, want 200", own, res.StatusCode)
				}
			}
		})
	}
	if covered == 0 {
		t.Error("no route declares Meta.Isolation: the isolation check covers nothing")
	}
	return covered
}

// CrawlPath returns the path a crawler requests for a route: Meta.Example,
// else the pattern's path when it has no wildcard, else "".
func CrawlPath(ri web.RouteInfo) string {
	if ri.Meta.Example != "" {
		return ri.Meta.Example
	}
	p := strings.ReplaceAll(ri.Path, "{$}", "")
	if strings.Contains(p, "{") {
		return ""
	}
	return p
}

// CheckHeaders requests every GET route (and every route without a
// method) as each user and checks the header set of every response. It
// returns the number of responses checked.
func CheckHeaders(t *testing.T, base string, routes []web.RouteInfo, users map[string][]*http.Cookie, tls bool) int {
	t.Helper()
	n := 0
	for _, ri := range routes {
		if ri.Method != "" && ri.Method != http.MethodGet {
			continue
		}
		path := CrawlPath(ri)
		if path == "" {
			t.Errorf("route %q: no path to crawl (set Meta.Example)", ri.Pattern)
			continue
		}
		for who, cookies := range users {
			res := Do(t, http.MethodGet, base+path, "", cookies, nil)
			n++
			Headers(t, ri.Pattern+" as "+who, res, tls, len(cookies) > 0)
		}
	}
	return n
}

// Headers checks one response: CSP, nosniff, Referrer-Policy,
// X-Frame-Options, a request id, Content-Type, Cache-Control (no-store on
// HTML for logged-in users), HSTS exactly when tls, and cookie attributes.
func Headers(t *testing.T, what string, res Response, tls, loggedIn bool) {
	t.Helper()
	h := res.Header
	want := map[string]string{
		"Content-Security-Policy": CSP,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if rp := h.Get("Referrer-Policy"); rp != "same-origin" && rp != "strict-origin-when-cross-origin" && rp != "no-referrer" {
		t.Errorf("%s: Referrer-Policy = %q", what, rp)
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
	if h.Get("Content-Type") == "" && res.StatusCode/100 != 3 {
		t.Errorf("%s: no Content-Type", what)
	}
	cc := h.Get("Cache-Control")
	if cc == "" {
		t.Errorf("%s: no Cache-Control", what)
	}
	if loggedIn && strings.HasPrefix(h.Get("Content-Type"), "text/html") && cc != "no-store" {
		t.Errorf("%s: logged in, Cache-Control = %q, want no-store", what, cc)
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
