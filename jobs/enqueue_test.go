// SPDX-License-Identifier: EUPL-1.2

package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"rathaus/jobs"
	"rathaus/sqlstore/sqltest"
)

// TestEnqueueOptions: UniqueByArgs keeps one pending job per kind and
// args, At delays a job, MaxAttempts is stored — through Enqueue's fast
// insert, on both dialects.
func TestEnqueueOptions(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ctx := context.Background()
			q, err := jobs.New(ctx, db, jobs.Options{PollInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ran := make(chan string, 10)
			if err := q.Register("test.opt", func(_ context.Context, raw json.RawMessage) error {
				var a struct{ Name string }
				if err := json.Unmarshal(raw, &a); err != nil {
					return err
				}
				ran <- a.Name
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			enqueue := func(name string, opts ...jobs.EnqueueOption) {
				t.Helper()
				if err := db.InTx(ctx, func(tx *sql.Tx) error {
					return q.Enqueue(ctx, tx, "test.opt", map[string]string{"Name": name}, opts...)
				}); err != nil {
					t.Fatal(err)
				}
			}
			enqueue("unique", jobs.UniqueByArgs())
			enqueue("unique", jobs.UniqueByArgs())
			enqueue("twice")
			enqueue("twice")
			enqueue("capped", jobs.MaxAttempts(3))
			later := time.Now().Add(1500 * time.Millisecond)
			enqueue("later", jobs.At(later))
			count := func(where string, args ...any) int {
				t.Helper()
				var n int
				if err := db.SQL().QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM river_job WHERE kind = 'test.opt' AND `+where), args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count("1 = 1"); n != 5 {
				t.Errorf("%d jobs, want 5 (the second unique one skipped)", n)
			}
			if n := count("max_attempts = ?", 3); n != 1 {
				t.Errorf("%d jobs with max_attempts 3, want 1", n)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer q.Stop(ctx)
			got := map[string]int{}
			for range 5 {
				select {
				case name := <-ran:
					got[name]++
					if name == "later" && time.Now().Before(later) {
						t.Errorf("the job scheduled for %v ran at %v", later, time.Now())
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("ran %v within 20 s", got)
				}
			}
			if want := map[string]int{"unique": 1, "twice": 2, "capped": 1, "later": 1}; len(got) != len(want) || got["unique"] != 1 || got["twice"] != 2 || got["capped"] != 1 || got["later"] != 1 {
				t.Errorf("ran %v, want %v", got, want)
			}
		})
	}
}
