// SPDX-License-Identifier: EUPL-1.2

package demo

import (
	"rathaus/identity"
)

// DemoUser is a login of the demo identity provider: a citizen with a
// BundID-like profile or a staff member with grants. Passwords are demo
// values and only work against the demo provider.
type DemoUser struct {
	Subject  string // login name and pseudonymous "sub" claim
	Password string
	Name     string
	Profile  identity.Profile
	LoA      identity.LoA
	Grants   []identity.Grant // UserID is empty; the store assigns it at login
}

// Roles returns the grants as "role@ARS" claim values
// (e.g. "caseworker@064110000000"), the form identity/oidc.ParseRoles reads.
func (u DemoUser) Roles() []string {
	var out []string
	for _, g := range u.Grants {
		out = append(out, string(g.Role)+"@"+g.Tenant)
	}
	return out
}

// Users returns the demo logins:
//
//   - "erika": Erika Mustermann, citizen of Darmstadt, LoA high (Online-Ausweis);
//   - "max": Max Mustermann, citizen of Weiterstadt, LoA substantial;
//   - "sachbearbeiter": Sina Bauer, caseworker on Darmstadt;
//   - "gestalterin": Dana Designer, service designer on Hessen;
//   - "betrieb": Otto Operator, operator on the whole tree.
func Users() []DemoUser {
	return []DemoUser{
		{
			Subject: "erika", Password: "demo-erika", Name: "Erika Mustermann", LoA: identity.LoAHigh,
			Profile: identity.Profile{
				GivenName: "Erika", FamilyName: "Mustermann", BirthDate: "1964-08-12", BirthPlace: "Berlin",
				Nationality: "DE", Street: "Heidestraße 17", PostalCode: "64283", City: "Darmstadt", Country: "DE",
				Email: "erika.mustermann@example.org", Phone: "+49 6151 000000",
			},
		},
		{
			Subject: "max", Password: "demo-max", Name: "Max Mustermann", LoA: identity.LoASubstantial,
			Profile: identity.Profile{
				GivenName: "Max", FamilyName: "Mustermann", BirthDate: "1990-02-01", BirthPlace: "Darmstadt",
				Nationality: "DE", Street: "Musterweg 3", PostalCode: "64331", City: "Weiterstadt", Country: "DE",
				Email: "max.mustermann@example.org",
			},
		},
		{
			Subject: "sachbearbeiter", Password: "demo-sachbearbeiter", Name: "Sina Bauer", LoA: identity.LoASubstantial,
			Profile: identity.Profile{GivenName: "Sina", FamilyName: "Bauer", Email: "sina.bauer@darmstadt.example"},
			Grants:  []identity.Grant{{Tenant: Darmstadt, Role: identity.RoleCaseworker}},
		},
		{
			Subject: "gestalterin", Password: "demo-gestalterin", Name: "Dana Designer", LoA: identity.LoASubstantial,
			Profile: identity.Profile{GivenName: "Dana", FamilyName: "Designer", Email: "dana.designer@hessen.example"},
			Grants:  []identity.Grant{{Tenant: Hessen, Role: identity.RoleServiceDesigner}},
		},
		{
			Subject: "betrieb", Password: "demo-betrieb", Name: "Otto Operator", LoA: identity.LoASubstantial,
			Profile: identity.Profile{GivenName: "Otto", FamilyName: "Operator", Email: "betrieb@rathaus.example"},
			Grants:  []identity.Grant{{Tenant: "000000000000", Role: identity.RoleOperator}},
		},
	}
}
