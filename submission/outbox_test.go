// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"rathaus/audit"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

// TestOutbox: with the outbox, the intake commits application, blobs, audit
// entry and two outbox rows together; the Service's pump moves every job
// into River exactly once (enqueue and delete in one transaction), also
// when the queue fails for a while, and Close leaves the outbox empty.
func TestOutbox(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			e := newEnvOutbox(t, db, submission.Options{OutboxDelay: 5 * time.Millisecond, OutboxInterval: 20 * time.Millisecond, OutboxBatch: 7}, true)
			ctx := context.Background()
			const n = 60
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					_, errs[i] = e.svc.Submit(ctx, request(darmstadt, fmt.Sprint("o", i%50))) // 10 replays
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("submit %d: %v", i, err)
				}
			}
			if got := e.count(t, `SELECT count(*) FROM applications`); got != 50 {
				t.Errorf("%d applications, want 50", got)
			}
			waitFor(t, func() bool { return e.count(t, `SELECT count(*) FROM submission_outbox`) == 0 })
			if got := e.count(t, `SELECT count(*) FROM river_job`); got != 100 {
				t.Errorf("%d River jobs, want 100 (two per application, exactly once)", got)
			}
			if got := e.count(t, `SELECT count(DISTINCT args) FROM river_job WHERE kind = ?`, submission.JobProcessStart); got != 50 {
				t.Errorf("%d distinct process.start jobs, want 50", got)
			}

			// The queue fails: jobs stay in the outbox (nothing lost, nothing doubled) and move once it works again.
			boom := errors.New("queue down")
			var mu sync.Mutex
			failing := true
			e.fail = func(kind string, args any) error {
				mu.Lock()
				defer mu.Unlock()
				if failing {
					return boom
				}
				return nil
			}
			if _, err := e.svc.Submit(ctx, request(darmstadt, "during-outage")); err != nil {
				t.Fatalf("intake must not depend on the queue with an outbox: %v", err)
			}
			time.Sleep(60 * time.Millisecond) // a few failed pumps
			if got := e.count(t, `SELECT count(*) FROM submission_outbox`); got != 2 {
				t.Errorf("outbox has %d rows during the outage, want 2", got)
			}
			mu.Lock()
			failing = false
			mu.Unlock()
			if err := e.svc.Close(); err != nil {
				t.Fatal(err)
			}
			if got := e.count(t, `SELECT count(*) FROM submission_outbox`); got != 0 {
				t.Errorf("outbox has %d rows after Close, want 0", got)
			}
			if got := e.count(t, `SELECT count(*) FROM river_job`); got != 102 {
				t.Errorf("%d River jobs, want 102", got)
			}
			if got := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'application.submit'`); got != 51 {
				t.Errorf("%d audit entries, want one per application (51)", got)
			}
			if seq, reason, err := audit.Verify(ctx, e.db.Audit()); seq != 0 || err != nil {
				t.Errorf("audit chain broken at %d: %s %v", seq, reason, err)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached within 10 s")
}
