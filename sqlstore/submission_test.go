// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"rathaus"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

func intake(id, ref, key string) *submission.Intake {
	return &submission.Intake{
		App: &submission.Application{Tenant: "064110000000", ID: id, Reference: ref, ServiceKey: "s", FormID: "f", FormVersion: "1",
			SealedAnswers: []byte{1, 2, 3}, Attachments: []submission.Attachment{{ID: id + "-a", Filename: "a.pdf", Size: 3}},
			Status: submission.StatusSubmitted, SubmittedAt: time.Now(), IdempotencyKey: key},
		Blobs: [][]byte{{9, 9, 9}},
	}
}

// TestSubmissionStoreBatch checks the store's side of the intake contract
// on both dialects: duplicates inside one batch, reference collisions
// (redrawn in the batch), id collisions (ECONFLICT, nothing of the batch
// stored), misaligned blobs.
func TestSubmissionStoreBatch(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			s := db.SubmissionStore(nil)
			ctx := context.Background()
			count := func() int {
				var n int
				db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM applications`).Scan(&n)
				return n
			}
			a, b := intake("id-a", "2026-AAAA-AAAA", "k"), intake("id-b", "2026-BBBB-BBBB", "k")
			if err := s.CreateApplications(ctx, []*submission.Intake{a, b}); err != nil {
				t.Fatal(err)
			}
			if a.Existing != nil || b.Existing == nil || b.Existing.ID != "id-a" {
				t.Fatalf("duplicate key in one batch: a.Existing=%v b.Existing=%v", a.Existing, b.Existing)
			}
			if _, err := s.AttachmentContent(ctx, "064110000000", "id-b", "id-b-a"); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("blob of the duplicate stored: %v", err)
			}
			t.Run("ReferenceTakenRedrawn", func(t *testing.T) {
				ok, clash := intake("id-c", "2026-CCCC-CCCC", "k-c"), intake("id-d", "2026-AAAA-AAAA", "k-d")
				if err := s.CreateApplications(ctx, []*submission.Intake{ok, clash}); err != nil {
					t.Fatalf("reference collision = %v, want the batch committed with a new reference", err)
				}
				if r := clash.App.Reference; r == "2026-AAAA-AAAA" || r[:5] != "2026-" {
					t.Errorf("reference %q after the collision, want a new one of 2026", r)
				}
				if n := count(); n != 3 {
					t.Errorf("%d applications after the batch, want 3", n)
				}
			})
			t.Run("ErrIDTaken", func(t *testing.T) {
				ok, clash := intake("id-g", "2026-GGGG-GGGG", "k-g"), intake("id-a", "2026-HHHH-HHHH", "k-h")
				err := s.CreateApplications(ctx, []*submission.Intake{ok, clash})
				if rathaus.ErrorCode(err) != rathaus.ECONFLICT {
					t.Fatalf("id collision = %v, want conflict", err)
				}
				if n := count(); n != 3 {
					t.Errorf("%d applications after the failed batch, want 3 (all or nothing)", n)
				}
			})
			t.Run("ErrBlobsMisaligned", func(t *testing.T) {
				bad := intake("id-e", "2026-EEEE-EEEE", "k-e")
				bad.Blobs = nil
				if err := s.CreateApplications(ctx, []*submission.Intake{bad}); err == nil {
					t.Error("misaligned blobs accepted")
				}
			})
			t.Run("ErrJobsWithoutEnqueuer", func(t *testing.T) {
				j := intake("id-f", "2026-FFFF-FFFF", "k-f")
				j.Jobs = []submission.Job{{Kind: "process.start"}}
				if err := s.CreateApplications(ctx, []*submission.Intake{j}); err == nil || count() != 3 {
					t.Errorf("jobs without an enqueuer: %v, %d applications", err, count())
				}
			})
		})
	}
}
