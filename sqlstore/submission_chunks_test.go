// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"rathaus/audit"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

// TestSubmissionStoreChunks writes batches whose sizes are not powers of
// two, twice each, on both dialects: the second round runs the statements
// prepared after the first (SQLite). Every application, blob and audit
// entry must be there, the audit chain intact, replays answered.
func TestSubmissionStoreChunks(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			s := db.SubmissionStore(nil)
			ctx := context.Background()
			total := 0
			for round := range 2 {
				for _, n := range []int{1, 3, 37, 300} {
					batch := make([]*submission.Intake, n)
					for i := range batch {
						id := fmt.Sprintf("r%d-n%d-%d", round, n, i)
						batch[i] = intake(id, fmt.Sprintf("2026-%04d-%04d", round*1000+n, i), "k-"+id)
						batch[i].App.ApplicantUserID = "u1"
						batch[i].Audit = audit.Entry{Tenant: "064110000000", Actor: "u1", Action: "application.submit", Object: "application/" + id}
					}
					// One replay of an earlier key in every batch after the first.
					if total > 0 {
						batch = append(batch, intake("replay-"+fmt.Sprint(round, n), "2026-ZZZZ-"+fmt.Sprintf("%04d", round*1000+n), "k-r0-n1-0"))
					}
					if err := s.CreateApplications(ctx, batch); err != nil {
						t.Fatalf("round %d, batch of %d: %v", round, n, err)
					}
					for i, in := range batch {
						if replay := i == n; (in.Existing != nil) != replay {
							t.Fatalf("round %d, batch of %d, intake %d: Existing = %v", round, n, i, in.Existing)
						}
					}
					total += n
				}
			}
			var apps, blobs int
			db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM applications`).Scan(&apps)
			db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM application_blobs`).Scan(&blobs)
			if apps != total || blobs != total {
				t.Fatalf("%d applications, %d blobs; want %d of each", apps, blobs, total)
			}
			if bad, why, err := audit.Verify(ctx, db.Audit()); bad != 0 || err != nil {
				t.Fatalf("audit chain broken at %d: %s %v", bad, why, err)
			}
			var entries int
			db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'application.submit'`).Scan(&entries)
			if entries != total {
				t.Fatalf("%d audit entries, want %d", entries, total)
			}
			mine, err := s.ApplicationsOf(ctx, "064110000000", "u1", 1000)
			if err != nil || len(mine) != total {
				t.Fatalf("ApplicationsOf = %d, %v; want %d", len(mine), err, total)
			}
		})
	}
}

// TestApplicantQueriesUseIndex checks on SQLite that the queries by
// applicant still use an index after applications_applicant was dropped.
func TestApplicantQueriesUseIndex(t *testing.T) {
	db := sqltest.Open(t, sqlstore.SQLite)
	ctx := context.Background()
	for _, q := range []string{
		`SELECT id FROM applications WHERE tenant = ? AND applicant_user_id = ? ORDER BY submitted_at DESC, id DESC LIMIT ?`,
		`SELECT a.id FROM applications a WHERE a.applicant_user_id = ? ORDER BY a.submitted_at DESC, a.id DESC LIMIT 500`,
		`SELECT a.id FROM applications a WHERE a.applicant_user_id = ? AND a.id = ?`,
	} {
		rows, err := db.SQL().QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, "t", "u", 1)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING INDEX mailbox_applications_applicant") {
			t.Errorf("%s\nplan: %s; want mailbox_applications_applicant", q, p)
		}
	}
}
