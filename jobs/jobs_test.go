// SPDX-License-Identifier: EUPL-1.2

package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"rathaus/audit"
	"rathaus/jobs"
	"rathaus/sqlstore/sqltest"
)

type greet struct {
	Name string `json:"name"`
}

func TestEnqueueInTx(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ctx := context.Background()
			q, err := jobs.New(ctx, db, jobs.Options{PollInterval: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			runs := map[string]int{}
			done := make(chan struct{}, 10)
			if err := q.Register("test.greet", func(ctx context.Context, args json.RawMessage) error {
				var g greet
				if err := json.Unmarshal(args, &g); err != nil {
					return err
				}
				// Handlers write through the store (on SQLite: the same single
				// writer connection River uses) without deadlocking.
				if _, err := db.Audit().Append(ctx, audit.Entry{Actor: "job", Action: "test.greet", Object: g.Name}); err != nil {
					return err
				}
				mu.Lock()
				runs[g.Name]++
				mu.Unlock()
				done <- struct{}{}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := q.Register("test.greet", func(context.Context, json.RawMessage) error { return nil }); err == nil {
				t.Error("registering a kind twice must fail")
			}

			rollback := errors.New("roll back")
			err = db.InTx(ctx, func(tx *sql.Tx) error {
				if err := q.Enqueue(ctx, tx, "test.greet", greet{Name: "rolled-back"}); err != nil {
					return err
				}
				return rollback
			})
			if err != rollback {
				t.Fatalf("InTx = %v", err)
			}
			if err := db.InTx(ctx, func(tx *sql.Tx) error {
				return q.Enqueue(ctx, tx, "test.greet", greet{Name: "committed"})
			}); err != nil {
				t.Fatal(err)
			}

			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("committed job did not run within 20 s")
			}
			time.Sleep(500 * time.Millisecond) // give a wrong second run a chance
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := q.Stop(stopCtx); err != nil {
				t.Errorf("Stop: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if runs["committed"] != 1 || runs["rolled-back"] != 0 || len(runs) != 1 {
				t.Errorf("runs = %v, want committed once and nothing else", runs)
			}
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("river_job rows = %d, want 1 (the rolled-back job must not exist)", n)
			}
			if head, _, _ := db.Audit().(audit.Header).Head(ctx); head != 1 {
				t.Errorf("audit entries written by the handler = %d, want 1", head)
			}
		})
	}
}

func TestEnqueueNeedsTx(t *testing.T) {
	db := sqltest.Open(t, "sqlite")
	q, err := jobs.New(context.Background(), db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(context.Background(), nil, "x", nil); err == nil {
		t.Error("Enqueue without tx must fail")
	}
	if err := q.Start(context.Background()); err == nil {
		t.Error("Start without kinds must fail")
	}
}

// TestRetryAndPeriodic shows that a failing job is retried until it succeeds
// and that a periodic job is enqueued on start and then at its interval.
func TestRetryAndPeriodic(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River's scheduler")
	}
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ctx := context.Background()
			q, err := jobs.New(ctx, db, jobs.Options{
				PollInterval: 50 * time.Millisecond,
				RetryBackoff: 10 * time.Millisecond,
				Periodic:     []jobs.Periodic{{Kind: "test.tick", Every: time.Hour, Args: greet{Name: "tick"}, RunOnStart: true}},
			})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			attempts := 0
			succeeded := make(chan struct{}, 1)
			ticked := make(chan string, 4)
			q.Register("test.flaky", func(ctx context.Context, args json.RawMessage) error {
				mu.Lock()
				defer mu.Unlock()
				attempts++
				if attempts < 2 {
					return errors.New("transient failure")
				}
				succeeded <- struct{}{}
				return nil
			})
			q.Register("test.tick", func(ctx context.Context, args json.RawMessage) error {
				var g greet
				json.Unmarshal(args, &g)
				ticked <- g.Name
				return nil
			})
			if err := db.InTx(ctx, func(tx *sql.Tx) error {
				return q.Enqueue(ctx, tx, "test.flaky", json.RawMessage(`{"n":1}`), jobs.MaxAttempts(3))
			}); err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				q.Stop(stopCtx)
			}()
			select {
			case name := <-ticked:
				if name != "tick" {
					t.Errorf("periodic args = %q", name)
				}
			case <-time.After(30 * time.Second):
				t.Error("periodic job did not run on start")
			}
			select {
			case <-succeeded:
			case <-time.After(30 * time.Second):
				mu.Lock()
				t.Errorf("flaky job did not succeed after retry (attempts %d)", attempts)
				mu.Unlock()
			}
		})
	}
}

func TestEnqueueRejectsBadJSON(t *testing.T) {
	db := sqltest.Open(t, "sqlite")
	ctx := context.Background()
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		return q.Enqueue(ctx, tx, "x", json.RawMessage(`{broken`))
	})
	if err == nil {
		t.Error("Enqueue with invalid JSON must fail")
	}
	if _, err := jobs.New(ctx, db, jobs.Options{Periodic: []jobs.Periodic{{Kind: "x"}}}); err == nil {
		t.Error("periodic job without interval must fail")
	}
}
