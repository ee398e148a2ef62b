// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"rathaus"
	"rathaus/tenant"
)

// Tenants returns the tenant.Store of db.
func (db *DB) Tenants() tenant.Store { return tenantStore{db} }

type tenantStore struct{ db *DB }

var _ tenant.Store = tenantStore{}

const tenantCols = `ars, parent, level, name, ags, plz, population, area, lat, lon, inhabited`

// UpsertTenants inserts or updates ts in one transaction with one prepared statement.
func (s tenantStore) UpsertTenants(ctx context.Context, ts []tenant.Tenant) error {
	for i, t := range ts {
		if !tenant.ValidARS(t.ARS) {
			return rathaus.Errorf(rathaus.EINVALID, "tenant %d: field ARS: %q is not a 12-digit ARS", i+1, t.ARS)
		}
		if t.Parent != "" && !tenant.ValidARS(t.Parent) {
			return rathaus.Errorf(rathaus.EINVALID, "tenant %d (%s): field Parent: %q is not a 12-digit ARS", i+1, t.ARS, t.Parent)
		}
		if strings.TrimSpace(t.Name) == "" {
			return rathaus.Errorf(rathaus.EINVALID, "tenant %d (%s): field Name: empty", i+1, t.ARS)
		}
	}
	rows := make([][]any, len(ts))
	for i, t := range ts {
		rows[i] = []any{t.ARS, t.Parent, int(t.Level), t.Name, Fold(t.Name), FoldPlain(t.Name),
			t.AGS, t.PLZ, int64(t.Population), t.Area, t.Lat, t.Lon, t.Inhabited}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		err := s.db.upsertBatch(ctx, tx, `INSERT INTO tenants
			(ars, parent, level, name, fold_ae, fold_a, ags, plz, population, area, lat, lon, inhabited)`,
			`ON CONFLICT (ars) DO UPDATE SET parent = excluded.parent, level = excluded.level,
			name = excluded.name, fold_ae = excluded.fold_ae, fold_a = excluded.fold_a,
			ags = excluded.ags, plz = excluded.plz, population = excluded.population,
			area = excluded.area, lat = excluded.lat, lon = excluded.lon, inhabited = excluded.inhabited`,
			rows, func(r []any) string { return r[0].(string) })
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot store tenants")
		}
		return nil
	})
}

func scanTenant(sc interface{ Scan(...any) error }) (tenant.Tenant, error) {
	var t tenant.Tenant
	var level int
	var pop int64
	err := sc.Scan(&t.ARS, &t.Parent, &level, &t.Name, &t.AGS, &t.PLZ, &pop, &t.Area, &t.Lat, &t.Lon, &t.Inhabited)
	t.Level, t.Population = tenant.Level(level), int(pop)
	return t, err
}

func (s tenantStore) list(ctx context.Context, q string, args ...any) ([]tenant.Tenant, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tenant.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Tenant returns one node or ENOTFOUND.
func (s tenantStore) Tenant(ctx context.Context, ars string) (*tenant.Tenant, error) {
	t, err := scanTenant(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+tenantCols+` FROM tenants WHERE ars = ?`), ars))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Gebiet %s nicht gefunden / area %s not found", ars, ars)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Children returns the direct children of ars ordered by (folded) name.
func (s tenantStore) Children(ctx context.Context, ars string) ([]tenant.Tenant, error) {
	return s.list(ctx, `SELECT `+tenantCols+` FROM tenants WHERE parent = ? AND ars <> parent ORDER BY fold_ae, name, ars`, ars)
}

// maxPlaceQuery bounds the query of FindGemeinden in bytes: the longest
// Gemeinde name has about 90 characters.
const maxPlaceQuery = 200

// FindGemeinden finds Gemeinden by postcode prefix (q all digits) or by
// folded name: exact (also "Name, Zusatz"), then prefix, then substring;
// ties by population, descending.
func (s tenantStore) FindGemeinden(ctx context.Context, q string, limit int) ([]tenant.Tenant, error) {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > maxPlaceQuery {
		return nil, nil // no Gemeinde name is that long
	}
	if limit <= 0 || limit > 1000 {
		limit = 20
	}
	if allDigits(q) {
		p := likeEscape(q)
		return s.list(ctx, `SELECT `+tenantCols+` FROM tenants
			WHERE level = ? AND plz LIKE ? ESCAPE '\'
			ORDER BY CASE WHEN plz = ? THEN 0 ELSE 1 END, population DESC, fold_ae, ars
			LIMIT ?`, int(tenant.LevelGemeinde), p+"%", q, limit)
	}
	ae, a := Fold(q), FoldPlain(q)
	if ae == "" {
		return nil, nil
	}
	eae, ea := likeEscape(ae), likeEscape(a)
	return s.list(ctx, `SELECT `+tenantCols+` FROM tenants
		WHERE level = ? AND (fold_ae LIKE ? ESCAPE '\' OR fold_a LIKE ? ESCAPE '\')
		ORDER BY CASE
			WHEN fold_ae = ? OR fold_a = ? OR fold_ae LIKE ? ESCAPE '\' OR fold_a LIKE ? ESCAPE '\' THEN 0
			WHEN fold_ae LIKE ? ESCAPE '\' OR fold_a LIKE ? ESCAPE '\' THEN 1
			ELSE 2 END,
			population DESC, fold_ae, ars
		LIMIT ?`,
		int(tenant.LevelGemeinde), "%"+eae+"%", "%"+ea+"%",
		ae, a, eae+",%", ea+",%",
		eae+"%", ea+"%",
		limit)
}

// CountTenants returns the number of nodes per level.
func (s tenantStore) CountTenants(ctx context.Context) (map[tenant.Level]int, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, `SELECT level, count(*) FROM tenants GROUP BY level`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[tenant.Level]int{}
	for rows.Next() {
		var l, n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[tenant.Level(l)] = n
	}
	return out, rows.Err()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
