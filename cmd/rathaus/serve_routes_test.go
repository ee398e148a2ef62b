// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"rathaus/demo"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/sqlstore/sqltest"
	"rathaus/web"
	"rathaus/web/webtest"
)

// TestServedRoutes runs the route checks of web/webtest against the fully
// wired `rathaus serve --demo`: every route of every feature mounted there
// declares its access, keeps tenant B's objects from a caseworker of tenant
// A, and carries the security headers.
func TestServedRoutes(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { servedRoutes(t, d) })
	}
}

func servedRoutes(t *testing.T, dialect string) {
	cfg := sqltest.NewConfig(t, dialect)
	env := map[string]string{"RATHAUS_DATA": cfg.DataDir, "RATHAUS_DB": cfg.URL}
	if cfg.DataDir == "" {
		env["RATHAUS_DATA"] = t.TempDir()
	}
	r := startServe(t, env, "--demo")
	if got := r.DB.Dialect(); got != dialect {
		t.Fatalf("serve opened %s, want %s", got, dialect)
	}
	ctx := context.Background()
	ids := r.DB.Identity()
	login := func(kind identity.Kind, subject string, grants ...identity.Grant) *http.Cookie {
		t.Helper()
		u, err := ids.UpsertUser(ctx, identity.User{Kind: kind, Issuer: "https://test.invalid", Subject: subject, Name: subject})
		serveMust(t, err)
		for i := range grants {
			grants[i].UserID = u.ID
		}
		if len(grants) > 0 {
			serveMust(t, ids.SetGrants(ctx, u.ID, grants))
		}
		now := time.Now().UTC().Truncate(time.Second)
		s := identity.Session{ID: session.NewID(), UserID: u.ID, LoA: identity.LoAHigh, IdP: "https://test.invalid", AuthTime: now, ExpiresAt: now.Add(time.Hour)}
		serveMust(t, ids.CreateSession(ctx, s))
		return &http.Cookie{Name: "rathaus_session", Value: s.ID}
	}
	staffA := login(identity.KindStaff, "staff-darmstadt", identity.Grant{Tenant: demo.Darmstadt, Role: identity.RoleCaseworker})
	citizen := login(identity.KindCitizen, "citizen")

	routes := r.Server.Routes()
	webtest.CheckDeclared(t, routes)

	req, _ := http.NewRequest(http.MethodGet, r.base, nil)
	req.AddCookie(staffA)
	p, err := session.NewManager(ids, session.Options{}).Load(ctx, req)
	if err != nil || p == nil {
		t.Fatalf("load staff principal: %v %v", p, err)
	}
	fx := &web.IsolationFixture{A: demo.Darmstadt, B: demo.Regensburg, Tenants: r.DB.Tenants(), Catalog: r.DB.Catalog(), Identity: ids, Principal: p}
	webtest.CheckIsolation(t, r.base, routes, fx, webtest.Users{Staff: []*http.Cookie{staffA}, Citizen: []*http.Cookie{citizen}})

	users := map[string][]*http.Cookie{"anonymous": nil, "citizen": {citizen}, "staff": {staffA}}
	if n := webtest.CheckHeaders(t, r.base, routes, users, false); n < 30 {
		t.Errorf("header crawl checked only %d responses", n)
	}

	// The demo content is served from this store: Darmstadt by postcode,
	// and Darmstadt's own Wohngeld text over the Land's.
	for path, want := range map[string]string{
		"/readyz":           "ready",
		"/gemeinde?q=64283": "Darmstadt, Wissenschaftsstadt",
		"/leistungen/" + demo.KeyFuehrungszeugnis: "Gemeinde wählen", // described by the Land only
	} {
		res := webtest.Do(t, http.MethodGet, r.base+path, "", nil, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, want) {
			t.Errorf("GET %s: %d, body lacks %q", path, res.StatusCode, want)
		}
	}
	choose := webtest.Do(t, http.MethodPost, r.base+"/gemeinde", "ars="+demo.Darmstadt, nil, nil)
	if choose.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose Darmstadt: %d", choose.StatusCode)
	}
	res := webtest.Do(t, http.MethodGet, r.base+"/leistungen/"+demo.KeyFuehrungszeugnis, "", choose.Cookies(), nil)
	if !strings.Contains(res.Body, "Beschreibung von: Hessen") {
		t.Errorf("Führungszeugnis for Darmstadt: %d\n%s", res.StatusCode, res.Body)
	}
	// The JSON intake is served: an application for Darmstadt (the chosen
	// municipality), durable when answered, once per idempotency key.
	answers := `{"anliegen":{"beschreibung":"Ich möchte meinen Hund anmelden."},` +
		`"kontakt":{"vorname":"Jürgen","nachname":"Müller","email":"juergen@example.org"},"einwilligung":{"zustimmung":"ja"}}`
	hdr := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "served-1"}
	first := webtest.Do(t, http.MethodPost, r.base+"/api/v1/antraege/"+demo.KeyWohngeld, answers, choose.Cookies(), hdr)
	again := webtest.Do(t, http.MethodPost, r.base+"/api/v1/antraege/"+demo.KeyWohngeld, answers, choose.Cookies(), hdr)
	if first.StatusCode != http.StatusCreated || again.StatusCode != http.StatusOK || !strings.Contains(again.Body, `"replayed":true`) {
		t.Fatalf("JSON intake: %d %s / again %d %s", first.StatusCode, first.Body, again.StatusCode, again.Body)
	}
	var rc struct{ ID, Reference string }
	serveMust(t, json.Unmarshal([]byte(first.Body), &rc))
	app, err := r.DB.SubmissionStore(nil).Application(ctx, demo.Darmstadt, rc.ID)
	if err != nil || app.Reference != rc.Reference || app.ServiceKey != demo.KeyWohngeld {
		t.Errorf("stored application: %+v %v, want reference %s", app, err, rc.Reference)
	}
	bad := webtest.Do(t, http.MethodPost, r.base+"/api/v1/antraege/"+demo.KeyWohngeld, `{"anliegen":{}}`, choose.Cookies(),
		map[string]string{"Content-Type": "application/json", "Idempotency-Key": "served-2"})
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, `"fields"`) {
		t.Errorf("invalid answers: %d %s", bad.StatusCode, bad.Body)
	}
	res = webtest.Do(t, http.MethodGet, r.base+"/leistungen/"+demo.KeyWohngeld, "", choose.Cookies(), nil)
	if !strings.Contains(res.Body, "Beschreibung von: Darmstadt, Wissenschaftsstadt") || !strings.Contains(res.Body, "Zuständige Stelle") {
		t.Errorf("Wohngeld for Darmstadt: %d\n%s", res.StatusCode, res.Body)
	}
}
