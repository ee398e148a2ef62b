// SPDX-License-Identifier: EUPL-1.2

package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"rathaus/audit"
	"rathaus/sqlstore/sqltest"
)

// failingLogin is an audit log whose "login" appends write the entry and
// then fail, as if the process died after the write: the transaction of
// the login must roll the entry back together with the user and grants.
type failingLogin struct{ audit.Log }

func (f failingLogin) Append(ctx context.Context, e audit.Entry) (*audit.Entry, error) {
	if _, err := f.Log.Append(ctx, e); err != nil {
		return nil, err
	}
	if e.Action == "login" {
		return nil, errors.New("injected: audit append failed")
	}
	return &e, nil
}

// TestLoginIsOneTransaction: when the "login" audit entry cannot be
// written, the login fails with 503 and leaves no user, no grants, no
// entry and no session, on SQLite and PostgreSQL; the same login succeeds
// afterwards with a working audit log.
func TestLoginIsOneTransaction(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			count := func(q string, args ...any) int {
				t.Helper()
				var n int
				if err := db.SQL().QueryRowContext(context.Background(), db.Rebind(q), args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			logins := func() int {
				t.Helper()
				n := 0
				err := db.Audit().Walk(context.Background(), func(e audit.Entry) error {
					if e.Action == "login" {
						n++
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			for _, tc := range []struct{ name, as, user, pw string }{
				{"staff with grants", "staff", "sb-darmstadt", "demo-sb"},
				{"citizen", "citizen", "erika", "demo-erika"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := logins()
					bad := setupOn(t, db.Identity(), failingLogin{db.Audit()})
					c := newClient(t)
					res, page := bad.login(t, c, tc.as, "/mein-konto", tc.user, tc.pw)
					if res.StatusCode != http.StatusServiceUnavailable || bad.sessionCookie(c) != "" {
						t.Fatalf("failed audit: status %d, session %q; want 503 and none", res.StatusCode, bad.sessionCookie(c))
					}
					if !strings.Contains(page, "Anmeldung derzeit nicht möglich") || strings.Contains(page, "injected") {
						t.Errorf("failed audit: the page does not say the login is unavailable, or shows the store's error:\n%.400s", page)
					}
					if n := count(`SELECT count(*) FROM users WHERE subject = ?`, tc.user); n != 0 {
						t.Errorf("users left after the failed login: %d", n)
					}
					if n := count(`SELECT count(*) FROM grants`); n != 0 {
						t.Errorf("grants left after the failed login: %d", n)
					}
					if n := logins() - before; n != 0 {
						t.Errorf("login entries after the failed login: %d", n)
					}
					if _, _, err := audit.Verify(context.Background(), db.Audit()); err != nil {
						t.Errorf("audit chain: %v", err)
					}

					good := setupOn(t, db.Identity(), db.Audit())
					c = newClient(t)
					if res, page := good.login(t, c, tc.as, "/mein-konto", tc.user, tc.pw); res.StatusCode != http.StatusOK || good.sessionCookie(c) == "" {
						t.Fatalf("working audit: status %d: %s", res.StatusCode, page)
					}
					if n := count(`SELECT count(*) FROM users WHERE subject = ?`, tc.user); n != 1 {
						t.Errorf("users after the login: %d, want 1", n)
					}
					if n := logins() - before; n != 1 {
						t.Errorf("login entries after the login: %d, want 1", n)
					}
					if _, err := db.SQL().ExecContext(context.Background(), `DELETE FROM sessions`); err != nil {
						t.Fatal(err)
					}
					for _, q := range []string{`DELETE FROM grants`, `DELETE FROM users`} {
						if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		})
	}
}
