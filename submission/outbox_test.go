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

// TestOutboxPeak: while commits run at or above OutboxPeakRate the pump
// leaves the jobs in the outbox (the writer and the CPU belong to the
// intake) and moves them when the peak is over (or after OutboxMaxLag,
// see TestPumpUnderSustainedPeak); below the peak rate it moves them
// within OutboxDelay.
func TestOutboxPeak(t *testing.T) {
	const lag = 600 * time.Millisecond
	for _, tc := range []struct {
		name     string
		peakRate float64
		peak     bool
	}{
		{"Peak", 20, true},   // 20 commits/s counts as a peak here
		{"Calm", 1e6, false}, // nothing is a peak
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := sqltest.Open(t, "sqlite")
			e := newEnvOutbox(t, db, submission.Options{OutboxDelay: 5 * time.Millisecond, OutboxInterval: 20 * time.Millisecond,
				OutboxMaxLag: lag, OutboxPeakRate: tc.peakRate}, true)
			ctx := context.Background()
			start := time.Now()
			// ≈ 100 commits/s for 300 ms: a peak by the first rate, calm by the second.
			for i := 0; time.Since(start) < 300*time.Millisecond; i++ {
				if _, err := e.svc.Submit(ctx, request(darmstadt, fmt.Sprint("p", i))); err != nil {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			inOutbox := e.count(t, `SELECT count(*) FROM submission_outbox`)
			apps := e.count(t, `SELECT count(*) FROM applications`)
			// The commits of the first ≈ 50 ms may be pumped before the
			// rate is known.
			if tc.peak && inOutbox < 2*apps-16 {
				t.Errorf("during the peak %d jobs of %d applications left the outbox, want all but the first few kept", 2*apps-inOutbox, apps)
			}
			if !tc.peak && inOutbox > 4 {
				t.Errorf("%d jobs in the outbox while calm, want them moved within the delay", inOutbox)
			}
			// After the peak (or at the latest after the max lag) the
			// pump moves them.
			waitFor(t, func() bool { return e.count(t, `SELECT count(*) FROM submission_outbox`) == 0 })
			if got := e.count(t, `SELECT count(*) FROM river_job`); got != 2*apps {
				t.Errorf("%d River jobs for %d applications, want two each", got, apps)
			}
		})
	}
}
