// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing/fstest"

	"rathaus"
	"rathaus/submission"
)

// The outbox of the intake: jobs of committed applications waiting to be
// moved into the job queue. A few columns and one multi-row INSERT per
// group commit, instead of the job queue's own (much costlier) insert on the
// intake's hot path.
func init() {
	RegisterMigrations(Migrations{
		Name: "submission_outbox",
		SQLite: fstest.MapFS{"0001_outbox.sql": {Data: []byte(`-- SPDX-License-Identifier: EUPL-1.2
CREATE TABLE submission_outbox (
	seq  INTEGER PRIMARY KEY,  -- rowid, insertion order
	kind TEXT NOT NULL,
	args TEXT NOT NULL         -- job arguments, JSON
);
`)}},
		Postgres: fstest.MapFS{"0001_outbox.sql": {Data: []byte(`-- SPDX-License-Identifier: EUPL-1.2
CREATE TABLE submission_outbox (
	seq  BIGSERIAL PRIMARY KEY,
	kind TEXT NOT NULL,
	args TEXT NOT NULL
);
`)}},
	})
}

var _ submission.OutboxPump = (*SubmissionStore)(nil)

// UseOutbox makes CreateApplications write the jobs of each intake into the
// table submission_outbox (in the intake's transaction) instead of calling
// the EnqueueFunc; PumpOutbox later moves them into the job queue with the
// EnqueueFunc. A submission.Service over such a store runs the pump itself.
// It returns s.
func (s *SubmissionStore) UseOutbox() *SubmissionStore {
	s.outbox = true
	return s
}

// UsesOutbox implements submission.OutboxPump.
func (s *SubmissionStore) UsesOutbox() bool { return s.outbox && s.enqueue != nil }

// PumpOutbox implements submission.OutboxPump: in one transaction it takes
// up to max (default 1,000) of the oldest outbox rows, enqueues them with
// the EnqueueFunc and deletes them, so every job reaches the queue exactly
// once (on PostgreSQL concurrent pumps skip each other's rows). It returns
// how many jobs it moved.
func (s *SubmissionStore) PumpOutbox(ctx context.Context, max int) (int, error) {
	if s.enqueue == nil {
		return 0, rathaus.Errorf(rathaus.EINTERNAL, "submission store: outbox pump without a job enqueuer")
	}
	if max <= 0 {
		max = 1000
	}
	moved := 0
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT seq, kind, args FROM submission_outbox ORDER BY seq LIMIT ?`
		if s.db.dialect == Postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, s.db.Rebind(q), max)
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "outbox unreadable")
		}
		var seqs []any
		var jobs []submission.Job
		for rows.Next() {
			var seq int64
			var kind, args string
			if err := rows.Scan(&seq, &kind, &args); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
			jobs = append(jobs, submission.Job{Kind: kind, Args: json.RawMessage(args)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(jobs) == 0 {
			return nil
		}
		if err := s.enqueue(ctx, tx, jobs); err != nil {
			return err
		}
		for lo := 0; lo < len(seqs); lo += maxRowsPerInsert {
			hi := min(lo+maxRowsPerInsert, len(seqs))
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM submission_outbox WHERE seq IN (`+strings.Repeat("?, ", hi-lo-1)+`?)`), seqs[lo:hi]...); err != nil {
				return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "outbox rows not deleted")
			}
		}
		moved = len(jobs)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return moved, nil
}

// OutboxLen returns how many jobs wait in the outbox.
func (s *SubmissionStore) OutboxLen(ctx context.Context) (int, error) {
	var n int
	err := s.db.rd(ctx).QueryRowContext(ctx, `SELECT count(*) FROM submission_outbox`).Scan(&n)
	return n, err
}

// jobJSON returns the JSON of a job's arguments (json.RawMessage as is).
func jobJSON(j submission.Job) (string, error) {
	switch a := j.Args.(type) {
	case json.RawMessage:
		if !json.Valid(a) {
			return "", rathaus.Errorf(rathaus.EINVALID, "job %q: args are not valid JSON", j.Kind)
		}
		return string(a), nil
	case nil:
		return "{}", nil
	}
	b, err := json.Marshal(j.Args)
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINVALID, err, "job %q: args are not JSON", j.Kind)
	}
	return string(b), nil
}
