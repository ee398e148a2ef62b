// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"rathaus/catalog"
	"rathaus/fim"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
	"rathaus/web"
)

// BenchmarkFormsList renders the designers' forms list of a municipality
// with 25 services bound to real FIM models (S00000246 with its code
// lists, S00000009), on SQLite.
func BenchmarkFormsList(b *testing.B) {
	ctx := context.Background()
	db := sqltest.Open(b, sqlstore.SQLite)
	if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bund"},
		{ARS: arsHessen, Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Land Hessen"},
		{ARS: arsDarmstadt, Parent: arsHessen, Level: tenant.LevelGemeinde, Name: "Darmstadt"},
	}); err != nil {
		b.Fatal(err)
	}
	var svcs []catalog.Service
	for i := range 25 {
		svcs = append(svcs, catalog.Service{Tenant: tenant.Bund, Key: fmt.Sprintf("svc-%02d", i), Name: fmt.Sprintf("Leistung %02d", i), Source: "leika"})
	}
	if err := db.Catalog().UpsertServices(ctx, svcs); err != nil {
		b.Fatal(err)
	}
	big, err := fim.LoadDir(testenv.SharedData(b, "fim-schemas/xdf2/S00000246V1.1"))
	if err != nil {
		b.Fatal(err)
	}
	old, err := fim.LoadDir(testenv.SharedData(b, "fim-schemas/xdf2/S00000009"))
	if err != nil {
		b.Fatal(err)
	}
	for i, s := range svcs {
		m := big
		if i%2 == 1 {
			m = old
		}
		if _, err := db.Forms().AttachForm(ctx, "bench", arsHessen, s.Key, m); err != nil {
			b.Fatal(err)
		}
	}
	u, err := db.Identity().UpsertUser(ctx, identity.User{Kind: identity.KindStaff, Issuer: "https://idp.test", Subject: "designer", Name: "Dana"})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Identity().SetGrants(ctx, u.ID, []identity.Grant{{UserID: u.ID, Tenant: arsHessen, Role: identity.RoleServiceDesigner}}); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	sess := identity.Session{ID: session.NewID(), UserID: u.ID, LoA: identity.LoASubstantial, IdP: "https://idp.test", AuthTime: now, ExpiresAt: now.Add(time.Hour), Lang: "de"}
	if err := db.Identity().CreateSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	mgr := session.NewManager(db.Identity(), session.Options{})
	srv, err := web.New(web.Config{}, web.Deps{Tenants: db.Tenants(), Catalog: db.Catalog(), Identity: db.Identity(), Sessions: mgr.Middleware,
		Features: []web.Feature{&web.FormsAdmin{Store: db.Forms()}}})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	req := httptest.NewRequest(http.MethodGet, "/verwaltung/"+arsDarmstadt+"/formulare", nil)
	req.AddCookie(&http.Cookie{Name: mgr.CookieName(), Value: sess.ID})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
