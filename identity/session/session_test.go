// SPDX-License-Identifier: EUPL-1.2

package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"rathaus/identity"
	"rathaus/identity/internal/memstore"
	"rathaus/sqlstore/sqltest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, opts Options) (*Manager, *memstore.Store, *clock, *identity.User) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	st := memstore.New()
	st.Now = c.now
	opts.Now = c.now
	m := NewManager(st, opts)
	u, err := st.UpsertUser(context.Background(), identity.User{Kind: identity.KindStaff, Issuer: "https://idp", Subject: "s1", Name: "Erika"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetGrants(context.Background(), u.ID, []identity.Grant{{UserID: u.ID, Tenant: "064110000000", Role: identity.RoleCaseworker}}); err != nil {
		t.Fatal(err)
	}
	return m, st, c, u
}

// start logs u in and returns the cookie.
func start(t *testing.T, m *Manager, u *identity.User, loa identity.LoA, old *http.Cookie) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest("GET", "/auth/callback", nil)
	if old != nil {
		r.AddCookie(old)
	}
	w := httptest.NewRecorder()
	if _, err := m.Start(w, r, u, loa, "https://idp"); err != nil {
		t.Fatal(err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("Start set %d cookies", len(cs))
	}
	return cs[0]
}

// whoami runs a request with cookie c through the middleware.
func whoami(m *Manager, c *http.Cookie) (*Principal, *httptest.ResponseRecorder) {
	var got *Principal
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = FromContext(r.Context()) }))
	r := httptest.NewRequest("GET", "/", nil)
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return got, w
}

func TestCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "secure"}[secure], func(t *testing.T) {
			m, _, _, u := setup(t, Options{Secure: secure})
			c := start(t, m, u, identity.LoASubstantial, nil)
			if c.Name != "rathaus_session" || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Secure != secure {
				t.Errorf("cookie = %+v", c)
			}
			if !validID(c.Value) {
				t.Errorf("cookie value %q is not a 256-bit base64url id", c.Value)
			}
			if want := int((8 * time.Hour).Seconds()); c.MaxAge < want || c.MaxAge > want+1 {
				t.Errorf("cookie Max-Age = %d, want the idle TTL %d (by the manager's clock)", c.MaxAge, want)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	m, st, clk, u := setup(t, Options{})
	c := start(t, m, u, identity.LoASubstantial, nil)

	p, _ := whoami(m, c)
	if p == nil || p.User.ID != u.ID || p.Session.LoA != identity.LoASubstantial || p.Session.IdP != "https://idp" {
		t.Fatalf("principal = %+v", p)
	}
	if !p.Can(identity.RoleCaseworker, "064110001001") || p.Can(identity.RoleCaseworker, "091620000000") || p.Can(identity.RoleOperator, "064110000000") {
		t.Errorf("grants not applied: %+v", p.Grants)
	}

	t.Run("new id at every login", func(t *testing.T) {
		c2 := start(t, m, u, identity.LoAHigh, c)
		if c2.Value == c.Value {
			t.Fatal("session id reused")
		}
		if p, _ := whoami(m, c); p != nil {
			t.Error("old session still valid after a new login")
		}
		c = c2
	})

	t.Run("planted id is not adopted", func(t *testing.T) {
		planted := &http.Cookie{Name: "rathaus_session", Value: NewID()}
		c3 := start(t, m, u, identity.LoALow, planted)
		if c3.Value == planted.Value {
			t.Fatal("planted id adopted")
		}
	})

	t.Run("junk cookie is anonymous and cleared", func(t *testing.T) {
		p, w := whoami(m, &http.Cookie{Name: "rathaus_session", Value: "' OR 1=1 --"})
		if p != nil {
			t.Fatal("junk cookie gave a principal")
		}
		if sc := w.Result().Cookies(); len(sc) != 1 || sc[0].MaxAge >= 0 {
			t.Errorf("stale cookie not cleared: %v", sc)
		}
	})

	t.Run("expires after TTL", func(t *testing.T) {
		clk.t = clk.t.Add(8*time.Hour + time.Second)
		if p, _ := whoami(m, c); p != nil {
			t.Error("session alive after TTL")
		}
		clk.t = clk.t.Add(-8*time.Hour - time.Second)
	})

	t.Run("end deletes", func(t *testing.T) {
		before := st.SessionCount()
		r := httptest.NewRequest("POST", "/auth/logout", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		if err := m.End(w, r); err != nil {
			t.Fatal(err)
		}
		if st.SessionCount() != before-1 {
			t.Error("session not deleted")
		}
		if p, _ := whoami(m, c); p != nil {
			t.Error("session alive after End")
		}
		if sc := w.Result().Cookies(); len(sc) != 1 || sc[0].MaxAge >= 0 {
			t.Errorf("cookie not cleared: %v", sc)
		}
	})
}

// touchStore adds sliding expiry to memstore.
type touchStore struct {
	*memstore.Store
	touched map[string]time.Time
}

func (s *touchStore) Session(ctx context.Context, id string) (*identity.Session, error) {
	se, err := s.Store.Session(ctx, id)
	if err == nil {
		if t, ok := s.touched[id]; ok {
			se.ExpiresAt = t
		}
	}
	return se, err
}

func (s *touchStore) TouchSession(_ context.Context, id string, exp time.Time) error {
	s.touched[id] = exp
	return nil
}

func TestSlidingAndAbsolute(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	mem := memstore.New()
	mem.Now = func() time.Time { return time.Time{} } // let the manager decide expiry
	st := &touchStore{Store: mem, touched: map[string]time.Time{}}
	m := NewManager(st, Options{TTL: time.Hour, Absolute: 3 * time.Hour, Now: clk.now})
	u, _ := st.UpsertUser(context.Background(), identity.User{Kind: identity.KindCitizen, Issuer: "i", Subject: "s"})
	c := start(t, m, u, identity.LoALow, nil)
	for i := range 5 { // active every 50 minutes: alive until the absolute limit
		clk.t = clk.t.Add(50 * time.Minute)
		p, _ := whoami(m, c)
		alive := clk.t.Before(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
		if (p != nil) != alive {
			t.Errorf("step %d at %s: alive=%v, want %v", i, clk.t.Format("15:04"), p != nil, alive)
		}
	}
}

func TestRequireLoA(t *testing.T) {
	m, _, _, u := setup(t, Options{})
	sub := start(t, m, u, identity.LoASubstantial, nil)
	h := m.Middleware(m.RequireLoA(identity.LoASubstantial)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	})))
	low := start(t, m, u, identity.LoALow, nil) // another browser
	tests := []struct {
		name   string
		method string
		cookie *http.Cookie
		status int
		loc    string
	}{
		{"anonymous get goes to login", "GET", nil, http.StatusSeeOther, "/auth/login?loa=substantial&next=%2Fantrag%3Fx%3D1"},
		{"anonymous post", "POST", nil, http.StatusUnauthorized, ""},
		{"low get steps up", "GET", low, http.StatusSeeOther, "/auth/login?as=staff&loa=substantial&next=%2Fantrag%3Fx%3D1"},
		{"low post is forbidden", "POST", low, http.StatusForbidden, ""},
		{"substantial passes", "GET", sub, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/antrag?x=1", nil)
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status || w.Header().Get("Location") != tt.loc {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Header().Get("Location"), tt.status, tt.loc)
			}
		})
	}
}

func TestNilPrincipal(t *testing.T) {
	var p *Principal
	if p.Can(identity.RoleOperator, "") || p.HasLoA(identity.LoANone) || p.IsStaff() {
		t.Error("nil principal has rights")
	}
	if FromContext(context.Background()) != nil {
		t.Error("empty context has a principal")
	}
	citizen := &Principal{User: &identity.User{Kind: identity.KindCitizen}, Grants: []identity.Grant{{Tenant: "", Role: identity.RoleOperator}}}
	if citizen.Can(identity.RoleOperator, "06") {
		t.Error("a citizen with a (bogus) grant may act as staff")
	}
	if id := NewID(); !validID(id) || strings.ContainsAny(id, "+/=") {
		t.Errorf("NewID = %q", id)
	}
}

// TestOnSQLStores runs the lifecycle with the real clock on SQLite and
// PostgreSQL.
func TestOnSQLStores(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			st := db.Identity()
			ctx := context.Background()
			m := NewManager(st, Options{})
			u, err := st.UpsertUser(ctx, identity.User{Kind: identity.KindStaff, Issuer: "https://idp", Subject: "s1", Name: "Sina"})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SetGrants(ctx, u.ID, []identity.Grant{{UserID: u.ID, Tenant: "064110000000", Role: identity.RoleCaseworker}}); err != nil {
				t.Fatal(err)
			}
			c := start(t, m, u, identity.LoAHigh, nil)
			p, w := whoami(m, c)
			if w.Code != http.StatusOK || p == nil || p.User.Name != "Sina" || p.Session.LoA != identity.LoAHigh || !p.Can(identity.RoleCaseworker, "064110001001") {
				t.Fatalf("principal = %+v (status %d)", p, w.Code)
			}
			c2 := start(t, m, u, identity.LoAHigh, c)
			if p, _ := whoami(m, c); p != nil || c2.Value == c.Value {
				t.Error("old session survived a new login")
			}
			r := httptest.NewRequest("POST", "/auth/logout", nil)
			r.AddCookie(c2)
			if err := m.End(httptest.NewRecorder(), r); err != nil {
				t.Fatal(err)
			}
			if p, _ := whoami(m, c2); p != nil {
				t.Error("session alive after End")
			}
		})
		t.Run(d+"/Sliding", func(t *testing.T) {
			db := sqltest.Open(t, d)
			st := db.Identity()
			if _, ok := st.(Toucher); !ok {
				t.Fatal("the SQL identity store does not implement Toucher: idle sessions cannot slide")
			}
			ctx := context.Background()
			clk := &clock{t: time.Now().UTC()}
			m := NewManager(st, Options{TTL: time.Hour, Absolute: 3 * time.Hour, Now: clk.now})
			u, err := st.UpsertUser(ctx, identity.User{Kind: identity.KindCitizen, Issuer: "https://idp", Subject: "s2"})
			if err != nil {
				t.Fatal(err)
			}
			c := start(t, m, u, identity.LoALow, nil)
			clk.t = clk.t.Add(50 * time.Minute)
			if p, _ := whoami(m, c); p == nil {
				t.Fatal("session dead after 50 of 60 idle minutes")
			}
			s, err := st.Session(ctx, c.Value)
			if err != nil {
				t.Fatal(err)
			}
			if want := clk.t.Truncate(time.Second).Add(time.Hour); !s.ExpiresAt.Equal(want) {
				t.Errorf("stored expiry after activity = %v, want %v", s.ExpiresAt, want)
			}
			clk.t = clk.t.Add(59 * time.Minute) // 109 minutes after login, 59 idle
			if p, _ := whoami(m, c); p == nil {
				t.Error("session did not slide: dead 59 minutes after the last request")
			}
		})
	}
}
