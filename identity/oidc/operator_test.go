// SPDX-License-Identifier: EUPL-1.2

package oidc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"rathaus/identity"
	"rathaus/identity/internal/memstore"
	"rathaus/identity/oidc"
	"rathaus/identity/password"
	"rathaus/identity/session"
)

type opEnv struct {
	srv   *httptest.Server
	store *memstore.Store
	audit *memstore.Audit
	file  string
}

func setupOperator(t *testing.T, withFile bool) *opEnv {
	t.Helper()
	e := &opEnv{store: memstore.New(), audit: &memstore.Audit{}, file: filepath.Join(t.TempDir(), password.FileName)}
	if withFile {
		phc, err := password.HashWith("eine lange Passphrase", password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
		if err != nil {
			t.Fatal(err)
		}
		if err := password.WriteFile(e.file, "betrieb", phc); err != nil {
			t.Fatal(err)
		}
	}
	sm := session.NewManager(e.store, session.Options{})
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	mux.Handle("/auth/", oidc.New(oidc.Config{RedirectURL: e.srv.URL + "/auth/callback", OperatorFile: e.file, Logger: quiet}, e.store, sm, e.audit))
	mux.Handle("/betrieb", sm.Middleware(sm.RequireLoA(identity.LoALow)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := session.FromContext(r.Context())
		if !p.Can(identity.RoleOperator, "064110001001") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Write([]byte("Betrieb: " + p.User.Name))
	}))))
	return e
}

func (e *opEnv) post(t *testing.T, c *http.Client, name, pw string) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(e.srv.URL+"/auth/operator?next=/betrieb", url.Values{"name": {name}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	return res, body(t, res)
}

func TestOperatorLogin(t *testing.T) {
	e := setupOperator(t, true)
	c := newClient(t)

	res, err := c.Get(e.srv.URL + "/auth/operator?next=/betrieb")
	if err != nil {
		t.Fatal(err)
	}
	page := body(t, res)
	for _, want := range []string{`<html lang="de">`, `<label for="name">`, `<label for="password">`, `action="operator?next=%2fbetrieb"`} {
		if !strings.Contains(page, want) {
			t.Errorf("form lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "style=") {
		t.Error("inline code in the form")
	}

	res, page = e.post(t, c, "betrieb", "falsch-falsch-falsch")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Passwort ist falsch") {
		t.Errorf("wrong password: %d", res.StatusCode)
	}
	res, page = e.post(t, c, "betrieb", "eine lange Passphrase")
	if res.StatusCode != http.StatusOK || page != "Betrieb: Betrieb (betrieb)" {
		t.Fatalf("login: %d %q at %s", res.StatusCode, page, res.Request.URL)
	}
	es := e.audit.Entries()
	if len(es) != 2 || es[0].Action != "login.failed" || es[1].Action != "login" || es[1].Details["idp"] != "local" || es[1].Details["loa"] != "low" {
		t.Errorf("audit = %+v", es)
	}
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "rathaus_session" {
			s, err := e.store.Session(context.Background(), ck.Value)
			if err != nil || s.IdP != oidc.OperatorIssuer || s.LoA != identity.LoALow {
				t.Errorf("session = %+v, %v", s, err)
			}
		}
	}
}

func TestOperatorLoginLimits(t *testing.T) {
	e := setupOperator(t, true)
	c := newClient(t)
	for i := range 5 {
		if res, _ := e.post(t, c, "betrieb", "falsch"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
	}
	res, page := e.post(t, c, "betrieb", "eine lange Passphrase")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(page, "Zu viele Fehlversuche") {
		t.Errorf("6th attempt: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if e.store.SessionCount() != 0 {
		t.Error("blocked attempt created a session")
	}
}

func TestOperatorLoginRefusals(t *testing.T) {
	t.Run("no account set up", func(t *testing.T) {
		e := setupOperator(t, false)
		res, page := e.post(t, newClient(t), "betrieb", "eine lange Passphrase")
		if res.StatusCode != http.StatusNotFound || !strings.Contains(page, "operator set-password") {
			t.Errorf("%d %s", res.StatusCode, page)
		}
	})
	t.Run("wrong name", func(t *testing.T) {
		e := setupOperator(t, true)
		if res, _ := e.post(t, newClient(t), "admin", "eine lange Passphrase"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%d", res.StatusCode)
		}
	})
	t.Run("cross-origin", func(t *testing.T) {
		e := setupOperator(t, true)
		req, _ := http.NewRequest("POST", e.srv.URL+"/auth/operator", strings.NewReader("name=betrieb&password=eine+lange+Passphrase"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || e.store.SessionCount() != 0 {
			t.Errorf("%d", res.StatusCode)
		}
	})
	t.Run("disabled without a file", func(t *testing.T) {
		sm := session.NewManager(memstore.New(), session.Options{})
		h := oidc.New(oidc.Config{RedirectURL: "http://x/auth/callback"}, memstore.New(), sm, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/auth/operator", nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("%d", w.Code)
		}
	})
}
