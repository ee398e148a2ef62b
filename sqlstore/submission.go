// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/identity"
	"rathaus/internal/jsonw"
	"rathaus/submission"
)

// EnqueueFunc enqueues jobs inside the caller's transaction; wire it to
// jobs.Queue.EnqueueMany (one statement for all jobs of a group commit):
//
//	func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
//		jj := make([]jobs.Job, len(js))
//		for i, j := range js {
//			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
//		}
//		return q.EnqueueMany(ctx, tx, jj)
//	}
type EnqueueFunc func(ctx context.Context, tx *sql.Tx, jobs []submission.Job) error

// SubmissionStore implements submission.Store on db. Attachment contents
// live (sealed) in the table application_blobs, inside the database, so an
// application and its files commit in the same transaction and a backup of
// the database is complete. Every intake's jobs go through enqueue in the
// batch's transaction; nil enqueue refuses intakes that carry jobs.
func (db *DB) SubmissionStore(enqueue EnqueueFunc) *SubmissionStore {
	return &SubmissionStore{db: db, enqueue: enqueue, stmts: &stmtCache{m: map[string]*sql.Stmt{}}}
}

// SubmissionStore is the SQL submission.Store (see DB.SubmissionStore).
type SubmissionStore struct {
	db      *DB
	enqueue EnqueueFunc
	outbox  bool // jobs go to submission_outbox (UseOutbox)
	stmts   *stmtCache
}

// stmtCache holds the intake's statements prepared on the writer pool
// (SQLite only: pgx caches prepared statements by itself). A statement is
// prepared after the transaction that first wanted it, never inside one:
// on SQLite that would wait for the one writer connection the transaction
// holds.
type stmtCache struct {
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	want []string // queries run unprepared, to prepare after the transaction
}

// txStmt returns q (rebound) prepared and bound to tx, or nil: then the
// caller runs q unprepared and prepareWanted prepares it for next time.
func (s *SubmissionStore) txStmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	if s.db.dialect != SQLite || s.stmts == nil {
		return nil
	}
	c := s.stmts
	c.mu.Lock()
	st, ok := c.m[q]
	if !ok {
		c.m[q] = nil // wanted once is enough
		c.want = append(c.want, q)
	}
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// prepareWanted prepares the statements txStmt missed. Call it outside
// any transaction. A failure only leaves them unprepared.
func (s *SubmissionStore) prepareWanted(ctx context.Context) {
	if s.stmts == nil {
		return
	}
	c := s.stmts
	c.mu.Lock()
	want := c.want
	c.want = nil
	c.mu.Unlock()
	for _, q := range want {
		st, err := s.db.w.PrepareContext(ctx, q)
		if err != nil {
			c.mu.Lock()
			delete(c.m, q) // try again another time
			c.mu.Unlock()
			continue
		}
		c.mu.Lock()
		c.m[q] = st
		c.mu.Unlock()
	}
}

// exec runs q (rebound) in tx, prepared when cached.
func (s *SubmissionStore) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	_, err := s.execResult(ctx, tx, q, args...)
	return err
}

// execResult is exec with the result.
func (s *SubmissionStore) execResult(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.txStmt(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// queryRow runs q (rebound) in tx, prepared when cached.
func (s *SubmissionStore) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.txStmt(ctx, tx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// chunk returns how many of n remaining rows the next multi-row INSERT
// takes: on SQLite the largest power of two ≤ min(n, 256), so that at most
// nine statement shapes per table exist and each is prepared once; on
// PostgreSQL up to maxRowsPerInsert.
func (s *SubmissionStore) chunk(n int) int {
	if s.db.dialect != SQLite {
		return min(n, maxRowsPerInsert)
	}
	k := 256
	for k > n {
		k >>= 1
	}
	return k
}

var (
	_ submission.Store          = (*SubmissionStore)(nil)
	_ submission.GroupCommitter = (*SubmissionStore)(nil)
)

// PreferGroupCommit reports true: the intake service batches concurrent
// submissions into one transaction (SQLite has one writer connection anyway;
// on PostgreSQL fewer commits measured 2× faster).
func (s *SubmissionStore) PreferGroupCommit() bool { return true }

const appCols = `tenant, id, reference, service_key, form_id, form_version, applicant_user_id, loa, idp, answers, attachments, status, submitted_at, idempotency_key`

func scanApp(sc interface{ Scan(...any) error }) (*submission.Application, error) {
	var a submission.Application
	var loa int
	var atts string
	var at int64
	if err := sc.Scan(&a.Tenant, &a.ID, &a.Reference, &a.ServiceKey, &a.FormID, &a.FormVersion, &a.ApplicantUserID, &loa, &a.IdP,
		&a.SealedAnswers, &atts, &a.Status, &at, &a.IdempotencyKey); err != nil {
		return nil, err
	}
	a.LoA, a.SubmittedAt = identity.LoA(loa), fromMicros(at)
	if err := json.Unmarshal([]byte(atts), &a.Attachments); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "application %s: attachment list unreadable", a.ID)
	}
	return &a, nil
}

// CreateApplications implements submission.Store: one transaction for the
// whole batch. Duplicates of (tenant, idempotency key) are detected by the
// unique index (INSERT … ON CONFLICT DO NOTHING RETURNING id, race-safe on
// both dialects) and answered with the stored application.
//
// The batch is written with multi-row INSERTs (applications, blobs, audit
// entries, outbox rows: one statement per table and chunk). Every
// application keeps its own audit entry; the hash chain of the batch is
// computed in memory and the chain head read and updated once. The jobs go
// through the EnqueueFunc in the same transaction, or — with UseOutbox —
// into the slim table submission_outbox, which PumpOutbox moves into the
// job queue in the background (exactly once).
func (s *SubmissionStore) CreateApplications(ctx context.Context, batch []*submission.Intake) error {
	if len(batch) == 0 {
		return nil
	}
	for _, in := range batch {
		in.Existing = nil
		if len(in.Blobs) != len(in.App.Attachments) {
			return rathaus.Errorf(rathaus.EINTERNAL, "intake %s: %d blobs for %d attachments", in.App.ID, len(in.Blobs), len(in.App.Attachments))
		}
		if in.App.SealedAnswers == nil {
			return rathaus.Errorf(rathaus.EINTERNAL, "intake %s: no sealed answers", in.App.ID)
		}
	}
	// Everything that needs no database is prepared before the writer is taken.
	appArgs := make([]any, 0, len(batch)*appNCols)
	details := make([]string, len(batch)) // JSON of each audit entry's details
	var jobsJSON [][]string               // with the outbox: JSON of each intake's job arguments
	if s.outbox {
		jobsJSON = make([][]string, len(batch))
	}
	for i, in := range batch {
		a := in.App
		atts := "[]"
		if len(a.Attachments) > 0 {
			b, err := json.Marshal(a.Attachments)
			if err != nil {
				return err
			}
			atts = string(b)
		}
		appArgs = append(appArgs, a.Tenant, a.ID, a.Reference, a.ServiceKey, a.FormID, a.FormVersion, a.ApplicantUserID,
			int(a.LoA), a.IdP, a.SealedAnswers, atts, a.Status, micros(a.SubmittedAt), a.IdempotencyKey)
		if in.Audit.Action != "" {
			details[i] = detailsJSON(in.Audit.Details)
		}
		if s.outbox && len(in.Jobs) > 0 {
			raws := make([]string, len(in.Jobs))
			for k, j := range in.Jobs {
				var err error
				if raws[k], err = jobArgsJSON(j); err != nil {
					return err
				}
			}
			jobsJSON[i] = raws
		}
	}
	var outboxArgs []any
	defer s.prepareWanted(ctx)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		inserted, err := s.insertApplications(ctx, tx, batch, appArgs)
		if err != nil {
			return err
		}
		var blobArgs []any
		var jobs []submission.Job
		var entries []audit.Entry
		var entryDetails []string
		outboxArgs = outboxArgs[:0]
		byKey := s.db.Rebind(`SELECT ` + appCols + ` FROM applications WHERE tenant = ? AND idempotency_key = ?`)
		for i, in := range batch {
			a := in.App
			if !inserted[i] {
				ex, err := scanApp(s.queryRow(ctx, tx, byKey, a.Tenant, a.IdempotencyKey))
				switch {
				case errors.Is(err, sql.ErrNoRows):
					// Not a replay: its reference (or, in theory, its id)
					// is taken by another application. Draw a new
					// reference and insert it alone, here, instead of
					// failing the whole batch (the caller would then
					// commit each of its intakes on its own).
					if err := s.redrawReference(ctx, tx, in, appArgs[i*appNCols:(i+1)*appNCols], &details[i]); err != nil {
						return err
					}
				case err != nil:
					return err
				case ex.ID != a.ID:
					in.Existing = ex
					continue
				}
				// Else inserted by this transaction, in a chunk that had
				// conflicts.
			}
			for j, att := range a.Attachments {
				blobArgs = append(blobArgs, a.Tenant, a.ID, att.ID, in.Blobs[j])
			}
			if in.Audit.Action != "" {
				entries = append(entries, in.Audit)
				entryDetails = append(entryDetails, details[i])
			}
			if s.outbox {
				for k, j := range in.Jobs {
					outboxArgs = append(outboxArgs, j.Kind, jobsJSON[i][k])
				}
			} else {
				jobs = append(jobs, in.Jobs...)
			}
		}
		if err := s.insertRows(ctx, tx, `INSERT INTO application_blobs (tenant, application_id, attachment_id, content) VALUES `, 4, blobArgs, ""); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Anhang konnte nicht gespeichert werden / attachment could not be stored")
		}
		if err := s.appendAudits(ctx, tx, entries, entryDetails); err != nil {
			return err
		}
		if s.outbox {
			if err := s.insertRows(ctx, tx, `INSERT INTO submission_outbox (kind, args) VALUES `, 2, outboxArgs, ""); err != nil {
				return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Folgeaufträge konnten nicht gespeichert werden / jobs could not be stored")
			}
			return nil
		}
		if len(jobs) == 0 {
			return nil
		}
		if s.enqueue == nil {
			return rathaus.Errorf(rathaus.EINTERNAL, "submission store: no job enqueuer configured for %q", jobs[0].Kind)
		}
		return s.enqueue(ctx, tx, jobs)
	})
}

// redrawReference inserts the application of in, whose reference was
// taken, with freshly drawn references (up to three tries), updating its
// INSERT arguments args and the JSON of its audit details. ECONFLICT when
// every try is taken too.
func (s *SubmissionStore) redrawReference(ctx context.Context, tx *sql.Tx, in *submission.Intake, args []any, details *string) error {
	a := in.App
	for range 3 {
		a.Reference = submission.RedrawReference(a.Reference)
		args[2] = a.Reference // appCols: tenant, id, reference, …
		if in.Audit.Action != "" && in.Audit.Details != nil {
			in.Audit.Details["reference"] = a.Reference
			*details = detailsJSON(in.Audit.Details)
		}
		ok, err := s.insertApplications(ctx, tx, []*submission.Intake{in}, args)
		if err != nil {
			return err
		}
		if ok[0] {
			return nil
		}
	}
	return rathaus.Errorf(rathaus.ECONFLICT, "application id or reference already taken")
}

// appNCols is the number of columns in appCols.
const appNCols = 14

// maxRowsPerInsert bounds the rows of one multi-row INSERT (SQLite allows
// 32,766 parameters, PostgreSQL 65,535).
const maxRowsPerInsert = 500

// insertApplications inserts the applications of batch (args: appNCols per
// intake) with ON CONFLICT DO NOTHING and reports which were surely
// inserted: every row of a chunk whose row count says all went in. The rows
// of a chunk with conflicts come back false; the caller looks each up by its
// idempotency key (an application found with the intake's own id is the one
// just inserted: ids are fresh per Submit, and a batch is only committed
// again after a rollback). No RETURNING: SQLite materialises the returned
// rows, and scanning them cost more than the rare lookup.
//
// On SQLite the statement is INSERT OR IGNORE rather than ON CONFLICT DO
// NOTHING: the same for the unique keys, but a statement that cannot abort
// needs no statement journal, which SQLite otherwise keeps for every
// multi-row INSERT inside a transaction (the pages of the indexes the rows
// touch, spilled to a temporary file beyond 64 KiB: 9 % of the intake's CPU
// in profiles). OR IGNORE would also skip a NULL in a NOT NULL column;
// CreateApplications refuses intakes without sealed answers, the only
// value that could be NULL.
func (s *SubmissionStore) insertApplications(ctx context.Context, tx *sql.Tx, batch []*submission.Intake, args []any) ([]bool, error) {
	inserted := make([]bool, len(batch))
	prefix, suffix := `INSERT OR IGNORE INTO applications (`+appCols+`) VALUES `, ""
	if s.db.dialect != SQLite {
		prefix, suffix = `INSERT INTO applications (`+appCols+`) VALUES `, ` ON CONFLICT DO NOTHING`
	}
	for lo, hi := 0, 0; lo < len(batch); lo = hi {
		hi = lo + s.chunk(len(batch)-lo)
		q := s.db.Rebind(valuesSQL(prefix, appNCols, hi-lo) + suffix)
		res, err := s.execResult(ctx, tx, q, args[lo*appNCols:hi*appNCols]...)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Antrag konnte nicht gespeichert werden / application could not be stored")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Antrag konnte nicht gespeichert werden / application could not be stored")
		}
		if n == int64(hi-lo) {
			for i := lo; i < hi; i++ {
				inserted[i] = true
			}
		}
	}
	return inserted, nil
}

// insertRows runs prefix with one "(?, …)" group of ncols per row of args
// (len(args) a multiple of ncols), in chunks (see chunk).
func (s *SubmissionStore) insertRows(ctx context.Context, tx *sql.Tx, prefix string, ncols int, args []any, suffix string) error {
	n := len(args) / ncols
	for lo, hi := 0, 0; lo < n; lo = hi {
		hi = lo + s.chunk(n-lo)
		if err := s.exec(ctx, tx, s.db.Rebind(valuesSQL(prefix, ncols, hi-lo)+suffix), args[lo*ncols:hi*ncols]...); err != nil {
			return err
		}
	}
	return nil
}

// valuesSQL returns prefix followed by n groups of ncols placeholders.
func valuesSQL(prefix string, ncols, n int) string {
	var b strings.Builder
	b.Grow(len(prefix) + n*(ncols*3+3))
	b.WriteString(prefix)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range ncols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String()
}

// appendAudits appends entries to the audit chain in tx like DB.AppendAudit
// does one by one (same columns, same hash: one entry per application), but
// reads and updates the head record once for the whole batch, chains the
// hashes in memory and inserts the entries with multi-row INSERTs.
// details[i] is the JSON of entries[i].Details (detailsJSON).
func (s *SubmissionStore) appendAudits(ctx context.Context, tx *sql.Tx, entries []audit.Entry, details []string) error {
	if len(entries) == 0 {
		return nil
	}
	q := auditHeadSQL
	if s.db.dialect == Postgres {
		q = auditHeadLockSQL
	}
	var seq int64
	var prev string
	if err := s.queryRow(ctx, tx, q).Scan(&seq, &prev); err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot read audit head")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	args := make([]any, 0, 9*len(entries))
	for i, e := range entries {
		e.Seq, e.Time, e.Prev = seq+1, now, prev
		e.Hash = audit.ComputeHash(e)
		args = append(args, e.Seq, micros(e.Time), e.Tenant, e.Actor, e.Action, e.Object, details[i], e.Prev, e.Hash)
		seq, prev = e.Seq, e.Hash
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO audit_log (seq, time, tenant, actor, action, object, details, prev, hash) VALUES `, 9, args, ""); err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot append audit entry")
	}
	if err := s.exec(ctx, tx, s.db.Rebind(auditHeadUpdateSQL), seq, prev); err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot update audit head")
	}
	return nil
}

// Application implements submission.Store.
func (s *SubmissionStore) Application(ctx context.Context, tenant, id string) (*submission.Application, error) {
	a, err := scanApp(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+appCols+` FROM applications WHERE tenant = ? AND id = ?`), tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	return a, err
}

// ApplicationByReference implements submission.Store.
func (s *SubmissionStore) ApplicationByReference(ctx context.Context, tenant, reference string) (*submission.Application, error) {
	ref, err := submission.NormalizeReference(reference)
	if err != nil {
		return nil, err
	}
	a, err := scanApp(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+appCols+` FROM applications WHERE tenant = ? AND reference = ?`), tenant, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	return a, err
}

// ApplicationsOf implements submission.Store.
func (s *SubmissionStore) ApplicationsOf(ctx context.Context, tenant, userID string, limit int) ([]submission.Application, error) {
	if userID == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT `+appCols+` FROM applications
		WHERE tenant = ? AND applicant_user_id = ? ORDER BY submitted_at DESC, id DESC LIMIT ?`), tenant, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []submission.Application
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// PurgeExpiredDrafts deletes the drafts that expired before now (for a
// periodic job) and returns how many.
func (s *SubmissionStore) PurgeExpiredDrafts(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM drafts WHERE expires_at <= ?`), micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// AttachmentContent implements submission.Store.
func (s *SubmissionStore) AttachmentContent(ctx context.Context, tenant, applicationID, attachmentID string) ([]byte, error) {
	var b []byte
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT content FROM application_blobs WHERE tenant = ? AND application_id = ? AND attachment_id = ?`),
		tenant, applicationID, attachmentID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Anhang nicht gefunden / attachment not found")
	}
	return b, err
}

const draftCols = `tenant, id, service_key, form_id, form_version, owner_user_id, resume_token_hash, answers, step, updated_at, expires_at`

func scanDraft(sc interface{ Scan(...any) error }) (*submission.Draft, error) {
	var d submission.Draft
	var up, exp int64
	if err := sc.Scan(&d.Tenant, &d.ID, &d.ServiceKey, &d.FormID, &d.FormVersion, &d.OwnerUserID, &d.ResumeTokenHash, &d.SealedAnswers, &d.Step, &up, &exp); err != nil {
		return nil, err
	}
	d.UpdatedAt, d.ExpiresAt = fromMicros(up), fromMicros(exp)
	return &d, nil
}

// PutDraft implements submission.Store.
func (s *SubmissionStore) PutDraft(ctx context.Context, d *submission.Draft) error {
	if d.Tenant == "" || d.ID == "" {
		return rathaus.Errorf(rathaus.EINVALID, "draft: tenant and id are required")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO drafts (`+draftCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, id) DO UPDATE SET service_key = excluded.service_key, form_id = excluded.form_id,
			form_version = excluded.form_version, owner_user_id = excluded.owner_user_id, resume_token_hash = excluded.resume_token_hash,
			answers = excluded.answers, step = excluded.step, updated_at = excluded.updated_at, expires_at = excluded.expires_at`),
			d.Tenant, d.ID, d.ServiceKey, d.FormID, d.FormVersion, d.OwnerUserID, d.ResumeTokenHash, d.SealedAnswers, d.Step, micros(d.UpdatedAt), micros(d.ExpiresAt))
		return err
	})
}

func (s *SubmissionStore) draftWhere(ctx context.Context, where string, args ...any) (*submission.Draft, error) {
	args = append(args, micros(time.Now()))
	d, err := scanDraft(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+draftCols+` FROM drafts WHERE `+where+` AND expires_at > ?`), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Entwurf nicht gefunden oder Link schon benutzt / draft not found or link already used")
	}
	return d, err
}

// Draft implements submission.Store.
func (s *SubmissionStore) Draft(ctx context.Context, tenant, id string) (*submission.Draft, error) {
	return s.draftWhere(ctx, `tenant = ? AND id = ?`, tenant, id)
}

// DraftByResumeHash implements submission.Store.
func (s *SubmissionStore) DraftByResumeHash(ctx context.Context, tenant, hash string) (*submission.Draft, error) {
	if hash == "" {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Entwurf nicht gefunden / draft not found")
	}
	return s.draftWhere(ctx, `tenant = ? AND resume_token_hash = ?`, tenant, hash)
}

// SwapResumeHash implements submission.Store (compare and swap).
func (s *SubmissionStore) SwapResumeHash(ctx context.Context, tenant, id, oldHash, newHash string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE drafts SET resume_token_hash = ? WHERE tenant = ? AND id = ? AND resume_token_hash = ? AND resume_token_hash <> ''`),
			newHash, tenant, id, oldHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rathaus.Errorf(rathaus.ENOTFOUND, "Entwurf nicht gefunden oder Link schon benutzt / draft not found or link already used")
		}
		return nil
	})
}

// DeleteDraft implements submission.Store.
func (s *SubmissionStore) DeleteDraft(ctx context.Context, tenant, id string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM drafts WHERE tenant = ? AND id = ?`), tenant, id)
		return err
	})
}

// detailsJSON returns what json.Marshal makes of an audit entry's details
// (keys sorted, "null" for nil) without reflection.
func detailsJSON(d map[string]string) string {
	return string(jsonw.AppendStringMap(make([]byte, 0, 128), d))
}

// jobArgsJSON is jobJSON, without reflection for submission.JobArgs.
func jobArgsJSON(j submission.Job) (string, error) {
	a, ok := j.Args.(submission.JobArgs)
	if !ok {
		return jobJSON(j)
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"tenant":`...)
	b = jsonw.AppendString(b, a.Tenant)
	b = append(b, `,"application_id":`...)
	b = jsonw.AppendString(b, a.ApplicationID)
	b = append(b, `,"service_key":`...)
	b = jsonw.AppendString(b, a.ServiceKey)
	return string(append(b, '}')), nil
}
