// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"strings"
)

// batchRows is how many rows one multi-row INSERT carries. 100 rows of up to
// 26 columns stay far below the parameter limits of SQLite (32766) and
// PostgreSQL (65535).
const batchRows = 100

// upsertBatch inserts rows (each with the same number of values) with
// multi-row "INSERT … VALUES (…), (…) <conflict>" statements inside tx,
// prepared once per batch size. key returns the conflict key of a row:
// rows with the same key are reduced to the last one, because PostgreSQL
// refuses to update one row twice in one statement.
func (db *DB) upsertBatch(ctx context.Context, tx *sql.Tx, insert, conflict string, rows [][]any, key func([]any) string) error {
	if len(rows) == 0 {
		return nil
	}
	// Last one wins, order otherwise kept.
	last := make(map[string]int, len(rows))
	for i, r := range rows {
		last[key(r)] = i
	}
	if len(last) != len(rows) {
		dedup := rows[:0:0]
		for i, r := range rows {
			if last[key(r)] == i {
				dedup = append(dedup, r)
			}
		}
		rows = dedup
	}
	ncol := len(rows[0])
	one := "(" + placeholders(ncol) + ")"
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, batchRows*ncol)
	for start := 0; start < len(rows); start += batchRows {
		end := min(start+batchRows, len(rows))
		n := end - start
		st, ok := stmts[n]
		if !ok {
			q := insert + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ") + " " + conflict
			var err error
			if st, err = tx.PrepareContext(ctx, db.Rebind(q)); err != nil {
				return err
			}
			stmts[n] = st
		}
		args = args[:0]
		for _, r := range rows[start:end] {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}
