// SPDX-License-Identifier: EUPL-1.2

package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"rathaus"
	"rathaus/jobs"
	"rathaus/sqlstore/sqltest"
)

// TestBusyQueueThroughput: with the default options a backlog of jobs runs
// without waiting a fetch cooldown per handful of jobs. 300 no-op jobs took
// at least 2.5 s with River's defaults (4 workers, one fetch per 100 ms:
// at most 40 jobs/s); the bound below leaves room for a loaded machine.
func TestBusyQueueThroughput(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ctx := context.Background()
			q, err := jobs.New(ctx, db, jobs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			const n = 300
			var ran atomic.Int64
			done := make(chan struct{})
			if err := q.Register("test.noop", func(context.Context, json.RawMessage) error {
				if ran.Add(1) == n {
					close(done)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			js := make([]jobs.Job, n)
			for i := range js {
				js[i] = jobs.Job{Kind: "test.noop"}
			}
			if err := db.InTx(ctx, func(tx *sql.Tx) error { return q.EnqueueMany(ctx, tx, js) }); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer q.Stop(ctx)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("%d of %d jobs ran within 30 s", ran.Load(), n)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%d jobs took %v, want under 2 s (a fetch cooldown per few jobs?)", n, d)
			}
		})
	}
}

// TestFetchCooldownLongerThanPoll: a cooldown longer than the poll
// interval is a configuration error.
func TestFetchCooldownLongerThanPoll(t *testing.T) {
	db := sqltest.Open(t, "sqlite")
	_, err := jobs.New(context.Background(), db, jobs.Options{PollInterval: 50 * time.Millisecond, FetchCooldown: time.Second})
	if rathaus.ErrorCode(err) != rathaus.EINVALID {
		t.Fatalf("New = %v, want EINVALID", err)
	}
}
