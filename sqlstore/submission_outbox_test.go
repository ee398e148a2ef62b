// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

// TestSubmissionOutbox checks the outbox on both dialects: the jobs of a
// batch land in submission_outbox (none for a duplicate), and four
// concurrent pumps move every job exactly once through the enqueuer; a
// failing enqueuer leaves the outbox untouched.
func TestSubmissionOutbox(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ctx := context.Background()
			if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE pumped (kind TEXT NOT NULL, args TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			var fail error
			s := db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
				if fail != nil {
					return fail
				}
				for _, j := range js {
					raw, ok := j.Args.(json.RawMessage)
					if !ok {
						return fmt.Errorf("pumped job args are %T, want json.RawMessage", j.Args)
					}
					if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO pumped (kind, args) VALUES (?, ?)`), j.Kind, string(raw)); err != nil {
						return err
					}
				}
				return nil
			}).UseOutbox()
			if !s.UsesOutbox() {
				t.Fatal("UsesOutbox = false after UseOutbox")
			}
			count := func(q string) int {
				t.Helper()
				var n int
				if err := db.SQL().QueryRowContext(ctx, q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			const n = 600 // more than one multi-row INSERT chunk (500 rows)
			var batch []*submission.Intake
			for i := range n {
				in := intake(fmt.Sprintf("id-%03d", i), fmt.Sprintf("2026-%04d-AAAA", i), fmt.Sprint("k", i))
				in.Jobs = []submission.Job{{Kind: "process.start", Args: submission.JobArgs{ApplicationID: in.App.ID}}, {Kind: "delivery.send", Args: json.RawMessage(`{"x":1}`)}}
				batch = append(batch, in)
			}
			dup := intake("id-dup", "2026-DDDD-DDDD", "k0")
			dup.Jobs = []submission.Job{{Kind: "process.start"}}
			batch = append(batch, dup)
			if err := s.CreateApplications(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if dup.Existing == nil {
				t.Fatal("duplicate key not detected")
			}
			if got, _ := s.OutboxLen(ctx); got != 2*n {
				t.Fatalf("outbox holds %d jobs, want %d (none for the duplicate)", got, 2*n)
			}

			fail = fmt.Errorf("queue down")
			if moved, err := s.PumpOutbox(ctx, 50); err == nil || moved != 0 {
				t.Errorf("PumpOutbox with a failing enqueuer = %d, %v; want an error", moved, err)
			}
			if got, _ := s.OutboxLen(ctx); got != 2*n {
				t.Errorf("outbox holds %d jobs after the failed pump, want %d", got, 2*n)
			}
			fail = nil

			var wg sync.WaitGroup
			errs := make([]error, 4)
			for p := range errs {
				wg.Go(func() {
					for {
						moved, err := s.PumpOutbox(ctx, 37)
						if err != nil || moved == 0 {
							errs[p] = err
							return
						}
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := count(`SELECT count(*) FROM submission_outbox`); got != 0 {
				t.Errorf("outbox holds %d jobs after pumping, want 0", got)
			}
			if got := count(`SELECT count(*) FROM pumped`); got != 2*n {
				t.Errorf("%d jobs pumped, want %d (exactly once)", got, 2*n)
			}
			if got := count(`SELECT count(DISTINCT args) FROM pumped WHERE kind = 'process.start'`); got != n {
				t.Errorf("%d distinct process.start jobs, want %d", got, n)
			}
		})
	}
}
