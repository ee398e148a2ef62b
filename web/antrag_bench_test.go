// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"rathaus/catalog"
	"rathaus/fim"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/tenant"
)

// BenchmarkFormStep renders step 4 of S00000246 (the largest step of the
// shared schemas: 20 conditional groups, code lists) for a logged-in
// citizen through the whole handler chain in-process: session lookup,
// draft read and vault decryption, conditions, template, security headers.
// Target ≥ 5,000 pages/s.
func BenchmarkFormStep(b *testing.B) {
	m, err := fim.LoadDir(testenv.SharedData(b, "fim-schemas/xdf2/S00000246V1.1"))
	if err != nil {
		b.Fatal(err)
	}
	db := sqltest.Open(b, sqlstore.SQLite)
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bundesrepublik Deutschland"},
		{ARS: arsHessen, Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Land Hessen"},
		{ARS: arsRBDA, Parent: arsHessen, Level: tenant.LevelRegierungsbezirk, Name: "Regierungsbezirk Darmstadt"},
		{ARS: arsDarmstadt, Parent: arsRBDA, Level: tenant.LevelGemeinde, Name: "Darmstadt, Wissenschaftsstadt", Inhabited: true},
	}))
	must(db.Catalog().UpsertServices(ctx, []catalog.Service{{Tenant: tenant.Bund, Key: "bench", Source: "leika", Name: "Aufenthaltserlaubnis verlängern"}}))
	must(db.Forms().PutForm(ctx, arsHessen, m))
	must(db.Forms().Bind(ctx, arsHessen, "bench", m.ID, m.Version))
	srvH, _, mgr, _, svc, _ := buildAntrag(b, db, nil)
	u, err := db.Identity().UpsertUser(ctx, identity.User{Kind: identity.KindCitizen, Issuer: "https://idp.test", Subject: "bench", Name: "Erika Mustermann"})
	must(err)
	now := time.Now().UTC().Truncate(time.Second)
	sess := identity.Session{ID: session.NewID(), UserID: u.ID, LoA: identity.LoASubstantial, IdP: "https://idp.test", AuthTime: now, ExpiresAt: now.Add(time.Hour), Lang: "de"}
	must(db.Identity().CreateSession(ctx, sess))
	uni := submission.UniversalForm("de")
	for _, bc := range []struct {
		name    string
		id, ver string
		step    string
	}{
		{"S00000246-step4", m.ID, m.Version, "4"},
		{"universal-step2", uni.ID, uni.Version, "2"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d, _, err := svc.SaveDraft(ctx, submission.DraftInput{Tenant: arsDarmstadt, ServiceKey: "bench", FormID: bc.id, FormVersion: bc.ver, UserID: u.ID, Step: bc.step})
			must(err)
			benchGet(b, srvH.Handler(), "/antrag/entwurf/"+arsDarmstadt+"/"+d.ID+"/"+bc.step, mgr.CookieName(), sess.ID)
		})
	}
}

// benchGet measures GET path in-process with parallel clients; besides
// pages/s (wall clock, shared machine) it reports the CPU time per page
// (getrusage), which does not depend on other load.
func benchGet(b *testing.B, h http.Handler, path, cookie, sid string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(&http.Cookie{Name: cookie, Value: sid})
	req.AddCookie(&http.Cookie{Name: "municipality", Value: arsDarmstadt})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Schritt ") {
		b.Fatalf("GET %s: %d %.300s", path, rec.Code, rec.Body.String())
	}
	size := rec.Body.Len()
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req.Clone(req.Context()))
			if rec.Code != 200 {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/page")
	b.ReportMetric(float64(size), "bytes/page")
}
