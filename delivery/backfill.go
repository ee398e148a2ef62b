// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"rathaus"
	"rathaus/tenant"
)

// Backfill enqueues the fan-out for every application of the subtree
// rooted at root submitted at or after since that has no delivery yet
// (e.g. filed before its routes were configured). Fan-out is idempotent,
// so running it twice does no harm. It returns the number of applications
// enqueued.
func (s *Service) Backfill(ctx context.Context, root string, since time.Time) (int, error) {
	if !tenant.ValidARS(root) {
		return 0, rathaus.Errorf(rathaus.EINVALID, "backfill: %q is no ARS", root)
	}
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT a.tenant, a.id, a.service_key FROM applications a
		WHERE a.tenant LIKE ? AND a.submitted_at >= ?
		AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.tenant = a.tenant AND d.application_id = a.id)
		ORDER BY a.submitted_at`), strings.TrimRight(root, "0")+"%", since.UnixMicro())
	if err != nil {
		return 0, rathaus.Wrap(rathaus.EINTERNAL, err, "backfill")
	}
	var todo []SendArgs
	for rows.Next() {
		var a SendArgs
		if err := rows.Scan(&a.Tenant, &a.ApplicationID, &a.ServiceKey); err != nil {
			rows.Close()
			return 0, rathaus.Wrap(rathaus.EINTERNAL, err, "backfill")
		}
		if tenant.InSubtree(root, a.Tenant) {
			todo = append(todo, a)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, rathaus.Wrap(rathaus.EINTERNAL, err, "backfill")
	}
	for start := 0; start < len(todo); start += 500 {
		batch := todo[start:min(start+500, len(todo))]
		if err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			for _, a := range batch {
				if err := s.opts.Queue.Enqueue(ctx, tx, JobSend, a); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return start, err
		}
	}
	return len(todo), nil
}
