// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"rathaus/bpmn"
	"rathaus/internal/testenv"
)

// approvalDefinition compiles bench/bpmn/approval.bpmn, the file the peer
// engine runs too.
func approvalDefinition(tb testing.TB) []byte {
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

// TestApprovalProcess checks the benchmark model once: review is done
// twice (one loop back), then notify runs.
func TestApprovalProcess(t *testing.T) {
	ctx := context.Background()
	r := NewRunner(NewMemStore(), nil)
	calls := 0
	r.Handle(ActionDeliver, func(ctx context.Context, c ActionCall) (map[string]any, error) { calls++; return nil, nil })
	if _, problems, err := r.Deploy(ctx, "t", "approval", approvalDefinition(t), "approval", nil); err != nil {
		t.Fatal(err, problems)
	}
	if err := runApproval(ctx, r); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("notify ran %d times", calls)
	}
}

func runApproval(ctx context.Context, r *Runner) error {
	inst, err := r.Start(ctx, "t", "approval", nil)
	if err != nil {
		return err
	}
	for _, ok := range []bool{false, true} {
		cur, err := r.Store.Instance(ctx, "t", inst.ID)
		if err != nil {
			return err
		}
		if _, err := r.CompleteTask(ctx, "t", inst.ID, cur.OpenTasks()[0].ID, approved(ok)); err != nil {
			return err
		}
	}
	if err := r.Drain(ctx); err != nil {
		return err
	}
	final, err := r.Store.Instance(ctx, "t", inst.ID)
	if err != nil {
		return err
	}
	if final.Status != StatusCompleted {
		return os.ErrInvalid
	}
	return nil
}

// BenchmarkEngine runs the approval process (start → review → gateway →
// one loop back → review → notify → end). "Runner" goes through the
// in-memory store and outbox (JSON round trip per step, like a SQL store
// would); "Pure" is the state machine alone. Both report instances/s.
func BenchmarkEngine(b *testing.B) {
	ctx := context.Background()
	src := approvalDefinition(b)
	b.Run("Runner", func(b *testing.B) {
		r := NewRunner(NewMemStore(), nil)
		r.Handle(ActionDeliver, func(ctx context.Context, c ActionCall) (map[string]any, error) { return nil, nil })
		if _, _, err := r.Deploy(ctx, "t", "approval", src, "approval", nil); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := runApproval(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "instances/s")
	})
	b.Run("Pure", func(b *testing.B) {
		d, err := bpmn.Parse(src, "approval.bpmn")
		if err != nil {
			b.Fatal(err)
		}
		def, _, err := Compile(d, "approval", nil)
		if err != nil {
			b.Fatal(err)
		}
		e := &Engine{}
		b.ReportAllocs()
		for b.Loop() {
			inst, _, _ := e.Start(ctx, def, nil)
			for _, ok := range []bool{false, true} {
				inst, _, _ = e.CompleteTask(ctx, def, inst, inst.OpenTasks()[0].ID, approved(ok))
			}
			inst, _, _ = e.CompleteAction(ctx, def, inst, inst.OpenActions()[0].ID, nil)
			if inst.Status != StatusCompleted {
				b.Fatal(inst.Status)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "instances/s")
	})
}
