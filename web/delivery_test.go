// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus/audit"
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
	view.Service, view.Fixture, view.Audit = svc, svc.IsolationFixture, f.db.Audit()
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

// TestDeliveryViewAudited: every view of a delivery history is recorded as
// "delivery.view" with who, which tenant, application and route; refused
// and missing views write nothing. Every view of the dead-letter list is
// recorded as "delivery.list" with the subtree and the applications shown.
func TestDeliveryViewAudited(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			df := newDeliveryFixture(t, d)
			ctx := context.Background()
			route, err := df.svc.IsolationFixture(ctx, arsDarmstadt, "app-da", "Fachverfahren antwortet 503")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := df.svc.IsolationFixture(ctx, arsKassel, "app-ks", "Kasseler Fehler"); err != nil {
				t.Fatal(err)
			}
			var lists []string
			views := func() []string {
				var out []string
				lists = nil
				err := df.db.Audit().Walk(ctx, func(e audit.Entry) error {
					if e.Action == "delivery.view" {
						out = append(out, fmt.Sprintf("%s %s %s routes=%s", e.Tenant, e.Actor, e.Object, e.Details["routes"]))
					}
					if e.Action == "delivery.list" {
						lists = append(lists, fmt.Sprintf("%s %s %s applications=%s", e.Tenant, e.Actor, e.Object, e.Details["applications"]))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			userOf := func(c *http.Cookie) string {
				p, err := df.sessions.Load(ctx, requestWithCookie(c))
				if err != nil {
					t.Fatal(err)
				}
				return p.User.ID
			}
			steps := []struct {
				name   string
				path   string
				cookie *http.Cookie
				status int
			}{
				{"list", "/verwaltung/zustellung", df.operator, http.StatusOK},
				{"operator", "/verwaltung/zustellung/" + arsDarmstadt + "/app-da", df.operator, http.StatusOK},
				{"caseworker", "/verwaltung/zustellung/" + arsDarmstadt + "/app-da", df.worker, http.StatusOK},
				{"again", "/verwaltung/zustellung/" + arsDarmstadt + "/app-da", df.operator, http.StatusOK},
				{"other tenant", "/verwaltung/zustellung/" + arsKassel + "/app-ks", df.operator, http.StatusNotFound},
				{"missing application", "/verwaltung/zustellung/" + arsDarmstadt + "/gibt-es-nicht", df.operator, http.StatusNotFound},
			}
			for _, st := range steps {
				if res := df.get(st.path, st.cookie); res.StatusCode != st.status {
					t.Errorf("%s: %d, want %d", st.name, res.StatusCode, st.status)
				}
			}
			op, cw := userOf(df.operator), userOf(df.worker)
			want := []string{
				arsDarmstadt + " " + op + " application/app-da routes=" + route,
				arsDarmstadt + " " + cw + " application/app-da routes=" + route,
				arsDarmstadt + " " + op + " application/app-da routes=" + route,
			}
			if diff := cmp.Diff(want, views()); diff != "" {
				t.Errorf("delivery.view entries (-want +got):\n%s", diff)
			}
			wantLists := []string{arsDarmstadt + " " + op + " deliveries/" + arsDarmstadt + " applications=app-da"}
			if diff := cmp.Diff(wantLists, lists); diff != "" {
				t.Errorf("delivery.list entries (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDeliveryViewNeedsAudit: without an audit log the history is not shown.
func TestDeliveryViewNeedsAudit(t *testing.T) {
	view := &web.DeliveryAdmin{}
	f := newFixture(t, "sqlite", web.Config{}, option{deps: func(d *web.Deps) { d.Features = append(d.Features, view) }})
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
	view.Service = svc
	if _, err := svc.IsolationFixture(context.Background(), arsDarmstadt, "app-da", "Geheimer Fehler"); err != nil {
		t.Fatal(err)
	}
	op := f.login(identity.KindStaff, "operator-a", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleOperator})
	res := f.get("/verwaltung/zustellung/"+arsDarmstadt+"/app-da", op)
	if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(res.body, "Geheimer Fehler") {
		t.Errorf("history without audit log: %d, shows data: %v", res.StatusCode, strings.Contains(res.body, "Geheimer Fehler"))
	}
}
