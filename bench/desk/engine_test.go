// SPDX-License-Identifier: EUPL-1.2

package desk_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"rathaus/internal/testenv"
	"rathaus/process"
	"rathaus/sqlstore"
)

func approvalSource(tb testing.TB) []byte {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(tb), "bench", "bpmn", "approval.bpmn"))
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

func approved(ok bool) map[string]any {
	return map[string]any{"environment": map[string]any{"variables": map[string]any{"approved": ok}}}
}

// runApproval runs one instance of the approval process through the
// runner: start, review (rejected: loop back), review (approved), the
// outbox (notify action, task and completion effects).
func runApproval(ctx context.Context, r *process.Runner) error {
	inst, err := r.Start(ctx, "064110000000", "approval", nil)
	if err != nil {
		return err
	}
	for _, ok := range []bool{false, true} {
		cur, err := r.Store.Instance(ctx, "064110000000", inst.ID)
		if err != nil {
			return err
		}
		if _, err := r.CompleteTask(ctx, "064110000000", inst.ID, cur.OpenTasks()[0].ID, approved(ok)); err != nil {
			return err
		}
	}
	return r.Drain(ctx)
}

// BenchmarkDurableEngine runs the approval process (bench/bpmn/approval.bpmn)
// durably: sqlstore.ProcessStore on a SQLite file (WAL, synchronous=FULL),
// every step one transaction with its outbox entries and audit entry.
// "Sequential" runs one instance after the other; "Parallel" runs 8 at once
// (SQLite has one writer; concurrent steps queue for it); "Batch50"
// commits 50 instances' steps per transaction.
func BenchmarkDurableEngine(b *testing.B) {
	ctx := context.Background()
	src := approvalSource(b)
	open := func(b *testing.B) (*process.Runner, *sqlstore.DB) {
		db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		ps := db.Process()
		// As casework/worker: only actions go through the outbox.
		ps.DoneKinds = map[process.EffectKind]bool{process.EffectCreateTask: true, process.EffectCancelTask: true, process.EffectScheduleTimer: true,
			process.EffectCancelTimer: true, process.EffectCompleted: true, process.EffectFailed: true}
		if err := ps.Prepare(ctx); err != nil {
			b.Fatal(err)
		}
		r := process.NewRunner(ps, nil)
		r.Handle(process.ActionDeliver, func(ctx context.Context, c process.ActionCall) (map[string]any, error) { return nil, nil })
		if _, _, err := r.Deploy(ctx, "064110000000", "approval", src, "approval", nil); err != nil {
			b.Fatal(err)
		}
		return r, db
	}
	b.Run("Sequential", func(b *testing.B) {
		r, _ := open(b)
		for b.Loop() {
			if err := runApproval(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "instances/s")
	})
	// Batch50: 50 instances per transaction (group commit, as the intake
	// does): each batch is durable when it commits, all or nothing.
	b.Run("Batch50", func(b *testing.B) {
		r, db := open(b)
		n := 0
		for n < b.N {
			k := min(50, b.N-n)
			err := db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
				for range k {
					if err := runApproval(ctx, r); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			n += k
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "instances/s")
	})
	b.Run("Parallel8", func(b *testing.B) {
		r, _ := open(b)
		n := b.N
		var wg sync.WaitGroup
		work := make(chan struct{}, n)
		for range n {
			work <- struct{}{}
		}
		close(work)
		b.ResetTimer()
		for range 8 {
			wg.Go(func() {
				for range work {
					if err := runApproval(ctx, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "instances/s")
	})
}
