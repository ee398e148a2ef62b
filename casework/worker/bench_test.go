// SPDX-License-Identifier: EUPL-1.2

package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// BenchmarkWorkerStep measures the production process step on SQLite
// (every step: instance, tasks/timers, outbox, audit entry, case row in one
// transaction). "Start" creates a case and starts the universal process
// (no rules: the caseworker checks); "Claim" is one desk step that changes
// no process state (lock, case row, history, audit); "Lifecycle" starts,
// decides and drains (notice, mailbox and delivery actions, one step each).
func BenchmarkWorkerStep(b *testing.B) {
	ctx := context.Background()
	open := func(b *testing.B) (*worker.Worker, *apps) {
		db := sqltest.Open(b, sqlstore.SQLite)
		a := &apps{}
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		w, err := worker.New(worker.Options{DB: db, Applications: a, Mailbox: newTableMailbox(b, db), Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.EnsureUniversal(ctx, "000000000000"); err != nil {
			b.Fatal(err)
		}
		return w, a
	}
	n := 0
	start := func(b *testing.B, w *worker.Worker, a *apps) string {
		n++
		id := fmt.Sprintf("b%d", n)
		a.add(&worker.Application{Tenant: darmstadt, ID: id, Reference: "DA-" + id, ServiceKey: "99001", Title: "Testleistung",
			ApplicantUserID: "citizen-1", SubmittedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Answers: map[string]any{"name": "Erika"}})
		if _, err := w.StartCase(ctx, darmstadt, id); err != nil {
			b.Fatal(err)
		}
		return id
	}
	b.Run("Start", func(b *testing.B) {
		w, a := open(b)
		for b.Loop() {
			start(b, w, a)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
	})
	b.Run("Claim", func(b *testing.B) {
		w, a := open(b)
		ids := make([]string, 0, b.N)
		for range b.N {
			ids = append(ids, start(b, w, a))
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := w.Claim(ctx, "cw-1", darmstadt, ids[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Lifecycle", func(b *testing.B) {
		w, a := open(b)
		for b.Loop() {
			id := start(b, w, a)
			if _, err := w.Decide(ctx, "cw-1", darmstadt, id, casework.DecisionApprove, "ok"); err != nil {
				b.Fatal(err)
			}
			if err := w.Drain(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
	})
}
