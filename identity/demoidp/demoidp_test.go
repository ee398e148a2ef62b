// SPDX-License-Identifier: EUPL-1.2

package demoidp_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"rathaus"
	"rathaus/identity"
	"rathaus/identity/demoidp"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key() *rsa.PrivateKey {
	keyOnce.Do(func() { testKey, _ = rsa.GenerateKey(rand.Reader, 2048) })
	return testKey
}

var users = []demoidp.User{
	{Subject: "erika", Password: "demo-erika", Name: "Erika Mustermann", LoA: identity.LoAHigh},
	{Subject: "sb", Password: "demo-sb", Name: "Sina Bauer", LoA: identity.LoASubstantial, Roles: []string{"caseworker@064110000000"}},
}

// serve mounts the IdP at /demo-idp on a loopback server.
func serve(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mountIdP(t, mux, srv.URL, users)
	return srv, srv.URL + "/demo-idp"
}

// serveUsers is serve with other users; it returns the server URL and issuer.
func serveUsers(t *testing.T, mux *http.ServeMux, us []demoidp.User) (string, string) {
	t.Helper()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mountIdP(t, mux, srv.URL, us)
	return srv.URL, srv.URL + "/demo-idp"
}

func mountIdP(t *testing.T, mux *http.ServeMux, base string, us []demoidp.User) {
	t.Helper()
	h, err := demoidp.New(demoidp.Config{
		Issuer: base + "/demo-idp", Users: us, SigningKey: key(),
		Clients: []demoidp.Client{{ID: "rp", Secret: "s", RedirectURIs: []string{base + "/cb"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/demo-idp/", h)
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func authorizeURL(srv *httptest.Server, iss string, mod func(url.Values)) string {
	sum := sha256.Sum256([]byte("verifier-verifier-verifier-verifier-verifier"))
	q := url.Values{
		"client_id": {"rp"}, "redirect_uri": {srv.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid profile"},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if mod != nil {
		mod(q)
	}
	return iss + "/authorize?" + q.Encode()
}

func read(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestNewRejectsBadConfig(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ok := demoidp.Config{Issuer: "http://127.0.0.1:1/demo-idp", SigningKey: key(), Users: users,
		Clients: []demoidp.Client{{ID: "rp", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:1/cb"}}}}
	tests := map[string]func(*demoidp.Config){
		"relative issuer":  func(c *demoidp.Config) { c.Issuer = "/demo-idp" },
		"ftp issuer":       func(c *demoidp.Config) { c.Issuer = "ftp://x/demo-idp" },
		"duplicate user":   func(c *demoidp.Config) { c.Users = append(slices.Clone(users), users[0]) },
		"user no password": func(c *demoidp.Config) { c.Users = []demoidp.User{{Subject: "x"}} },
		"client no uri":    func(c *demoidp.Config) { c.Clients = []demoidp.Client{{ID: "rp", Secret: "s"}} },
		"small key":        func(c *demoidp.Config) { c.SigningKey = small },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			c := ok
			mod(&c)
			if _, err := demoidp.New(c); rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("New = %v, want invalid", err)
			}
		})
	}
	if _, err := demoidp.New(ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestDiscovery(t *testing.T) {
	srv, iss := serve(t)
	res, err := http.Get(iss + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Methods       []string `json:"code_challenge_methods_supported"`
		Claims        []string `json:"claims_supported"`
		Scopes        []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if d.Issuer != iss || d.Authorization != iss+"/authorize" || !strings.HasPrefix(d.Issuer, srv.URL) {
		t.Errorf("discovery = %+v", d)
	}
	for _, c := range []string{"acr", "birthdate", "address", "nationality", "place_of_birth", "roles"} {
		if !slices.Contains(d.Claims, c) {
			t.Errorf("claim %q not advertised", c)
		}
	}
	if !slices.Contains(d.Methods, "S256") {
		t.Errorf("code challenge methods %v", d.Methods)
	}
}

func TestPKCERequired(t *testing.T) {
	srv, iss := serve(t)
	tests := map[string]func(url.Values){
		"no challenge":     func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"plain challenge":  func(q url.Values) { q.Set("code_challenge_method", "plain") },
		"implicit flow":    func(q url.Values) { q.Set("response_type", "id_token") },
		"foreign redirect": func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := noRedirect().Get(authorizeURL(srv, iss, mod))
			if err != nil {
				t.Fatal(err)
			}
			read(t, res)
			loc := res.Header.Get("Location")
			if strings.Contains(loc, "/login") || strings.HasPrefix(loc, "https://evil.example") {
				t.Errorf("request accepted: %d %s", res.StatusCode, loc)
			}
		})
	}
	t.Run("with S256 goes to the login page", func(t *testing.T) {
		res, err := noRedirect().Get(authorizeURL(srv, iss, nil))
		if err != nil {
			t.Fatal(err)
		}
		read(t, res)
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/demo-idp/login?authRequestID=") {
			t.Errorf("Location = %q", loc)
		}
	})
}

func TestLoginPage(t *testing.T) {
	srv, iss := serve(t)
	res, err := http.Get(authorizeURL(srv, iss, nil))
	if err != nil {
		t.Fatal(err)
	}
	page := read(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, page)
	}
	for _, want := range []string{
		`<html lang="de">`,
		"Demo-Anmeldung (kein echter Identitätsanbieter)",
		`<label for="username">`, `id="username"`, `<label for="password">`, `id="password"`,
		`autocomplete="current-password"`,
		"<code>demo-erika</code>", "hoch (Online-Ausweis)", "caseworker@064110000000",
		`<link rel="stylesheet" href="/demo-idp/assets/demoidp.css">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<style", "style=", "onclick", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("login page contains %q (CSP forbids inline code)", bad)
		}
	}
	h := res.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers = %v", h)
	}

	css, err := http.Get(iss + "/assets/demoidp.css")
	if err != nil {
		t.Fatal(err)
	}
	read(t, css)
	if css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
	}

	t.Run("unknown request", func(t *testing.T) {
		res, _ := http.Get(iss + "/login?authRequestID=nope")
		page := read(t, res)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "unbekannt oder abgelaufen") || strings.Contains(page, `name="password"`) {
			t.Errorf("%d %s", res.StatusCode, page)
		}
	})
	t.Run("cross-origin post refused", func(t *testing.T) {
		req, _ := http.NewRequest("POST", iss+"/login", strings.NewReader("id=x&username=erika&password=demo-erika"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		read(t, res)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", res.StatusCode)
		}
	})
}

func TestLoAURIRoundTrip(t *testing.T) {
	for _, l := range []identity.LoA{identity.LoALow, identity.LoASubstantial, identity.LoAHigh} {
		u := demoidp.LoAURI(l)
		if !strings.HasPrefix(u, "http://eidas.europa.eu/LoA/") || identity.ParseLoA(u) != l {
			t.Errorf("LoAURI(%v) = %q", l, u)
		}
	}
	if demoidp.LoAURI(identity.LoANone) != "" {
		t.Error("LoANone has a URI")
	}
}
