// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"rathaus/delivery"
	"rathaus/identity"
	"rathaus/jobs"
	"rathaus/vault"
	"rathaus/web"
	"rathaus/web/webtest"
)

type deliveryFixture struct {
	*fixture
	svc      *delivery.Service
	operator *http.Cookie
	worker   *http.Cookie
}

func newDeliveryFixture(t *testing.T, dialect string) *deliveryFixture {
	t.Helper()
	view := &web.DeliveryAdmin{}
	f := newFixture(t, dialect, web.Config{}, option{deps: func(d *web.Deps) { d.Features = append(d.Features, view) }})
	q, err := jobs.New(context.Background(), f.db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	master, _, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := delivery.New(f.db, delivery.Options{Sealer: vault.New(f.db.VaultKeys(), master), Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	view.Service, view.Fixture = svc, svc.IsolationFixture
	return &deliveryFixture{fixture: f, svc: svc,
		operator: f.login(identity.KindStaff, "operator-a", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleOperator}),
		worker:   f.login(identity.KindStaff, "caseworker-a", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})}
}

// TestDeliveryView: the operator sees the failed deliveries of their
// subtree with the reason and re-drives one; other tenants' failures and
// caseworkers stay out.
func TestDeliveryView(t *testing.T) {
	df := newDeliveryFixture(t, "sqlite")
	ctx := context.Background()
	route, err := df.svc.IsolationFixture(ctx, arsDarmstadt, "app-da", "Fachverfahren antwortet 503")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := df.svc.IsolationFixture(ctx, arsKassel, "app-ks", "Kasseler Fehler"); err != nil {
		t.Fatal(err)
	}
	res := df.get("/verwaltung/zustellung", df.operator)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "app-da") || !strings.Contains(res.body, "Fachverfahren antwortet 503") || !strings.Contains(res.body, "Erneut zustellen") {
		t.Fatalf("list: %d %s", res.StatusCode, res.body)
	}
	if strings.Contains(res.body, "app-ks") || strings.Contains(res.body, "Kasseler") {
		t.Error("list shows a failure of Kassel")
	}
	if res := df.get("/verwaltung/zustellung", df.worker); res.StatusCode != http.StatusForbidden {
		t.Errorf("caseworker: %d, want 403", res.StatusCode)
	}
	if res := df.get("/verwaltung/zustellung?ars="+arsKassel, df.operator); res.StatusCode != http.StatusForbidden {
		t.Errorf("list of Kassel: %d, want 403", res.StatusCode)
	}
	hist := df.get("/verwaltung/zustellung/"+arsDarmstadt+"/app-da", df.operator)
	if hist.StatusCode != http.StatusOK || !strings.Contains(hist.body, "Zustellprotokoll") || !strings.Contains(hist.body, "503") {
		t.Fatalf("history: %d", hist.StatusCode)
	}
	if h := df.get("/verwaltung/zustellung/"+arsDarmstadt+"/app-da", df.worker); h.StatusCode != http.StatusOK || strings.Contains(h.body, "Erneut zustellen") {
		t.Errorf("caseworker reads the log without re-drive: %d", h.StatusCode)
	}
	if r := df.do(http.MethodPost, "/verwaltung/zustellung/"+arsDarmstadt+"/app-da/"+route+"/erneut", "", []*http.Cookie{df.worker}, nil); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
		t.Errorf("caseworker re-drive: %d, want 403/404", r.StatusCode)
	}
	r := df.do(http.MethodPost, "/verwaltung/zustellung/"+arsDarmstadt+"/app-da/"+route+"/erneut", "", []*http.Cookie{df.operator}, nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("redrive: %d %s", r.StatusCode, r.body)
	}
	d, err := df.svc.Delivery(ctx, arsDarmstadt, "app-da", route)
	if err != nil || d.Status != delivery.StatusPending || d.Attempts != 0 || time.Since(d.NextAt) > time.Minute {
		t.Errorf("after redrive: %+v, %v", d, err)
	}
	if res := df.get("/verwaltung/zustellung", df.operator); strings.Contains(res.body, "app-da") {
		t.Error("re-driven delivery still listed as failed")
	}
	if r := df.do(http.MethodPost, "/verwaltung/zustellung/"+arsDarmstadt+"/app-da/"+route+"/erneut", "", []*http.Cookie{df.operator}, nil); r.StatusCode != http.StatusConflict {
		t.Errorf("second redrive: %d, want 409", r.StatusCode)
	}
}

// TestDeliveryCallbackRoute: a callback without a valid signature is
// refused with 401 and reveals nothing.
func TestDeliveryCallbackRoute(t *testing.T) {
	df := newDeliveryFixture(t, "sqlite")
	r := df.do(http.MethodPost, "/zustellung/fitconnect/some-route", `{"type":"x"}`, nil, map[string]string{"Content-Type": "application/json"})
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, "unknown route") {
		t.Errorf("unsigned callback: %d %s", r.StatusCode, r.body)
	}
}

// TestDeliveryIsolation runs the tenant-isolation probes of the view.
func TestDeliveryIsolation(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			df := newDeliveryFixture(t, d)
			p, err := df.sessions.Load(context.Background(), requestWithCookie(df.operator))
			if err != nil {
				t.Fatal(err)
			}
			fx := &web.IsolationFixture{A: arsDarmstadt, B: arsKassel, Tenants: df.db.Tenants(), Catalog: df.db.Catalog(), Identity: df.db.Identity(), Principal: p}
			webtest.CheckDeclared(t, df.srv.Routes())
			if n := webtest.CheckIsolation(t, df.ts.URL, df.srv.Routes(), fx, webtest.Users{Staff: []*http.Cookie{df.operator}}); n < 3 {
				t.Errorf("isolation probed %d routes", n)
			}
		})
	}
}
