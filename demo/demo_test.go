// SPDX-License-Identifier: EUPL-1.2

package demo_test

import (
	"context"
	"strings"
	"testing"

	"rathaus"
	"rathaus/demo"
	"rathaus/identity"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
)

func TestSeedAndResolve(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ctx := context.Background()
			for i := 0; i < 2; i++ { // idempotent
				if err := demo.Seed(ctx, db.Tenants(), db.Catalog()); err != nil {
					t.Fatal(err)
				}
			}
			n, err := db.Tenants().CountTenants(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n[tenant.LevelGemeinde] != 3 || n[tenant.LevelLand] != 2 || n[tenant.LevelBund] != 1 {
				t.Errorf("counts = %v", n)
			}
			tests := []struct {
				name, ars, key, definedAt, office, summary string
			}{
				{"DarmstadtOwnText", demo.Darmstadt, demo.KeyPersonalausweis, demo.Darmstadt, "buergerbuero", "Bürgerbüro Darmstadt"},
				{"DarmstadtOverridesLand", demo.Darmstadt, demo.KeyWohngeld, demo.Darmstadt, "wohnungswesen", "Amt für Wohnungswesen"},
				{"WeiterstadtInheritsLand", demo.Weiterstadt, demo.KeyWohngeld, demo.Hessen, "wohngeld", "Zuschuss zur Miete"},
				{"WeiterstadtInheritsKreis", demo.Weiterstadt, demo.KeySperrmuellAbholung, demo.DarmstadtDieburg, "za-abfall", "Zweckverband Abfall"},
				{"DarmstadtInheritsFuehrungszeugnis", demo.Darmstadt, demo.KeyFuehrungszeugnis, demo.Hessen, "buergerbuero", "Bundesamt für Justiz"},
				{"OtherLand", demo.Regensburg, demo.KeyReisepass, demo.Regensburg, "buergerbuero", "Bürgerbüro Regensburg"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r, err := db.Catalog().Resolve(ctx, tt.ars, tt.key)
					if err != nil {
						t.Fatal(err)
					}
					if r.DefinedAt != tt.definedAt || !strings.Contains(r.Service.Summary, tt.summary) {
						t.Errorf("defined at %s, summary %q; want %s, %q", r.DefinedAt, r.Service.Summary, tt.definedAt, tt.summary)
					}
					if len(r.Offices) == 0 || r.Offices[0].ID != tt.office {
						t.Errorf("offices = %+v, want %s first", r.Offices, tt.office)
					}
				})
			}
			// Regensburg is in Bayern: the Hessian Wohngeld text does not apply.
			if _, err := db.Catalog().Resolve(ctx, demo.Regensburg, demo.KeyWohngeld); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("Wohngeld in Regensburg: err = %v, want not found", err)
			}
			ls, err := db.Catalog().Lebenslagen(ctx)
			if err != nil || len(ls) != len(demo.Lebenslagen()) {
				t.Errorf("Lebenslagen: %d, %v", len(ls), err)
			}
		})
	}
}

func TestContent(t *testing.T) {
	lagen := map[string]bool{}
	for _, l := range demo.Lebenslagen() {
		lagen[l.Name] = true
	}
	tenants := map[string]bool{}
	for _, tn := range demo.Tenants() {
		if !tenant.ValidARS(tn.ARS) || tenants[tn.ARS] || (tn.Parent != "" && !tenants[tn.Parent]) {
			t.Errorf("tenant %+v: bad ARS, duplicate or before its parent", tn)
		}
		tenants[tn.ARS] = true
	}
	seen := map[string]bool{}
	for _, s := range demo.Services() {
		id := s.Tenant + "/" + s.Key
		if seen[id] {
			t.Errorf("duplicate service %s", id)
		}
		seen[id] = true
		if !tenants[s.Tenant] || len(s.LeiKa) != 14 || s.Summary == "" || s.Description == "" || !strings.Contains(s.Fees, "Demo-Wert") || s.LegalBasis == "" || len(s.Keywords) == 0 {
			t.Errorf("service %s is incomplete: %+v", id, s)
		}
		for _, l := range s.Lebenslagen {
			if !lagen[l] {
				t.Errorf("service %s: Lebenslage %q not in demo.Lebenslagen", id, l)
			}
		}
	}
	offices := map[string]bool{}
	for _, o := range demo.Offices() {
		offices[o.Tenant+"/"+o.ID] = true
		if o.OpeningHours == "" || o.Street == "" || !strings.HasSuffix(o.Email, ".example") {
			t.Errorf("office %s/%s incomplete or with a real-looking address: %+v", o.Tenant, o.ID, o)
		}
	}
	for _, o := range demo.Offers() {
		// The office belongs to the offer's tenant or an ancestor.
		found := false
		for _, a := range tenant.Lineage(o.Tenant) {
			found = found || offices[a+"/"+o.OfficeID]
		}
		if !found {
			t.Errorf("offer %+v names an unknown office", o)
		}
	}
}

func TestUsers(t *testing.T) {
	byName := map[string]demo.DemoUser{}
	for _, u := range demo.Users() {
		if u.Subject == "" || u.Password == "" || u.Name == "" {
			t.Errorf("incomplete user %+v", u)
		}
		byName[u.Subject] = u
	}
	erika := byName["erika"]
	if erika.Name != "Erika Mustermann" || erika.LoA != identity.LoAHigh || erika.Profile.PostalCode != "64283" || len(erika.Grants) != 0 {
		t.Errorf("erika = %+v", erika)
	}
	tests := []struct {
		subject string
		role    identity.Role
		ars     string
		want    bool
	}{
		{"sachbearbeiter", identity.RoleCaseworker, demo.Darmstadt, true},
		{"sachbearbeiter", identity.RoleCaseworker, demo.Weiterstadt, false},
		{"gestalterin", identity.RoleServiceDesigner, demo.Weiterstadt, true},
		{"gestalterin", identity.RoleServiceDesigner, demo.Regensburg, false},
		{"betrieb", identity.RoleCaseworker, demo.Regensburg, true},
		{"erika", identity.RoleCaseworker, demo.Darmstadt, false},
	}
	for _, tt := range tests {
		if got := identity.Allowed(byName[tt.subject].Grants, tt.role, tt.ars); got != tt.want {
			t.Errorf("Allowed(%s, %s, %s) = %v, want %v", tt.subject, tt.role, tt.ars, got, tt.want)
		}
	}
	if r := byName["sachbearbeiter"].Roles(); len(r) != 1 || r[0] != "caseworker@064110000000" {
		t.Errorf("Roles() = %v", r)
	}
}
