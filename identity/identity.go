// SPDX-License-Identifier: EUPL-1.2

// Package identity owns the people who use rathaus: citizens (and businesses)
// who log in through an OIDC identity provider such as BundID, and staff
// (caseworkers, service designers, operators) whose roles are granted per
// tenant subtree. Sessions are server-side and live in the store. rathaus
// stores no passwords, except an optional local operator account (Argon2id).
package identity

import (
	"context"
	"time"
)

// LoA is an eIDAS level of assurance.
type LoA int

// Levels of assurance, ordered.
const (
	LoANone LoA = iota
	LoALow
	LoASubstantial
	LoAHigh
)

// String returns "none", "low", "substantial" or "high".
func (l LoA) String() string {
	switch l {
	case LoALow:
		return "low"
	case LoASubstantial:
		return "substantial"
	case LoAHigh:
		return "high"
	}
	return "none"
}

// eIDAS URIs of the levels, as sent in the acr claim and in acr_values.
const (
	EIDASLow         = "http://eidas.europa.eu/LoA/low"
	EIDASSubstantial = "http://eidas.europa.eu/LoA/substantial"
	EIDASHigh        = "http://eidas.europa.eu/LoA/high"
)

// EIDASURI returns the eIDAS URI of l; LoANone (and anything unknown) gives "".
func (l LoA) EIDASURI() string {
	switch l {
	case LoALow:
		return EIDASLow
	case LoASubstantial:
		return EIDASSubstantial
	case LoAHigh:
		return EIDASHigh
	}
	return ""
}

// ParseLoA maps the values IdPs send (eIDAS URIs, BSI names, STORK levels,
// plain words) to a LoA. Unknown values map to LoANone (fail closed).
func ParseLoA(s string) LoA {
	switch s {
	case EIDASLow, "low", "normal", "http://bsi.bund.de/eID/LoA/normal", "STORK-QAA-Level-1", "STORK-QAA-Level-2":
		return LoALow
	case EIDASSubstantial, "substantial", "substanziell", "http://bsi.bund.de/eID/LoA/substanziell", "STORK-QAA-Level-3":
		return LoASubstantial
	case EIDASHigh, "high", "hoch", "http://bsi.bund.de/eID/LoA/hoch", "STORK-QAA-Level-4":
		return LoAHigh
	}
	return LoANone
}

// Kind separates citizens from staff.
type Kind string

// Kinds of users.
const (
	KindCitizen Kind = "citizen"
	KindStaff   Kind = "staff"
)

// Role is a staff role; it is granted on a tenant subtree.
type Role string

// Staff roles.
const (
	RoleCaseworker      Role = "caseworker"
	RoleServiceDesigner Role = "designer"
	RoleOperator        Role = "operator"
)

// valid reports whether r is one of the staff roles.
func (r Role) valid() bool {
	switch r {
	case RoleCaseworker, RoleServiceDesigner, RoleOperator:
		return true
	}
	return false
}

// Profile holds the claims an IdP asserted about a citizen; the form uses
// them for prefill (only where the field allows it, shown for confirmation).
type Profile struct {
	GivenName   string
	FamilyName  string
	BirthDate   string // YYYY-MM-DD
	BirthPlace  string
	Nationality string
	Street      string
	PostalCode  string
	City        string
	Country     string
	Email       string
	Phone       string
}

// User is a citizen or staff member, identified by issuer + subject.
type User struct {
	ID        string // app-made UUIDv7
	Kind      Kind
	Issuer    string
	Subject   string // pseudonymous id from the IdP (BundID bPK2)
	Name      string
	Profile   Profile
	CreatedAt time.Time
}

// Grant gives a staff member a role on a tenant subtree.
type Grant struct {
	UserID string
	Tenant string // ARS: the role applies to this node and everything below
	Role   Role
}

// Session is a server-side login session. The cookie holds only ID.
type Session struct {
	ID        string // 256-bit random, base64url
	UserID    string
	LoA       LoA
	IdP       string // issuer the session came from
	AuthTime  time.Time
	ExpiresAt time.Time
	Tenant    string // chosen municipality (citizens) or working tenant (staff)
	Lang      string // "de" or "en"
}

// Store keeps users, grants and sessions.
type Store interface {
	// UpsertUser creates the user for (Issuer, Subject) or updates name and
	// profile; it returns the stored user with its ID.
	UpsertUser(ctx context.Context, u User) (*User, error)
	// User returns a user by ID. Returns ENOTFOUND.
	User(ctx context.Context, id string) (*User, error)
	// SetGrants replaces the grants of a user.
	SetGrants(ctx context.Context, userID string, gs []Grant) error
	// Grants returns the grants of a user.
	Grants(ctx context.Context, userID string) ([]Grant, error)
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns an unexpired session. Returns ENOTFOUND otherwise.
	Session(ctx context.Context, id string) (*Session, error)
	// UpdateSession changes Tenant and Lang of a session.
	UpdateSession(ctx context.Context, s Session) error
	// DeleteSession removes a session (logout). Deleting a missing session is not an error.
	DeleteSession(ctx context.Context, id string) error
}

// Atomic is implemented by stores that can run several writes in one
// transaction: every Store write method called with the ctx given to fn,
// and an audit entry appended with it to the audit log of the same
// database, commit together when fn returns nil, or not at all. The login
// uses it so that a user, their grants and the "login" audit entry are
// never stored apart. sqlstore's identity store implements it.
type Atomic interface {
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error
}

// RunAtomic runs fn in one transaction of st if st implements Atomic, and
// directly otherwise (in-memory test stores).
func RunAtomic(ctx context.Context, st Store, fn func(ctx context.Context) error) error {
	if a, ok := st.(Atomic); ok {
		return a.Atomic(ctx, fn)
	}
	return fn(ctx)
}

// Allowed reports whether grants give role on ars (the grant's tenant is ars
// or one of its ancestors). Operators may do everything a role may. Only the
// known roles count: an empty or unknown role is never allowed (fail closed).
func Allowed(grants []Grant, role Role, ars string) bool {
	if !role.valid() {
		return false
	}
	for _, g := range grants {
		if g.Role != role && g.Role != RoleOperator {
			continue
		}
		if inSubtree(g.Tenant, ars) {
			return true
		}
	}
	return false
}
