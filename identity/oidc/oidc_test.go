// SPDX-License-Identifier: EUPL-1.2

package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus/audit"
	"rathaus/identity"
	"rathaus/identity/demoidp"
	"rathaus/identity/internal/memstore"
	"rathaus/identity/oidc"
	"rathaus/identity/session"
	"rathaus/sqlstore/sqltest"
)

var quiet = slog.New(slog.DiscardHandler)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func signingKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return testKey
}

var erika = identity.Profile{
	GivenName: "Erika", FamilyName: "Mustermann", BirthDate: "1964-08-12", BirthPlace: "Berlin",
	Nationality: "DE", Street: "Heidestraße 17", PostalCode: "51147", City: "Köln", Country: "DE",
	Email: "erika@example.org", Phone: "+49 221 123456",
}

var demoUsers = []demoidp.User{
	{Subject: "erika", Password: "demo-erika", Name: "Erika Mustermann", Profile: erika, LoA: identity.LoASubstantial},
	{Subject: "max", Password: "demo-max", Name: "Max Basis", Profile: identity.Profile{GivenName: "Max", FamilyName: "Basis"}, LoA: identity.LoALow},
	{Subject: "sb-darmstadt", Password: "demo-sb", Name: "Sachbearbeiterin Darmstadt", Profile: identity.Profile{GivenName: "Sina", FamilyName: "Bauer", Email: "sina.bauer@darmstadt.example"}, LoA: identity.LoASubstantial,
		Roles: demoidp.RolesFromGrants([]identity.Grant{{Tenant: "064110000000", Role: identity.RoleCaseworker}})},
	{Subject: "bad-roles", Password: "demo-bad", Name: "Falsche Rolle", LoA: identity.LoALow, Roles: []string{"king@064110000000"}},
}

type env struct {
	srv      *httptest.Server
	store    identity.Store
	audit    audit.Log
	sessions *session.Manager
	// loginPath is the IdP login page last seen by openLogin.
	loginPath string
}

// eachStore runs fn on every store: in memory, SQLite and PostgreSQL
// (skipped without RATHAUS_TEST_POSTGRES_URL). fn gets a constructor for a
// fresh environment on that store.
func eachStore(t *testing.T, fn func(t *testing.T, setup func(*testing.T) *env)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func(t *testing.T) *env { return setupOn(t, memstore.New(), &memstore.Audit{}) })
	})
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			fn(t, func(t *testing.T) *env {
				db := sqltest.Open(t, d)
				return setupOn(t, db.Identity(), db.Audit())
			})
		})
	}
}

// setupOn serves the demo IdP, the relying party and a protected page from
// one loopback server, as `rathaus serve --demo` does.
func setupOn(t *testing.T, store identity.Store, log audit.Log) *env {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{srv: srv, store: store, audit: log}

	idp, err := demoidp.New(demoidp.Config{
		Issuer:     srv.URL + "/demo-idp",
		Users:      demoUsers,
		Clients:    []demoidp.Client{{ID: "rathaus", Secret: "geheim", RedirectURIs: []string{srv.URL + "/auth/callback"}}},
		SigningKey: signingKey(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/demo-idp/", idp)

	e.sessions = session.NewManager(e.store, session.Options{})
	prov := oidc.Provider{Issuer: srv.URL + "/demo-idp", ClientID: "rathaus", ClientSecret: "geheim", Scopes: []string{"profile", "email", "phone", "address"}}
	rp := oidc.New(oidc.Config{Citizen: prov, Staff: prov, RedirectURL: srv.URL + "/auth/callback", Logger: quiet}, e.store, e.sessions, e.audit)
	mux.Handle("/auth/", rp)
	mux.Handle("/mein-konto", e.sessions.Middleware(e.sessions.RequireLoA(identity.LoALow)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := session.FromContext(r.Context())
		fmt.Fprintf(w, "Angemeldet als %s (%s, %s, %s)", p.User.Name, p.User.Kind, p.Session.LoA, strings.Join(demoidp.RolesFromGrants(p.Grants), " "))
	}))))
	return e
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var idField = regexp.MustCompile(`name="id" value="([^"]+)"`)

// openLogin follows GET /auth/login to the IdP's login page and returns
// the auth request id from its form.
func (e *env) openLogin(t *testing.T, c *http.Client, query string) string {
	t.Helper()
	res, err := c.Get(e.srv.URL + "/auth/login?" + query)
	if err != nil {
		t.Fatal(err)
	}
	page := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "-idp/login") {
		t.Fatalf("login did not reach the IdP login page: %d %s\n%s", res.StatusCode, res.Request.URL, page)
	}
	m := idField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("login page has no auth request id:\n%s", page)
	}
	e.loginPath = res.Request.URL.Path
	return m[1]
}

func (e *env) submit(t *testing.T, c *http.Client, id, user, pw string) (*http.Response, string) {
	t.Helper()
	if e.loginPath == "" {
		e.loginPath = "/demo-idp/login"
	}
	res, err := c.PostForm(e.srv.URL+e.loginPath, url.Values{"id": {id}, "username": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	return res, body(t, res)
}

// login runs the whole flow and returns the final response and its body.
func (e *env) login(t *testing.T, c *http.Client, as, next, user, pw string, loa ...string) (*http.Response, string) {
	t.Helper()
	q := url.Values{"as": {as}, "next": {next}}
	if len(loa) > 0 {
		q.Set("loa", loa[0])
	}
	id := e.openLogin(t, c, q.Encode())
	return e.submit(t, c, id, user, pw)
}

func (e *env) entries(t *testing.T) []audit.Entry {
	t.Helper()
	var es []audit.Entry
	if err := e.audit.Walk(context.Background(), func(en audit.Entry) error { es = append(es, en); return nil }); err != nil {
		t.Fatal(err)
	}
	return es
}

// alive reports whether session id is in the store and unexpired.
func (e *env) alive(sid string) bool {
	_, err := e.store.Session(context.Background(), sid)
	return err == nil
}

func (e *env) sessionCookie(c *http.Client) string {
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "rathaus_session" {
			return ck.Value
		}
	}
	return ""
}

func TestCitizenLogin(t *testing.T) { eachStore(t, testCitizenLogin) }

func testCitizenLogin(t *testing.T, setup func(*testing.T) *env) {
	e := setup(t)
	c := newClient(t)
	res, page := e.login(t, c, "citizen", "/mein-konto", "erika", "demo-erika")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/mein-konto" {
		t.Fatalf("ended at %d %s: %s", res.StatusCode, res.Request.URL, page)
	}
	if want := "Angemeldet als Erika Mustermann (citizen, substantial, )"; page != want {
		t.Errorf("page = %q, want %q", page, want)
	}

	sid := e.sessionCookie(c)
	s, err := e.store.Session(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if s.LoA != identity.LoASubstantial || s.IdP != e.srv.URL+"/demo-idp" {
		t.Errorf("session = %+v", s)
	}
	u, err := e.store.User(context.Background(), s.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(erika, u.Profile); diff != "" {
		t.Errorf("profile from the claims (-want +got):\n%s", diff)
	}
	if u.Kind != identity.KindCitizen || u.Subject != "erika" || u.Issuer != e.srv.URL+"/demo-idp" {
		t.Errorf("user = %+v", u)
	}

	es := e.entries(t)
	if len(es) != 1 || es[0].Action != "login" || es[0].Actor != u.ID || es[0].Details["loa"] != "substantial" || es[0].Details["kind"] != "citizen" {
		t.Errorf("audit = %+v", es)
	}
	if bad, reason, err := audit.Verify(context.Background(), e.audit); bad != 0 || err != nil {
		t.Errorf("audit chain broken at %d: %s %v", bad, reason, err)
	}

	t.Run("second login gets a new session id", func(t *testing.T) {
		e.login(t, c, "citizen", "/mein-konto", "erika", "demo-erika")
		if again := e.sessionCookie(c); again == sid || again == "" {
			t.Errorf("session id not renewed: %q", again)
		}
		if _, err := e.store.Session(context.Background(), sid); err == nil {
			t.Error("old session still exists")
		}
	})
}

func TestLowLoAAndMissingNext(t *testing.T) {
	eachStore(t, func(t *testing.T, setup func(*testing.T) *env) {
		testLowLoAAndMissingNext(t, setup(t))
	})
}

func testLowLoAAndMissingNext(t *testing.T, e *env) {
	c := newClient(t)
	res, _ := e.login(t, c, "", "", "max", "demo-max")
	if res.Request.URL.Path != "/" {
		t.Errorf("without next the login ends at %s, want /", res.Request.URL.Path)
	}
	res, err := c.Get(e.srv.URL + "/mein-konto")
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, res); page != "Angemeldet als Max Basis (citizen, low, )" {
		t.Errorf("page = %q", page)
	}
}

func TestStaffLoginGrants(t *testing.T) { eachStore(t, testStaffLoginGrants) }

func testStaffLoginGrants(t *testing.T, setup func(*testing.T) *env) {
	e := setup(t)
	c := newClient(t)
	_, page := e.login(t, c, "staff", "/mein-konto", "sb-darmstadt", "demo-sb")
	if want := "Angemeldet als Sachbearbeiterin Darmstadt (staff, substantial, caseworker@064110000000)"; page != want {
		t.Fatalf("page = %q, want %q", page, want)
	}
	s, _ := e.store.Session(context.Background(), e.sessionCookie(c))
	gs, _ := e.store.Grants(context.Background(), s.UserID)
	if want := []identity.Grant{{UserID: s.UserID, Tenant: "064110000000", Role: identity.RoleCaseworker}}; !cmp.Equal(gs, want) {
		t.Errorf("grants = %+v, want %+v", gs, want)
	}
	u, _ := e.store.User(context.Background(), s.UserID)
	if u.Profile.BirthDate != "" || u.Profile.Street != "" {
		t.Errorf("staff profile keeps private data: %+v", u.Profile)
	}

	t.Run("shared IdP: the citizen link still gives staff", func(t *testing.T) {
		e := setup(t)
		_, page := e.login(t, newClient(t), "citizen", "/mein-konto", "sb-darmstadt", "demo-sb")
		if want := "Angemeldet als Sachbearbeiterin Darmstadt (staff, substantial, caseworker@064110000000)"; page != want {
			t.Errorf("page = %q, want %q", page, want)
		}
	})
	t.Run("shared IdP: the staff link gives a citizen a citizen account", func(t *testing.T) {
		_, page := e.login(t, newClient(t), "staff", "/mein-konto", "erika", "demo-erika")
		if want := "Angemeldet als Erika Mustermann (citizen, substantial, )"; page != want {
			t.Errorf("page = %q, want %q", page, want)
		}
	})
	t.Run("invalid roles refuse the login", func(t *testing.T) {
		c := newClient(t)
		res, _ := e.login(t, c, "staff", "/", "bad-roles", "demo-bad")
		if res.StatusCode != http.StatusForbidden || e.sessionCookie(c) != "" {
			t.Errorf("status %d, session %q; want 403 and none", res.StatusCode, e.sessionCookie(c))
		}
		es := e.entries(t)
		if last := es[len(es)-1]; last.Action != "login.refused" || last.Details["reason"] != "forbidden" || last.Details["kind"] != "staff" {
			t.Errorf("last audit entry %+v", last)
		}
	})
}

func TestWrongPassword(t *testing.T) {
	eachStore(t, func(t *testing.T, setup func(*testing.T) *env) { testWrongPassword(t, setup(t)) })
}

func testWrongPassword(t *testing.T, e *env) {
	c := newClient(t)
	id := e.openLogin(t, c, "as=citizen&next=/mein-konto")
	for _, tt := range []struct{ name, user, pw string }{
		{"wrong password", "erika", "demo-max"},
		{"unknown user", "mallory", "demo-erika"},
		{"empty password", "erika", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, page := e.submit(t, c, id, tt.user, tt.pw)
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Passwort ist falsch") {
				t.Errorf("status %d, page:\n%s", res.StatusCode, page)
			}
			if e.sessionCookie(c) != "" {
				t.Error("a session was created")
			}
		})
	}
	t.Run("then the right password still works", func(t *testing.T) {
		res, page := e.submit(t, c, id, "erika", "demo-erika")
		if res.Request.URL.Path != "/mein-konto" || !strings.Contains(page, "Erika") {
			t.Errorf("ended at %s: %s", res.Request.URL, page)
		}
	})
}

// stopAtCallback returns a client that does not follow the IdP's redirect
// back to the RP, so the test can tamper with it.
func stopAtCallback(c *http.Client) {
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

func TestCallbackTampering(t *testing.T) { eachStore(t, testCallbackTampering) }

func testCallbackTampering(t *testing.T, setup func(*testing.T) *env) {
	tests := []struct {
		name   string
		tamper func(q url.Values, c *http.Client, e *env)
	}{
		{"state changed", func(q url.Values, _ *http.Client, _ *env) { q.Set("state", q.Get("state")+"x") }},
		{"state missing", func(q url.Values, _ *http.Client, _ *env) { q.Del("state") }},
		{"code changed", func(q url.Values, _ *http.Client, _ *env) { q.Set("code", "forged") }},
		{"flow cookie lost", func(_ url.Values, c *http.Client, e *env) {
			jar, _ := cookiejar.New(nil)
			c.Jar = jar
		}},
		{"flow cookie forged", func(_ url.Values, c *http.Client, e *env) {
			u, _ := url.Parse(e.srv.URL + "/auth/")
			c.Jar.SetCookies(u, []*http.Cookie{{Name: "rathaus_oidc", Value: "AAAA" + strings.Repeat("B", 80), Path: "/auth/"}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			c := newClient(t)
			id := e.openLogin(t, c, "as=citizen&next=/mein-konto")
			stopAtCallback(c)
			res, _ := e.submit(t, c, id, "erika", "demo-erika")
			loc, err := res.Location()
			if err != nil || loc.Path != "/auth/callback" {
				t.Fatalf("IdP did not redirect to the callback: %d %v", res.StatusCode, err)
			}
			q := loc.Query()
			if q.Get("code") == "" || q.Get("state") == "" {
				t.Fatalf("callback without code/state: %s", loc)
			}
			tt.tamper(q, c, e)
			loc.RawQuery = q.Encode()
			res, err = c.Get(loc.String())
			if err != nil {
				t.Fatal(err)
			}
			page := body(t, res)
			if res.StatusCode < 400 || e.sessionCookie(c) != "" {
				t.Errorf("tampered callback accepted: %d %s", res.StatusCode, page)
			}
		})
	}

	t.Run("replayed callback", func(t *testing.T) {
		e := setup(t)
		c := newClient(t)
		id := e.openLogin(t, c, "as=citizen")
		stopAtCallback(c)
		res, _ := e.submit(t, c, id, "erika", "demo-erika")
		loc, _ := res.Location()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if res, _ := c.Get(loc.String()); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %d", res.StatusCode)
		}
		sid := e.sessionCookie(c)
		res, _ = c.Get(loc.String())
		if res.StatusCode != http.StatusBadRequest || !e.alive(sid) || e.sessionCookie(c) != sid {
			t.Errorf("replay: %d, session changed", res.StatusCode)
		}
	})
}

func TestOpenRedirectRefused(t *testing.T) {
	e := setupOn(t, memstore.New(), &memstore.Audit{})
	c := newClient(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, next := range []string{"https://evil.example", "//evil.example/x", "/\\evil.example", "http:/evil.example", "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1"} {
		t.Run(next, func(t *testing.T) {
			res, err := c.Get(e.srv.URL + "/auth/login?" + url.Values{"as": {"citizen"}, "next": {next}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
				t.Errorf("next=%q: %d %q", next, res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
	t.Run("unknown kind", func(t *testing.T) {
		res, _ := c.Get(e.srv.URL + "/auth/login?as=admin")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("as=admin: %d", res.StatusCode)
		}
	})
}

func TestSafeNext(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "/", true},
		{"/", "/", true},
		{"/antrag/123?schritt=2#x", "/antrag/123?schritt=2#x", true},
		{"https://evil.example", "", false},
		{"//evil.example", "", false},
		{"/\\evil.example", "", false},
		{"evil.example", "", false},
		{"/a\tb", "", false},
		{"/" + strings.Repeat("a", 3000), "", false},
	}
	for _, tt := range tests {
		got, ok := oidc.SafeNext(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SafeNext(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, setup func(*testing.T) *env) { testLogout(t, setup(t)) })
}

func testLogout(t *testing.T, e *env) {
	c := newClient(t)
	e.login(t, c, "citizen", "/mein-konto", "erika", "demo-erika")
	sid := e.sessionCookie(c)

	t.Run("cross-origin logout is refused", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/auth/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || !e.alive(sid) {
			t.Errorf("status %d, session alive %v", res.StatusCode, e.alive(sid))
		}
	})

	res, err := c.Post(e.srv.URL+"/auth/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/" {
		t.Errorf("logout ended at %s", res.Request.URL)
	}
	if _, err := e.store.Session(context.Background(), sid); err == nil {
		t.Error("session still in the store")
	}
	if e.sessionCookie(c) != "" {
		t.Error("cookie not cleared")
	}
	es := e.entries(t)
	if last := es[len(es)-1]; last.Action != "logout" {
		t.Errorf("last audit entry %+v", last)
	}

	// The old id, replayed, is anonymous.
	c2 := newClient(t)
	c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("GET", e.srv.URL+"/mein-konto", nil)
	req.AddCookie(&http.Cookie{Name: "rathaus_session", Value: sid})
	res, err = c2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/auth/login?next=") {
		t.Errorf("protected page after logout: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestIdPUnreachableIsNotCached(t *testing.T) {
	st := memstore.New()
	sm := session.NewManager(st, session.Options{})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	prov := oidc.Provider{Issuer: srv.URL + "/demo-idp", ClientID: "rathaus", ClientSecret: "geheim"}
	rp := oidc.New(oidc.Config{Citizen: prov, RedirectURL: srv.URL + "/auth/callback", Logger: quiet}, st, sm, &memstore.Audit{})
	mux.Handle("/auth/", rp)

	c := newClient(t)
	res, _ := c.Get(srv.URL + "/auth/login")
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("IdP not mounted yet: %d, want 503", res.StatusCode)
	}
	res, _ = c.Get(srv.URL + "/auth/login?as=staff")
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("no staff IdP configured: %d, want 400", res.StatusCode)
	}
	idp, err := demoidp.New(demoidp.Config{Issuer: srv.URL + "/demo-idp", Users: demoUsers, SigningKey: signingKey(t),
		Clients: []demoidp.Client{{ID: "rathaus", Secret: "geheim", RedirectURIs: []string{srv.URL + "/auth/callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/demo-idp/", idp)
	e := &env{srv: srv, store: st}
	if res, page := e.login(t, c, "citizen", "/auth/x", "erika", "demo-erika"); res.Request.URL.Path != "/auth/x" {
		t.Errorf("login after the IdP came up ended at %s: %s", res.Request.URL, page)
	}
	if st.SessionCount() != 1 {
		t.Errorf("%d sessions, want 1", st.SessionCount())
	}
}

// TestStepUp asks for a minimum level of assurance with loa=: the RP sends
// acr_values and the demo IdP refuses accounts below it.
func TestStepUp(t *testing.T) {
	e := setupOn(t, memstore.New(), &memstore.Audit{})
	tests := []struct {
		name, loa, user, pw string
		status              int
		page                string
	}{
		{"substantial account, substantial asked", "substantial", "erika", "demo-erika", http.StatusOK, "Angemeldet als Erika Mustermann (citizen, substantial, )"},
		{"low account, substantial asked", "substantial", "max", "demo-max", http.StatusForbidden, "erreicht nur das Vertrauensniveau „niedrig (Basisregistrierung)“"},
		{"substantial account, high asked", "high", "erika", "demo-erika", http.StatusForbidden, "erreicht nur das Vertrauensniveau „substanziell (ELSTER-Zertifikat)“"},
		{"BSI name accepted", "normal", "max", "demo-max", http.StatusOK, "Angemeldet als Max Basis (citizen, low, )"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t)
			res, page := e.login(t, c, "citizen", "/mein-konto", tt.user, tt.pw, tt.loa)
			if res.StatusCode != tt.status || !strings.Contains(page, tt.page) {
				t.Errorf("got %d %q, want %d containing %q", res.StatusCode, page, tt.status, tt.page)
			}
			if (e.sessionCookie(c) != "") != (tt.status == http.StatusOK) {
				t.Errorf("session cookie %q", e.sessionCookie(c))
			}
		})
	}
	t.Run("authorization request", func(t *testing.T) {
		c := newClient(t)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := c.Get(e.srv.URL + "/auth/login?loa=substantial")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if err != nil {
			t.Fatal(err)
		}
		q := loc.Query()
		if q.Get("acr_values") != "http://eidas.europa.eu/LoA/substantial http://eidas.europa.eu/LoA/high" || q.Get("prompt") != "login" ||
			q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" {
			t.Errorf("authorization request %s", loc)
		}
	})
	t.Run("unknown level", func(t *testing.T) {
		res, err := newClient(t).Get(e.srv.URL + "/auth/login?loa=mittel")
		if err != nil {
			t.Fatal(err)
		}
		if page := body(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Unbekanntes Vertrauensniveau") {
			t.Errorf("%d %s", res.StatusCode, page)
		}
	})
}

// TestSeparateIdPs: with a citizen IdP and a staff IdP, the login link
// decides the kind, and roles count only from the staff IdP.
func TestSeparateIdPs(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	st, log := memstore.New(), &memstore.Audit{}
	for _, path := range []string{"/demo-idp", "/staff-idp"} {
		idp, err := demoidp.New(demoidp.Config{Issuer: srv.URL + path, Users: demoUsers, SigningKey: signingKey(t),
			Clients: []demoidp.Client{{ID: "rathaus", Secret: "geheim", RedirectURIs: []string{srv.URL + "/auth/callback"}}}})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle(path+"/", idp)
	}
	sm := session.NewManager(st, session.Options{})
	mux.Handle("/auth/", oidc.New(oidc.Config{
		Citizen:     oidc.Provider{Issuer: srv.URL + "/demo-idp", ClientID: "rathaus", ClientSecret: "geheim"},
		Staff:       oidc.Provider{Issuer: srv.URL + "/staff-idp", ClientID: "rathaus", ClientSecret: "geheim"},
		RedirectURL: srv.URL + "/auth/callback", Logger: quiet,
	}, st, sm, log))
	mux.Handle("/mein-konto", sm.Middleware(sm.RequireLoA(identity.LoALow)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := session.FromContext(r.Context())
		fmt.Fprintf(w, "%s %s %s", p.User.Kind, p.Session.IdP[len(srv.URL):], strings.Join(demoidp.RolesFromGrants(p.Grants), " "))
	}))))
	e := &env{srv: srv, store: st, audit: log}

	tests := []struct{ as, user, pw, want string }{
		{"citizen", "sb-darmstadt", "demo-sb", "citizen /demo-idp "},
		{"staff", "sb-darmstadt", "demo-sb", "staff /staff-idp caseworker@064110000000"},
		{"staff", "erika", "demo-erika", "staff /staff-idp "},
	}
	for _, tt := range tests {
		t.Run(tt.as+" "+tt.user, func(t *testing.T) {
			c := newClient(t)
			id := e.openLogin(t, c, url.Values{"as": {tt.as}, "next": {"/mein-konto"}}.Encode())
			_, page := e.submit(t, c, id, tt.user, tt.pw)
			if page != tt.want {
				t.Errorf("page %q, want %q", page, tt.want)
			}
		})
	}
}
