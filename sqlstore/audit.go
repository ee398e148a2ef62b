// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"rathaus"
	"rathaus/audit"
)

// Audit returns the audit.Log of db. It also implements audit.Header, so
// audit.Verify detects deleted last entries.
func (db *DB) Audit() audit.Log { return auditLog{db} }

type auditLog struct{ db *DB }

var (
	_ audit.Log    = auditLog{}
	_ audit.Header = auditLog{}
)

// Append adds e at the end of the chain in its own transaction.
func (l auditLog) Append(ctx context.Context, e audit.Entry) (*audit.Entry, error) {
	var out *audit.Entry
	err := l.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = l.db.AppendAudit(ctx, tx, e)
		return err
	})
	return out, err
}

// AppendAudit appends e to the audit chain inside the caller's transaction,
// so that a business step and its audit entry commit together. It fills Seq,
// Time (now, UTC, microseconds), Prev and Hash. Appends are serialised: on
// SQLite by the single writer connection, on PostgreSQL by a row lock on the
// head record that is held until tx ends.
func (db *DB) AppendAudit(ctx context.Context, tx *sql.Tx, e audit.Entry) (*audit.Entry, error) {
	return db.appendAudit(ctx, tx, e, nil)
}

// The statements of AppendAudit, written with "?" (ProcessStore.Prepare
// prepares them).
const (
	auditHeadSQL       = `SELECT seq, hash FROM audit_head WHERE id = 1`
	auditHeadLockSQL   = `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`
	auditInsertSQL     = `INSERT INTO audit_log (seq, time, tenant, actor, action, object, details, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	auditHeadUpdateSQL = `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`
)

// appendAudit is AppendAudit; prepared, if not nil, returns the statement
// for a query (one of the audit*SQL constants) bound to tx, or nil to run it
// unprepared.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e audit.Entry, prepared func(q string) *sql.Stmt) (*audit.Entry, error) {
	if e.Action == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "audit entry: field Action: empty")
	}
	exec := func(q string, args ...any) error {
		if prepared != nil {
			if st := prepared(q); st != nil {
				_, err := st.ExecContext(ctx, args...)
				return err
			}
		}
		_, err := tx.ExecContext(ctx, db.Rebind(q), args...)
		return err
	}
	q := auditHeadSQL
	if db.dialect == Postgres {
		q = auditHeadLockSQL
	}
	var head *sql.Row
	if prepared != nil {
		if st := prepared(q); st != nil {
			head = st.QueryRowContext(ctx)
		}
	}
	if head == nil {
		head = tx.QueryRowContext(ctx, q)
	}
	var seq int64
	var prev string
	if err := head.Scan(&seq, &prev); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "cannot read audit head")
	}
	e.Seq = seq + 1
	e.Time = time.Now().UTC().Truncate(time.Microsecond)
	e.Prev = prev
	e.Hash = audit.ComputeHash(e)
	details, err := json.Marshal(e.Details)
	if err != nil {
		return nil, err
	}
	if err := exec(auditInsertSQL, e.Seq, micros(e.Time), e.Tenant, e.Actor, e.Action, e.Object, string(details), e.Prev, e.Hash); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "cannot append audit entry")
	}
	if err := exec(auditHeadUpdateSQL, e.Seq, e.Hash); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "cannot update audit head")
	}
	return &e, nil
}

// Walk calls fn for every entry in sequence order.
func (l auditLog) Walk(ctx context.Context, fn func(audit.Entry) error) error {
	rows, err := l.db.rd(ctx).QueryContext(ctx, `SELECT seq, time, tenant, actor, action, object, details, prev, hash
		FROM audit_log ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e audit.Entry
		var t int64
		var details string
		if err := rows.Scan(&e.Seq, &t, &e.Tenant, &e.Actor, &e.Action, &e.Object, &details, &e.Prev, &e.Hash); err != nil {
			return err
		}
		e.Time = time.UnixMicro(t).UTC()
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			// A broken details column is tampering; keep the raw text so the hash check fails.
			e.Details = map[string]string{"_raw": details}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Head returns the sequence number and hash of the last appended entry as
// recorded in the head record (0, "" for an empty log).
func (l auditLog) Head(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	err := l.db.rd(ctx).QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	return seq, hash, err
}
