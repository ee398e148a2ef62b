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
// commits 50 instances' steps per transaction; "Grouped32" runs 32 at once,
// every step its own InTx/Atomic as in production, and the store's group
// commit lets concurrent steps share commits (sqlstore.Config.GroupCommit).
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
	parallel := func(b *testing.B, k int) *sqlstore.DB { return parallelDurable(ctx, b, open, k) }
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
	b.Run("Parallel8", func(b *testing.B) { parallel(b, 8) })
	// Grouped32: 32 goroutines, each running whole instances, every step
	// its own transaction as in production. Runner.Drain works on the
	// whole outbox, so 32 goroutines draining at once would run every
	// effect up to 32 times; here each goroutine runs the effects of its
	// own instance (captured in OnCommit, as casework/worker enqueues one
	// job per effect and River gives it to one worker).
	b.Run("Grouped32", func(b *testing.B) {
		r, db := open(b)
		own := newOwnEffects(r)
		n := b.N
		var wg sync.WaitGroup
		work := make(chan struct{}, n)
		for range n {
			work <- struct{}{}
		}
		close(work)
		before := db.Stats()
		b.ResetTimer()
		for range 32 {
			wg.Go(func() {
				for range work {
					if err := own.runApproval(ctx, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "instances/s")
		if st := db.Stats(); st.Commits > before.Commits {
			b.ReportMetric(float64(st.Transactions-before.Transactions)/float64(st.Commits-before.Commits), "tx/commit")
		}
	})
}

// parallelDurable runs b.N approval instances on k goroutines through open
// and returns the store.
func parallelDurable(ctx context.Context, b *testing.B, open func(*testing.B) (*process.Runner, *sqlstore.DB), k int) *sqlstore.DB {
	r, db := open(b)
	n := b.N
	var wg sync.WaitGroup
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	for range k {
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
	return db
}

// ownEffects collects the outbox effects of each instance as its steps
// commit, so that the goroutine running the instance runs exactly those.
type ownEffects struct {
	mu      sync.Mutex
	pending map[string][]process.Effect // instance id → effects to run
}

func newOwnEffects(r *process.Runner) *ownEffects {
	o := &ownEffects{pending: map[string][]process.Effect{}}
	ps := r.Store.(*sqlstore.ProcessStore)
	ps.OnCommit = func(ctx context.Context, tx *sql.Tx, inst *process.Instance, effects []process.Effect) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, e := range effects {
			if !ps.DoneKinds[e.Kind] {
				o.pending[inst.ID] = append(o.pending[inst.ID], e)
			}
		}
		return nil
	}
	return o
}

// take removes and returns the pending effects of instance id.
func (o *ownEffects) take(id string) []process.Effect {
	o.mu.Lock()
	defer o.mu.Unlock()
	es := o.pending[id]
	delete(o.pending, id)
	return es
}

// runApproval is runApproval with the instance's own effects instead of
// Drain.
func (o *ownEffects) runApproval(ctx context.Context, r *process.Runner) error {
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
	for es := o.take(inst.ID); len(es) > 0; es = o.take(inst.ID) {
		for _, e := range es {
			if err := r.RunEffect(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}
