// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"rathaus"
	"rathaus/catalog"
	"rathaus/tenant"
)

// Catalog returns the catalog.Store of db.
func (db *DB) Catalog() catalog.Store { return catalogStore{db} }

type catalogStore struct{ db *DB }

var _ catalog.Store = catalogStore{}

const serviceCols = `tenant, key, leika, source, source_id, name, summary, description, prerequisites,
	documents, fees, deadlines, duration, legal_basis, typisierung, ozg_id, ozg_name, lebenslagen,
	themenfeld, keywords, url, online_url, form_id, updated_at`

func jsonList(ss []string) string {
	if ss == nil {
		ss = []string{}
	}
	b, _ := json.Marshal(ss)
	return string(b)
}

// searchText is what Search matches against: both umlaut variants of name,
// keywords and summary.
func searchText(s catalog.Service) string {
	t := s.Name + " " + strings.Join(s.Keywords, " ") + " " + s.Summary
	return Fold(t) + " | " + FoldPlain(t)
}

// UpsertServices inserts or replaces services in one transaction.
func (s catalogStore) UpsertServices(ctx context.Context, ss []catalog.Service) error {
	for i, v := range ss {
		if !tenant.ValidARS(v.Tenant) {
			return rathaus.Errorf(rathaus.EINVALID, "service %d (%s): field Tenant: %q is not a 12-digit ARS", i+1, v.Key, v.Tenant)
		}
		if v.Key == "" {
			return rathaus.Errorf(rathaus.EINVALID, "service %d: field Key: empty", i+1)
		}
		if strings.TrimSpace(v.Name) == "" {
			return rathaus.Errorf(rathaus.EINVALID, "service %d (%s): field Name: empty", i+1, v.Key)
		}
	}
	rows := make([][]any, len(ss))
	for i, v := range ss {
		rows[i] = []any{v.Tenant, v.Key, v.LeiKa, v.Source, v.SourceID, v.Name, v.Summary,
			v.Description, v.Prerequisites, jsonList(v.Documents), v.Fees, v.Deadlines, v.Duration,
			v.LegalBasis, v.Typisierung, v.OZGID, v.OZGName, jsonList(v.Lebenslagen), v.Themenfeld,
			jsonList(v.Keywords), v.URL, v.OnlineURL, v.FormID, micros(v.UpdatedAt),
			Fold(v.Name) + " | " + FoldPlain(v.Name), searchText(v)}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		err := s.db.upsertBatch(ctx, tx, `INSERT INTO services (`+serviceCols+`, name_fold, search_fold)`,
			`ON CONFLICT (tenant, key) DO UPDATE SET leika = excluded.leika, source = excluded.source,
			source_id = excluded.source_id, name = excluded.name, summary = excluded.summary,
			description = excluded.description, prerequisites = excluded.prerequisites,
			documents = excluded.documents, fees = excluded.fees, deadlines = excluded.deadlines,
			duration = excluded.duration, legal_basis = excluded.legal_basis,
			typisierung = excluded.typisierung, ozg_id = excluded.ozg_id, ozg_name = excluded.ozg_name,
			lebenslagen = excluded.lebenslagen, themenfeld = excluded.themenfeld,
			keywords = excluded.keywords, url = excluded.url, online_url = excluded.online_url,
			form_id = excluded.form_id, updated_at = excluded.updated_at,
			name_fold = excluded.name_fold, search_fold = excluded.search_fold`,
			rows, func(r []any) string { return r[0].(string) + "\x00" + r[1].(string) })
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot store services")
		}
		return nil
	})
}

// UpsertOffices inserts or replaces offices in one transaction.
func (s catalogStore) UpsertOffices(ctx context.Context, os []catalog.Office) error {
	for i, o := range os {
		if !tenant.ValidARS(o.Tenant) {
			return rathaus.Errorf(rathaus.EINVALID, "office %d (%s): field Tenant: %q is not a 12-digit ARS", i+1, o.ID, o.Tenant)
		}
		if o.ID == "" {
			return rathaus.Errorf(rathaus.EINVALID, "office %d: field ID: empty", i+1)
		}
	}
	rows := make([][]any, len(os))
	for i, o := range os {
		rows[i] = []any{o.Tenant, o.ID, o.Name, o.Organization, o.Street, o.HouseNumber,
			o.PostalCode, o.City, o.Phone, o.Email, o.URL, o.OpeningHours, o.Lat, o.Lon}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		err := s.db.upsertBatch(ctx, tx, `INSERT INTO offices (tenant, id, name, organization,
			street, house_number, postal_code, city, phone, email, url, opening_hours, lat, lon)`,
			`ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, organization = excluded.organization,
			street = excluded.street, house_number = excluded.house_number, postal_code = excluded.postal_code,
			city = excluded.city, phone = excluded.phone, email = excluded.email, url = excluded.url,
			opening_hours = excluded.opening_hours, lat = excluded.lat, lon = excluded.lon`,
			rows, func(r []any) string { return r[0].(string) + "\x00" + r[1].(string) })
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot store offices")
		}
		return nil
	})
}

// UpsertOffers inserts or replaces offers in one transaction.
func (s catalogStore) UpsertOffers(ctx context.Context, os []catalog.Offer) error {
	for i, o := range os {
		if !tenant.ValidARS(o.Tenant) {
			return rathaus.Errorf(rathaus.EINVALID, "offer %d: field Tenant: %q is not a 12-digit ARS", i+1, o.Tenant)
		}
		if o.ServiceKey == "" || o.OfficeID == "" {
			return rathaus.Errorf(rathaus.EINVALID, "offer %d: fields ServiceKey and OfficeID: must not be empty", i+1)
		}
	}
	rows := make([][]any, len(os))
	for i, o := range os {
		rows[i] = []any{o.Tenant, o.ServiceKey, o.OfficeID, o.URL, o.OnlineURL}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		err := s.db.upsertBatch(ctx, tx, `INSERT INTO offers (tenant, service_key, office_id, url, online_url)`,
			`ON CONFLICT (tenant, service_key, office_id) DO UPDATE SET url = excluded.url, online_url = excluded.online_url`,
			rows, func(r []any) string { return r[0].(string) + "\x00" + r[1].(string) + "\x00" + r[2].(string) })
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot store offers")
		}
		return nil
	})
}

// UpsertLebenslagen inserts or replaces life situations in one transaction.
func (s catalogStore) UpsertLebenslagen(ctx context.Context, ls []catalog.Lebenslage) error {
	for i, l := range ls {
		if l.ID == "" || l.Name == "" {
			return rathaus.Errorf(rathaus.EINVALID, "lebenslage %d: fields ID and Name: must not be empty", i+1)
		}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.db.Rebind(`INSERT INTO lebenslagen (id, name, themenfeld) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, themenfeld = excluded.themenfeld`))
		if err != nil {
			return err
		}
		defer st.Close()
		for _, l := range ls {
			if _, err := st.ExecContext(ctx, l.ID, l.Name, l.Themenfeld); err != nil {
				return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot store lebenslage %s", l.ID)
			}
		}
		return nil
	})
}

func scanService(sc interface{ Scan(...any) error }) (catalog.Service, error) {
	var v catalog.Service
	var docs, lls, kws string
	var upd int64
	err := sc.Scan(&v.Tenant, &v.Key, &v.LeiKa, &v.Source, &v.SourceID, &v.Name, &v.Summary, &v.Description,
		&v.Prerequisites, &docs, &v.Fees, &v.Deadlines, &v.Duration, &v.LegalBasis, &v.Typisierung, &v.OZGID,
		&v.OZGName, &lls, &v.Themenfeld, &kws, &v.URL, &v.OnlineURL, &v.FormID, &upd)
	if err != nil {
		return v, err
	}
	v.UpdatedAt = fromMicros(upd)
	for _, p := range []struct {
		s   string
		dst *[]string
	}{{docs, &v.Documents}, {lls, &v.Lebenslagen}, {kws, &v.Keywords}} {
		if err := json.Unmarshal([]byte(p.s), p.dst); err != nil {
			return v, fmt.Errorf("service %s/%s: bad JSON list: %w", v.Tenant, v.Key, err)
		}
		if len(*p.dst) == 0 {
			*p.dst = nil
		}
	}
	return v, nil
}

// Service returns the description defined exactly at tenant.
func (s catalogStore) Service(ctx context.Context, ten, key string) (*catalog.Service, error) {
	v, err := scanService(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+serviceCols+` FROM services WHERE tenant = ? AND key = ?`), ten, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Leistung nicht gefunden / service not found")
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// lineageArgs returns the lineage of ars as []any and a CASE expression
// ranking a tenant column by nearness (0 = ars itself).
func lineageRank(col string, lin []string) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(lin))
	b.WriteString("CASE " + col)
	for i, a := range lin {
		fmt.Fprintf(&b, " WHEN ? THEN %d", i)
		args = append(args, a)
	}
	b.WriteString(" ELSE 99 END")
	return b.String(), args
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Resolve returns the nearest description of key on the lineage of ars and
// the offices of the nearest tenant on the lineage that has offers for key.
func (s catalogStore) Resolve(ctx context.Context, ars, key string) (*catalog.Resolved, error) {
	lin := tenant.Lineage(ars)
	if lin == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field municipality: %q is not a 12-digit ARS", ars)
	}
	rank, rargs := lineageRank("tenant", lin)
	q := `SELECT ` + serviceCols + ` FROM services WHERE key = ? AND tenant IN (` + placeholders(len(lin)) + `)
		ORDER BY ` + rank + ` LIMIT 1`
	args := append(append([]any{key}, anys(lin)...), rargs...)
	v, err := scanService(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(q), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Leistung nicht gefunden / service not found")
	}
	if err != nil {
		return nil, err
	}
	res := &catalog.Resolved{Service: v, DefinedAt: v.Tenant}

	// Offers of the nearest tenant that has any for key.
	q = `SELECT tenant, office_id FROM offers WHERE service_key = ? AND tenant IN (` + placeholders(len(lin)) + `)
		ORDER BY ` + rank + `, office_id`
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	var offerTenant string
	var officeIDs []string
	for rows.Next() {
		var t, id string
		if err := rows.Scan(&t, &id); err != nil {
			rows.Close()
			return nil, err
		}
		if offerTenant == "" {
			offerTenant = t
		}
		if t == offerTenant {
			officeIDs = append(officeIDs, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Each office belongs to the offer's tenant or one of its ancestors: take the nearest.
	olin := tenant.Lineage(offerTenant)
	orank, oargs := lineageRank("tenant", olin)
	for _, id := range officeIDs {
		q := `SELECT tenant, id, name, organization, street, house_number, postal_code, city, phone, email,
			url, opening_hours, lat, lon FROM offices WHERE id = ? AND tenant IN (` + placeholders(len(olin)) + `)
			ORDER BY ` + orank + ` LIMIT 1`
		var o catalog.Office
		err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(q), append(append([]any{id}, anys(olin)...), oargs...)...).Scan(
			&o.Tenant, &o.ID, &o.Name, &o.Organization, &o.Street, &o.HouseNumber, &o.PostalCode, &o.City,
			&o.Phone, &o.Email, &o.URL, &o.OpeningHours, &o.Lat, &o.Lon)
		if errors.Is(err, sql.ErrNoRows) {
			continue // offer names an office that was not imported; show the others
		}
		if err != nil {
			return nil, err
		}
		res.Offices = append(res.Offices, o)
	}
	return res, nil
}

// maxSearchWords is how many words of a query Search uses; the rest are
// ignored (each word costs three parameters, and SQLite allows 32766).
const maxSearchWords = 16

// Search lists the services visible from q.Municipality (nearest description
// per key) whose folded name, keywords or summary contain every query word.
// Services whose name matches come first, then by name.
func (s catalogStore) Search(ctx context.Context, q catalog.Query) ([]catalog.Service, int, error) {
	var where []string
	var args []any
	rankExpr := "tenant" // with no municipality, the most general description (Bund first)
	var rankArgs []any
	if q.Municipality != "" {
		lin := tenant.Lineage(q.Municipality)
		if lin == nil {
			return nil, 0, rathaus.Errorf(rathaus.EINVALID, "field municipality: %q is not a 12-digit ARS", q.Municipality)
		}
		where = append(where, "tenant IN ("+placeholders(len(lin))+")")
		args = append(args, anys(lin)...)
		rankExpr, rankArgs = lineageRank("tenant", lin)
	}
	// The filters apply to the nearest description of each key.
	var conds []string
	var condArgs []any
	var words []string // folded query words without leading/trailing ',' and '-'
	for _, w := range strings.Fields(Fold(q.Text)) {
		if len(words) == maxSearchWords {
			break // a query is a few words; more would only cost parameters
		}
		if w = strings.Trim(w, ",-"); w != "" {
			words = append(words, w)
			conds = append(conds, `search_fold LIKE ? ESCAPE '\'`)
			condArgs = append(condArgs, "%"+likeEscape(w)+"%")
		}
	}
	if q.Themenfeld != "" {
		conds = append(conds, "themenfeld = ?")
		condArgs = append(condArgs, q.Themenfeld)
	}
	if q.Lebenslage != "" {
		// Exact, case-sensitive match of one JSON list element on both
		// dialects (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
		b, _ := json.Marshal(q.Lebenslage)
		if s.db.dialect == Postgres {
			conds = append(conds, `strpos(lebenslagen, ?) > 0`)
		} else {
			conds = append(conds, `instr(lebenslagen, ?) > 0`)
		}
		condArgs = append(condArgs, string(b))
	}
	if len(conds) > 0 {
		// Pre-filter: only keys of which some visible description passes
		// the filters get ranked (the window over every service is what
		// costs); the outer query then checks the nearest description.
		pre := append(append([]string(nil), where...), conds...)
		preArgs := append(append([]any(nil), args...), condArgs...)
		where = append(where, "key IN (SELECT key FROM services WHERE "+strings.Join(pre, " AND ")+")")
		args = append(args, preArgs...)
	}
	inner := `SELECT ` + serviceCols + `, name_fold, search_fold,
		ROW_NUMBER() OVER (PARTITION BY key ORDER BY ` + rankExpr + `) AS rn FROM services`
	if len(where) > 0 {
		inner += " WHERE " + strings.Join(where, " AND ")
	}
	innerArgs := append(rankArgs, args...)
	outer := append([]string{"rn = 1"}, conds...)
	outerArgs := condArgs
	base := `FROM (` + inner + `) v WHERE ` + strings.Join(outer, " AND ")
	allArgs := append(append([]any{}, innerArgs...), outerArgs...)

	var total int
	if err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) `+base), allArgs...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit, offset := q.Limit, q.Offset
	if limit <= 0 {
		limit = 20
	}
	if offset < 0 {
		offset = 0
	}
	order := "name_fold, name, key"
	var orderArgs []any
	if len(words) > 0 {
		var conds []string
		for _, w := range words {
			conds = append(conds, `name_fold LIKE ? ESCAPE '\'`)
			orderArgs = append(orderArgs, "%"+likeEscape(w)+"%")
		}
		order = "CASE WHEN " + strings.Join(conds, " AND ") + " THEN 0 ELSE 1 END, " + order
	}
	qs := `SELECT ` + serviceCols + ` ` + base + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	allArgs = append(append(allArgs, orderArgs...), limit, offset)
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(qs), allArgs...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []catalog.Service
	for rows.Next() {
		v, err := scanService(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	return out, total, rows.Err()
}

// Lebenslagen lists the life situations ordered by Themenfeld and name.
func (s catalogStore) Lebenslagen(ctx context.Context) ([]catalog.Lebenslage, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, `SELECT id, name, themenfeld FROM lebenslagen ORDER BY themenfeld, name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Lebenslage
	for rows.Next() {
		var l catalog.Lebenslage
		if err := rows.Scan(&l.ID, &l.Name, &l.Themenfeld); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AllServices streams every service of every tenant, ordered by tenant and key.
func (s catalogStore) AllServices(ctx context.Context, fn func(catalog.Service) error) error {
	rows, err := s.db.rd(ctx).QueryContext(ctx, `SELECT `+serviceCols+` FROM services ORDER BY tenant, key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanService(rows)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}
