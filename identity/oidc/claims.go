// SPDX-License-Identifier: EUPL-1.2

package oidc

import (
	"strings"

	"rathaus"
	"rathaus/identity"
	"rathaus/tenant"
)

// claims are the ID token claims rathaus reads: OIDC standard claims plus
// the BundID-like extras and the staff roles.
type claims struct {
	Subject      string `json:"sub"`
	ACR          string `json:"acr"`
	Name         string `json:"name"`
	GivenName    string `json:"given_name"`
	FamilyName   string `json:"family_name"`
	Birthdate    string `json:"birthdate"`
	PlaceOfBirth string `json:"place_of_birth"`
	Nationality  string `json:"nationality"`
	Email        string `json:"email"`
	PhoneNumber  string `json:"phone_number"`
	Address      *struct {
		StreetAddress string `json:"street_address"`
		PostalCode    string `json:"postal_code"`
		Locality      string `json:"locality"`
		Country       string `json:"country"`
	} `json:"address"`
	Roles []string `json:"roles"`
}

// profile maps the claims to an identity.Profile.
func (c *claims) profile() identity.Profile {
	p := identity.Profile{
		GivenName:   c.GivenName,
		FamilyName:  c.FamilyName,
		BirthDate:   c.Birthdate,
		BirthPlace:  c.PlaceOfBirth,
		Nationality: c.Nationality,
		Email:       c.Email,
		Phone:       c.PhoneNumber,
	}
	if a := c.Address; a != nil {
		p.Street, p.PostalCode, p.City, p.Country = a.StreetAddress, a.PostalCode, a.Locality, a.Country
	}
	return p
}

// displayName is the name claim, or given and family name.
func (c *claims) displayName() string {
	if n := strings.TrimSpace(c.Name); n != "" {
		return n
	}
	return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
}

// loa maps acr to a level; a missing acr counts as low (an IdP that does
// not say is treated as a Basisregistrierung), an unknown one as none.
func (c *claims) loa() identity.LoA {
	if c.ACR == "" {
		return identity.LoALow
	}
	return identity.ParseLoA(c.ACR)
}

// ParseRoles parses role claims of the form "role@ARS", e.g.
// "caseworker@064110000000", into grants for userID. Unknown roles and
// malformed entries are errors (EINVALID) naming the entry.
func ParseRoles(userID string, roles []string) ([]identity.Grant, error) {
	var gs []identity.Grant
	seen := map[identity.Grant]bool{}
	for i, r := range roles {
		role, ars, ok := strings.Cut(strings.TrimSpace(r), "@")
		if !ok {
			return nil, rathaus.Errorf(rathaus.EINVALID, "roles claim entry %d %q: want role@ARS", i+1, r)
		}
		switch identity.Role(role) {
		case identity.RoleCaseworker, identity.RoleServiceDesigner, identity.RoleOperator:
		default:
			return nil, rathaus.Errorf(rathaus.EINVALID, "roles claim entry %d %q: unknown role %q", i+1, r, role)
		}
		if !tenant.ValidARS(ars) {
			return nil, rathaus.Errorf(rathaus.EINVALID, "roles claim entry %d %q: %q is not a 12-digit ARS", i+1, r, ars)
		}
		g := identity.Grant{UserID: userID, Tenant: ars, Role: identity.Role(role)}
		if !seen[g] {
			seen[g] = true
			gs = append(gs, g)
		}
	}
	return gs, nil
}
