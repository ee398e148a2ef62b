// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/tenant"
)

// noDue is stored as due_at of a case without a deadline, so that sorting
// by deadline puts those last and "overdue" is a plain range.
const noDue = int64(1) << 62

// CaseStore is the SQL casework.Store.
type CaseStore struct {
	db *DB
	// w and r are the statements of Case and PutCase prepared on the
	// writer and the reader pool (see Prepare); nil unprepared.
	w, r map[string]*sql.Stmt
}

var _ casework.Store = (*CaseStore)(nil)

// Cases returns the casework store of db.
func (db *DB) Cases() *CaseStore { return &CaseStore{db: db} }

const caseCols = `tenant, id, reference, service_key, title, office, role, status, assignee, applicant, decision, due_at, created_at, updated_at`

// The statements of every process step on a case (see Prepare).
const (
	caseReadSQL   = `SELECT ` + caseCols + ` FROM casework_cases WHERE tenant = ? AND id = ?`
	caseUpsertSQL = `INSERT INTO casework_cases (` + caseCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, id) DO UPDATE SET reference = excluded.reference, service_key = excluded.service_key, title = excluded.title,
			office = excluded.office, role = excluded.role, status = excluded.status, assignee = excluded.assignee, applicant = excluded.applicant,
			decision = excluded.decision, due_at = excluded.due_at, updated_at = excluded.updated_at`
	historyKeySQL    = `SELECT count(*) FROM casework_history WHERE tenant = ? AND case_id = ? AND key = ?`
	historyLockSQL   = `SELECT pg_advisory_xact_lock(hashtext(?))`
	historyInsertSQL = `INSERT INTO casework_history (tenant, case_id, seq, at, actor, kind, text, key)
				VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM casework_history WHERE tenant = ? AND case_id = ?), ?, ?, ?, ?, ?)`
)

// txStmt returns q prepared and bound to tx, or nil if Prepare did not run.
func (s *CaseStore) txStmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	if st := s.w[q]; st != nil {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

// exec runs q (written with "?") in tx, prepared if Prepare ran.
func (s *CaseStore) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.txStmt(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.db.Rebind(q), args...)
}

// Prepare prepares the statements of Case, PutCase and Append, which
// every process step runs (casework/worker). Call it once, outside any
// transaction, before the store is used concurrently; without it the store
// works the same, only slower.
func (s *CaseStore) Prepare(ctx context.Context) error {
	w, r := map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	qs := []string{caseReadSQL, caseUpsertSQL, historyKeySQL, historyInsertSQL}
	if s.db.dialect == Postgres {
		qs = append(qs, historyLockSQL)
	}
	for _, q := range qs {
		st, err := s.db.w.PrepareContext(ctx, s.db.Rebind(q))
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot prepare case statements")
		}
		w[q], r[q] = st, st
		if q == caseReadSQL && s.db.r != s.db.w {
			if r[q], err = s.db.r.PrepareContext(ctx, s.db.Rebind(q)); err != nil {
				return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot prepare case statements")
			}
		}
	}
	s.w, s.r = w, r
	return nil
}

func scanCase(sc interface{ Scan(...any) error }) (*casework.Case, error) {
	var c casework.Case
	var due, created, updated int64
	if err := sc.Scan(&c.Tenant, &c.ID, &c.Reference, &c.ServiceKey, &c.Title, &c.Office, &c.Role, &c.Status, &c.Assignee, &c.Applicant, &c.Decision,
		&due, &created, &updated); err != nil {
		return nil, err
	}
	if due != noDue {
		c.DueAt = fromMicros(due)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func dueMicros(t time.Time) int64 {
	if t.IsZero() {
		return noDue
	}
	return t.UnixMicro()
}

// PutCase implements casework.Store.
func (s *CaseStore) PutCase(ctx context.Context, c *casework.Case) error {
	if c.Tenant == "" || c.ID == "" || c.Status == "" {
		return rathaus.Errorf(rathaus.EINVALID, "case needs tenant, id and status")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		args := []any{c.Tenant, c.ID, c.Reference, c.ServiceKey, c.Title, c.Office, c.Role, c.Status, c.Assignee, c.Applicant, c.Decision,
			dueMicros(c.DueAt), micros(c.CreatedAt), micros(c.UpdatedAt)}
		var err error
		if st := s.txStmt(ctx, tx, caseUpsertSQL); st != nil {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, s.db.Rebind(caseUpsertSQL), args...)
		}
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot store case %s", c.ID)
		}
		return nil
	})
}

// Case implements casework.Store.
func (s *CaseStore) Case(ctx context.Context, tenant, id string) (*casework.Case, error) {
	var row *sql.Row
	if tx := txFrom(ctx); tx != nil && s.w[caseReadSQL] != nil {
		row = tx.StmtContext(ctx, s.w[caseReadSQL]).QueryRowContext(ctx, tenant, id)
	} else if tx == nil && s.r[caseReadSQL] != nil {
		row = s.r[caseReadSQL].QueryRowContext(ctx, tenant, id)
	} else {
		row = s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(caseReadSQL), tenant, id)
	}
	c, err := scanCase(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Vorgang nicht gefunden / case not found")
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read case %s", id)
	}
	return c, nil
}

// maxCount caps the total of an inbox query: counting stops there (the
// page says "more than"), so a filter over 100,000 cases stays cheap.
const maxCount = 10_000

// maxUnion is the largest subtree (in tenants) that is queried as one
// index-ordered query per tenant; larger subtrees use one range query.
const maxUnion = 64

// Inbox implements casework.Store. A subtree is resolved to its tenants
// (tenants table): each gets an index-ordered query that stops after the
// page (tenant, office, sort column, id indexes), merged by UNION ALL; a
// subtree of more than maxUnion tenants, or one not in the tenants table,
// is a key range on tenant instead. Totals are counted up to maxCount.
func (s *CaseStore) Inbox(ctx context.Context, f casework.Filter) (casework.Page, error) {
	if err := f.Normalize(); err != nil {
		return casework.Page{}, err
	}
	r := s.db.rd(ctx)
	var tenants []string
	prefix := casework.SubtreePrefix(f.Root)
	if len(prefix) == 12 {
		tenants = []string{prefix}
	} else if prefix != "" {
		rows, err := r.QueryContext(ctx, s.db.Rebind(`SELECT ars FROM tenants WHERE ars >= ? AND ars < ? ORDER BY ars LIMIT ?`), prefix, prefix+":", maxUnion+1)
		if err != nil {
			return casework.Page{}, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read tenants")
		}
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				rows.Close()
				return casework.Page{}, err
			}
			tenants = append(tenants, a)
		}
		rows.Close()
		if len(tenants) == 0 || len(tenants) > maxUnion {
			tenants = nil
		}
	}
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.Office != "" {
		add("office = ?", f.Office)
	}
	if f.Role != "" {
		add("role = ?", f.Role)
	}
	if f.ServiceKey != "" {
		add("service_key = ?", f.ServiceKey)
	}
	switch f.Status {
	case "":
	case "open":
		add("status <> ?", casework.StatusClosed)
	default:
		add("status = ?", f.Status)
	}
	switch f.Assignee {
	case "":
	case "-":
		add("assignee = ?", "")
	default:
		add("assignee = ?", f.Assignee)
	}
	if !f.DueBefore.IsZero() {
		add("due_at <= ?", f.DueBefore.UnixMicro())
	}
	if f.Overdue {
		add("due_at < ?", f.Now.UnixMicro())
		if f.Status == "" {
			add("status <> ?", casework.StatusClosed)
		}
	}
	// One condition per part: a tenant (or the range), then the filters.
	type part struct {
		cond string
		args []any
	}
	var parts []part
	filters := strings.Join(where, " AND ")
	mk := func(tcond string, targs ...any) part {
		c := tcond
		if filters != "" {
			if c != "" {
				c += " AND "
			}
			c += filters
		}
		if c != "" {
			c = " WHERE " + c
		}
		return part{c, append(targs, args...)}
	}
	switch {
	case tenants != nil:
		for _, t := range tenants {
			parts = append(parts, mk("tenant = ?", t))
		}
	case prefix != "":
		parts = append(parts, mk("tenant >= ? AND tenant < ?", prefix, prefix+":"))
	default:
		parts = append(parts, mk(""))
	}
	var page casework.Page
	for _, p := range parts {
		var n int
		if err := r.QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM (SELECT 1 FROM casework_cases`+p.cond+` LIMIT ?) c`), append(p.args, maxCount+1)...).Scan(&n); err != nil {
			return page, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot count cases")
		}
		page.Total += n
		if page.Total > maxCount {
			page.Total, page.More = maxCount, true
			break
		}
	}
	col := map[string]string{casework.SortCreated: "created_at", casework.SortDue: "due_at", casework.SortUpdated: "updated_at", casework.SortReference: "reference"}[f.Sort]
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	order := ` ORDER BY ` + col + dir + `, id` + dir
	offset := (f.Page - 1) * f.PageSize
	var q string
	var qargs []any
	if len(parts) == 1 {
		q = `SELECT ` + caseCols + ` FROM casework_cases` + parts[0].cond + order + ` LIMIT ? OFFSET ?`
		qargs = append(parts[0].args, f.PageSize, offset)
	} else {
		var subs []string
		for _, p := range parts {
			subs = append(subs, `SELECT * FROM (SELECT `+caseCols+` FROM casework_cases`+p.cond+order+` LIMIT ?) t`)
			qargs = append(append(qargs, p.args...), offset+f.PageSize)
		}
		q = `SELECT ` + caseCols + ` FROM (` + strings.Join(subs, " UNION ALL ") + `) u` + order + ` LIMIT ? OFFSET ?`
		qargs = append(qargs, f.PageSize, offset)
	}
	rows, err := r.QueryContext(ctx, s.db.Rebind(q), qargs...)
	if err != nil {
		return page, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read inbox")
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return page, err
		}
		page.Cases = append(page.Cases, *c)
	}
	return page, rows.Err()
}

// Append implements casework.Store.
func (s *CaseStore) Append(ctx context.Context, es ...casework.Entry) error {
	if len(es) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, e := range es {
			if e.Tenant == "" || e.CaseID == "" || e.Kind == "" {
				return rathaus.Errorf(rathaus.EINVALID, "history entry needs tenant, case and kind")
			}
			if e.Key != "" {
				var n int
				var row *sql.Row
				if st := s.txStmt(ctx, tx, historyKeySQL); st != nil {
					row = st.QueryRowContext(ctx, e.Tenant, e.CaseID, e.Key)
				} else {
					row = tx.QueryRowContext(ctx, s.db.Rebind(historyKeySQL), e.Tenant, e.CaseID, e.Key)
				}
				if err := row.Scan(&n); err != nil {
					return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read history")
				}
				if n > 0 {
					continue
				}
			}
			if e.At.IsZero() {
				e.At = time.Now().UTC()
			}
			if s.db.dialect == Postgres {
				if _, err := s.exec(ctx, tx, historyLockSQL, "case/"+e.Tenant+"/"+e.CaseID); err != nil {
					return err
				}
			}
			if _, err := s.exec(ctx, tx, historyInsertSQL,
				e.Tenant, e.CaseID, e.Tenant, e.CaseID, micros(e.At), e.Actor, e.Kind, e.Text, e.Key); err != nil {
				return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot append history")
			}
		}
		return nil
	})
}

// History implements casework.Store.
func (s *CaseStore) History(ctx context.Context, tenant, id string) ([]casework.Entry, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT seq, at, actor, kind, text, key FROM casework_history WHERE tenant = ? AND case_id = ? ORDER BY seq`), tenant, id)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read history")
	}
	defer rows.Close()
	var out []casework.Entry
	for rows.Next() {
		e := casework.Entry{Tenant: tenant, CaseID: id}
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Kind, &e.Text, &e.Key); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Document is a stored file of a case (a generated notice); Content is as
// stored (sealed by the caller).
type Document struct {
	Tenant, CaseID, ID  string
	Filename, MediaType string
	Content             []byte
	CreatedAt           time.Time
}

// PutDocument stores a document; storing the same id again changes nothing.
func (s *CaseStore) PutDocument(ctx context.Context, d Document) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO casework_documents (tenant, case_id, id, filename, media_type, content, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), d.Tenant, d.CaseID, d.ID, d.Filename, d.MediaType, d.Content, micros(d.CreatedAt))
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot store document %s", d.ID)
		}
		return nil
	})
}

// Document returns a document of a case; ENOTFOUND if unknown.
func (s *CaseStore) Document(ctx context.Context, tenant, caseID, id string) (*Document, error) {
	d := Document{Tenant: tenant, CaseID: caseID, ID: id}
	var at int64
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT filename, media_type, content, created_at FROM casework_documents WHERE tenant = ? AND case_id = ? AND id = ?`),
		tenant, caseID, id).Scan(&d.Filename, &d.MediaType, &d.Content, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Dokument nicht gefunden / document not found")
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read document %s", id)
	}
	d.CreatedAt = fromMicros(at)
	return &d, nil
}

// Documents lists the documents of a case (without content), oldest first.
func (s *CaseStore) Documents(ctx context.Context, tenant, caseID string) ([]Document, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT id, filename, media_type, created_at FROM casework_documents WHERE tenant = ? AND case_id = ? ORDER BY created_at, id`), tenant, caseID)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read documents")
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d := Document{Tenant: tenant, CaseID: caseID}
		var at int64
		if err := rows.Scan(&d.ID, &d.Filename, &d.MediaType, &at); err != nil {
			return nil, err
		}
		d.CreatedAt = fromMicros(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ApplicationRef names an application.
type ApplicationRef struct{ Tenant, ID string }

// ApplicationsWithoutCase returns up to limit submitted applications that
// have no case yet (their process.start job was lost or has not run),
// oldest first, submitted at or before until.
func (s *CaseStore) ApplicationsWithoutCase(ctx context.Context, until time.Time, limit int) ([]ApplicationRef, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT a.tenant, a.id FROM applications a
		LEFT JOIN casework_cases c ON c.tenant = a.tenant AND c.id = a.id
		WHERE c.id IS NULL AND a.submitted_at <= ? ORDER BY a.submitted_at LIMIT ?`), micros(until), limit)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read applications without case")
	}
	defer rows.Close()
	var out []ApplicationRef
	for rows.Next() {
		var r ApplicationRef
		if err := rows.Scan(&r.Tenant, &r.ID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutRules stores the automated rules of a service for a tenant (and its
// subtree); an empty list removes them.
func (s *CaseStore) PutRules(ctx context.Context, tenantARS, serviceKey string, rules []casework.Rule) error {
	data, err := json.Marshal(rules)
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "rules are not JSON")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if len(rules) == 0 {
			_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM casework_rules WHERE tenant = ? AND service_key = ?`), tenantARS, serviceKey)
			return err
		}
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO casework_rules (tenant, service_key, rules, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant, service_key) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at`),
			tenantARS, serviceKey, string(data), micros(time.Now().UTC()))
		return err
	})
}

// RulesFor returns the rules of a service for a tenant: those of the
// nearest tenant in its lineage that has some (nil if none).
func (s *CaseStore) RulesFor(ctx context.Context, tenantARS, serviceKey string) ([]casework.Rule, error) {
	lineage := tenant.Lineage(tenantARS)
	if len(lineage) == 0 {
		lineage = []string{tenantARS}
	}
	for _, a := range lineage {
		var data string
		err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT rules FROM casework_rules WHERE tenant = ? AND service_key = ?`), a, serviceKey).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read rules")
		}
		var rules []casework.Rule
		if err := json.Unmarshal([]byte(data), &rules); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "rules of %s/%s unreadable", a, serviceKey)
		}
		return rules, nil
	}
	return nil, nil
}

// LockCase locks a case row until the transaction joined by ctx (DB.Atomic)
// ends, so that two caseworkers' actions on one case serialise (claiming
// twice gives a conflict, not two winners). On SQLite the writer lock
// serialises transactions already; there it only checks the case exists.
func (s *CaseStore) LockCase(ctx context.Context, tenantARS, id string) error {
	tx := txFrom(ctx)
	if tx == nil {
		return rathaus.Errorf(rathaus.EINTERNAL, "LockCase needs a transaction (DB.Atomic)")
	}
	q := `SELECT status FROM casework_cases WHERE tenant = ? AND id = ?`
	if s.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var st string
	err := tx.QueryRowContext(ctx, s.db.Rebind(q), tenantARS, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Vorgang nicht gefunden / case not found")
	}
	return err
}
