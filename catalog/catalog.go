// SPDX-License-Identifier: EUPL-1.2

// Package catalog owns the service catalog: services (Leistungen) with their
// LeiKa keys, texts, fees and documents; offices (Behörden/Standorte); and who
// offers which service where. Entries belong to a tenant (an ARS) and apply to
// its whole subtree unless a lower tenant overrides them (Einer für Alle):
//
//   - the national LeiKa catalog lives at tenant.Bund;
//   - a Land or Kreis may describe a service once for everyone below;
//   - a Gemeinde may override texts and name its own office.
//
// A service is identified across levels by its Key: the 14-digit LeiKa key
// when it has one, else "<source>-<source id>" (e.g. "dldb-1063423").
package catalog

import (
	"context"
	"time"
)

// Service is one Leistung as described by one tenant.
type Service struct {
	Tenant        string    // ARS of the tenant that describes it
	Key           string    // LeiKa key, or "<source>-<id>" when it has none
	LeiKa         string    // 14-digit LeiKa key as a string; "" when not in LeiKa
	Source        string    // "leika", "dldb", "demo", …
	SourceID      string    // id in the imported catalog (e.g. the DLDB id)
	Name          string    // citizen-facing name
	Summary       string    // one-paragraph plain-text teaser
	Description   string    // sanitised HTML
	Prerequisites string    // sanitised HTML or plain text
	Documents     []string  // required documents, one per entry
	Fees          string    // fees as published (text; never invented)
	Deadlines     string    // Fristen as published
	Duration      string    // processing time as published
	LegalBasis    string    // Rechtsgrundlage
	Typisierung   string    // LeiKa Typisierung (1, 2, 2a, … 5)
	OZGID         string    // OZG-Leistung id
	OZGName       string    // OZG-Leistung name
	Lebenslagen   []string  // Lebens-/Unternehmenslagen
	Themenfeld    string    // OZG Themenfeld
	Keywords      []string  // editorial keywords / synonyms
	URL           string    // official information page
	OnlineURL     string    // external online service, if any
	FormID        string    // attached rathaus form (set by `import fim`), "" if none
	UpdatedAt     time.Time // last update at the source
}

// Office is a Behörde or Standort that serves citizens.
type Office struct {
	Tenant       string
	ID           string // stable id, e.g. "dldb-10546"
	Name         string
	Organization string
	Street       string
	HouseNumber  string
	PostalCode   string
	City         string
	Phone        string
	Email        string
	URL          string
	OpeningHours string // as published
	Lat, Lon     float64
}

// Offer says that an office handles a service for a tenant's subtree. The most
// specific tenant wins (a Gemeinde's offer overrides its Kreis's).
type Offer struct {
	Tenant     string // ARS whose subtree the offer applies to
	ServiceKey string
	OfficeID   string // office of the same tenant or an ancestor
	URL        string // appointment / details link, if any
	OnlineURL  string
}

// Lebenslage is an OZG life situation with its Themenfeld.
type Lebenslage struct {
	ID         string
	Name       string
	Themenfeld string
}

// Resolved is a service as a citizen of one municipality sees it: the most
// specific description and the responsible offices.
type Resolved struct {
	Service Service
	Offices []Office // responsible offices, nearest tenant first
	// DefinedAt is the ARS of the tenant whose description is shown.
	DefinedAt string
}

// Query is a catalog listing or search.
type Query struct {
	Municipality string // ARS: only services offered there (or anywhere, if "")
	Text         string // simple full-text; empty lists all
	Lebenslage   string
	Themenfeld   string
	Limit        int
	Offset       int
}

// Store keeps the catalog. All writes are one transaction per call.
type Store interface {
	// UpsertServices inserts or replaces services (keyed by tenant and key).
	UpsertServices(ctx context.Context, ss []Service) error
	// UpsertOffices inserts or replaces offices.
	UpsertOffices(ctx context.Context, os []Office) error
	// UpsertOffers inserts or replaces offers.
	UpsertOffers(ctx context.Context, os []Offer) error
	// UpsertLebenslagen inserts or replaces the OZG life situations.
	UpsertLebenslagen(ctx context.Context, ls []Lebenslage) error

	// Service returns the service description defined exactly at tenant.
	// Returns ENOTFOUND if that tenant has none.
	Service(ctx context.Context, tenant, key string) (*Service, error)

	// Resolve returns the service with the given key as seen from the
	// municipality ars: the description of the nearest tenant in the
	// lineage (tenant.Lineage) and the offices of the nearest offers.
	// Returns ENOTFOUND if no tenant on the lineage describes it.
	Resolve(ctx context.Context, ars, key string) (*Resolved, error)

	// Search lists services visible from q.Municipality (described on its
	// lineage), matching q.Text by simple full-text, best first. The
	// second result is the total number of hits.
	Search(ctx context.Context, q Query) ([]Service, int, error)

	// Lebenslagen lists the OZG life situations, ordered by Themenfeld and name.
	Lebenslagen(ctx context.Context) ([]Lebenslage, error)

	// AllServices streams every service of every tenant (for index builds).
	AllServices(ctx context.Context, fn func(Service) error) error
}
