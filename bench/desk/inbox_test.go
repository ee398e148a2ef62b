// SPDX-License-Identifier: EUPL-1.2

// Package desk_test measures the caseworker desk and the durable process
// engine on SQLite (results in bench/RESULTS.md).
package desk_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/sqlstore"
	"rathaus/tenant"
	"rathaus/web"
)

const darmstadt = "064110000000"

// TestInbox100k seeds 100,000 cases into one office of one tenant on a
// SQLite file and requests inbox pages over HTTP (session, grants, query,
// template, i18n: the full page) with a mix of filters, sorts and pages;
// the p95 must stay under 100 ms. Set RATHAUS_BENCH_CASES to change the
// count.
func TestInbox100k(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 cases")
	}
	n := 100_000
	if s := os.Getenv("RATHAUS_BENCH_CASES"); s != "" {
		fmt.Sscan(s, &n)
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bundesrepublik Deutschland"},
		{ARS: "060000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Hessen"},
		{ARS: "064000000000", Parent: "060000000000", Level: tenant.LevelRegierungsbezirk, Name: "RB Darmstadt"},
		{ARS: darmstadt, Parent: "064000000000", Level: tenant.LevelGemeinde, Name: "Darmstadt"},
	}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := casework.Statuses
	cases := db.Cases()
	for lo := 0; lo < n; lo += 10_000 {
		err := db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
			for i := lo; i < min(lo+10_000, n); i++ {
				c := &casework.Case{Tenant: darmstadt, ID: fmt.Sprintf("case-%06d", i), Reference: fmt.Sprintf("DA-2026-%06d", i),
					ServiceKey: fmt.Sprintf("9905001%07d", i%40), Title: "Leistung " + fmt.Sprint(i%40), Office: "buergeramt", Role: worker.RoleCaseworker,
					Status: statuses[i%len(statuses)], Applicant: "citizen", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
				c.UpdatedAt = c.CreatedAt
				if i%7 == 0 {
					c.Assignee = "staff-user"
				}
				if c.Status != casework.StatusClosed {
					c.DueAt = c.CreatedAt.Add(30 * 24 * time.Hour)
				}
				if err := cases.PutCase(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seeded %d cases in %v", n, time.Since(start).Round(time.Millisecond))

	w, err := worker.New(worker.Options{DB: db, Now: func() time.Time { return t0.Add(60 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	mgr := session.NewManager(db.Identity(), session.Options{})
	srv, err := web.New(web.Config{}, web.Deps{Tenants: db.Tenants(), Catalog: db.Catalog(), Identity: db.Identity(), Sessions: mgr.Middleware,
		Features: []web.Feature{&web.Desk{Service: w, Now: func() time.Time { return t0.Add(60 * 24 * time.Hour) }}}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	u, err := db.Identity().UpsertUser(ctx, identity.User{Kind: identity.KindStaff, Issuer: "https://idp.test", Subject: "staff", Name: "Sina Bauer"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Identity().SetGrants(ctx, u.ID, []identity.Grant{{UserID: u.ID, Tenant: darmstadt, Role: identity.RoleCaseworker}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	sess := identity.Session{ID: session.NewID(), UserID: u.ID, LoA: identity.LoASubstantial, IdP: "https://idp.test", AuthTime: now, ExpiresAt: now.Add(time.Hour), Lang: "de"}
	if err := db.Identity().CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: mgr.CookieName(), Value: sess.ID}

	queries := []string{
		"", "?status=open", "?status=neu&sort=due", "?overdue=1", "?sort=due&desc=1", "?service=99050010000007",
		"?assignee=none&status=open", "?sort=reference", "?sort=updated&desc=1", "?office=buergeramt&status=in_bearbeitung",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	perQuery := map[string]time.Duration{}
	get := func(q string) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/verwaltung/faelle"+q, nil)
		req.AddCookie(cookie)
		t0 := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(t0))
		perQuery[q] = max(perQuery[q], time.Since(t0))
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "DA-2026-") {
			t.Fatalf("GET %s: %d", q, res.StatusCode)
		}
	}
	for range 5 { // warm up
		get("")
	}
	lat = lat[:0]
	for i := range 300 {
		q := queries[i%len(queries)]
		if i%10 == 9 { // every tenth a later page
			sep := "?"
			if q != "" {
				sep = "&"
			}
			q += fmt.Sprintf("%spage=%d", sep, 2+rng.IntN(50))
		}
		get(q)
	}
	if testing.Verbose() {
		for q, d := range perQuery {
			if d > 50*time.Millisecond {
				t.Logf("slowest %-50s %v", q, d.Round(time.Millisecond))
			}
		}
	}
	slices.Sort(lat)
	p50, p95, worst := lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)-1]
	t.Logf("inbox over %d cases: %d requests, p50 %v, p95 %v, max %v", n, len(lat), p50.Round(time.Microsecond), p95.Round(time.Microsecond), worst.Round(time.Microsecond))
	if p95 > 100*time.Millisecond {
		t.Errorf("p95 %v, want < 100 ms", p95)
	}
}
