// SPDX-License-Identifier: EUPL-1.2

// Package tenant owns the administrative tree of Germany, Bund → Land →
// Regierungsbezirk → Kreis → Gemeindeverband → Gemeinde, keyed by the 12-digit
// Amtlicher Regionalschlüssel (ARS). Every tenant-scoped key in rathaus starts
// with an ARS. Settings made at one node (a service text, a form, a
// responsible office) apply to every node below it unless a lower node
// overrides them ("Einer für Alle").
package tenant

import (
	"context"
	"strings"
)

// Bund is the ARS of the root of the tree (the federation).
const Bund = "000000000000"

// Level is the depth of a node in the administrative tree.
type Level int

// Levels of the tree, from the root down.
const (
	LevelBund Level = iota
	LevelLand
	LevelRegierungsbezirk
	LevelKreis
	LevelGemeindeverband
	LevelGemeinde
)

// String returns the lower-case name of the level, e.g. "gemeinde".
func (l Level) String() string {
	switch l {
	case LevelBund:
		return "bund"
	case LevelLand:
		return "land"
	case LevelRegierungsbezirk:
		return "regierungsbezirk"
	case LevelKreis:
		return "kreis"
	case LevelGemeindeverband:
		return "gemeindeverband"
	case LevelGemeinde:
		return "gemeinde"
	}
	return "unknown"
}

// Tenant is one node of the administrative tree.
type Tenant struct {
	ARS        string  // 12 digits: Land(2) RB(1) Kreis(2) Verband(4) Gemeinde(3)
	Parent     string  // ARS of the parent node; "" for Bund
	Level      Level   // depth in the tree
	Name       string  // official name, e.g. "Darmstadt, Wissenschaftsstadt"
	AGS        string  // 8-digit Amtlicher Gemeindeschlüssel (Gemeinden only)
	PLZ        string  // main postcode (Gemeinden only)
	Population int     // inhabitants (0 for uninhabited areas)
	Area       float64 // km²
	Lat, Lon   float64 // WGS84 of the administrative seat
	Inhabited  bool    // false for gemeindefreie Gebiete without inhabitants
}

// ValidARS reports whether s is a syntactically valid 12-digit ARS.
func ValidARS(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Lineage returns the ARS candidates of all possible ancestors of ars, from
// the node itself up to Bund, by zeroing the key's parts from the right
// (Gemeinde, Verband, Kreis, RB, Land). Candidates that equal their child are
// skipped. Not every candidate has to exist in the store: a Land without
// Regierungsbezirke has no "RB" node. Use it to resolve inherited settings:
// the first candidate with a setting wins.
func Lineage(ars string) []string {
	if !ValidARS(ars) {
		return nil
	}
	cuts := []int{12, 9, 5, 3, 2, 0}
	out := make([]string, 0, len(cuts))
	for _, c := range cuts {
		cand := ars[:c] + strings.Repeat("0", 12-c)
		if len(out) > 0 && out[len(out)-1] == cand {
			continue
		}
		out = append(out, cand)
	}
	return out
}

// InSubtree reports whether ars lies in the subtree rooted at root (including
// root itself).
func InSubtree(root, ars string) bool {
	for _, a := range Lineage(ars) {
		if a == root {
			return true
		}
	}
	return false
}

// Store keeps the tree. Every method takes the ARS explicitly.
type Store interface {
	// UpsertTenants inserts or updates the given nodes in one transaction.
	// Re-importing the same data changes nothing (idempotent). Returns
	// EINVALID for a malformed ARS.
	UpsertTenants(ctx context.Context, ts []Tenant) error

	// Tenant returns one node. Returns ENOTFOUND if it does not exist.
	Tenant(ctx context.Context, ars string) (*Tenant, error)

	// Children returns the direct children of a node, ordered by name.
	Children(ctx context.Context, ars string) ([]Tenant, error)

	// FindGemeinden searches inhabited and uninhabited Gemeinden by name
	// prefix/substring (case- and umlaut-insensitive) or by postcode when q
	// is all digits; best matches first (exact, then prefix, then larger
	// population).
	FindGemeinden(ctx context.Context, q string, limit int) ([]Tenant, error)

	// CountTenants returns the number of nodes per level.
	CountTenants(ctx context.Context) (map[Level]int, error)
}
