// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"

	"rathaus"
)

// flakyStore fails writes when fail says so, like a process killed before
// or during a commit (the write does not happen).
type flakyStore struct {
	Store
	fail func(op string) bool
}

var errCrash = errors.New("simulated crash")

func (f *flakyStore) CreateInstance(ctx context.Context, inst *Instance, effects []Effect) error {
	if f.fail("create") {
		return errCrash
	}
	return f.Store.CreateInstance(ctx, inst, effects)
}

func (f *flakyStore) UpdateInstance(ctx context.Context, inst *Instance, effects []Effect, done string) error {
	if f.fail("update") {
		return errCrash
	}
	return f.Store.UpdateInstance(ctx, inst, effects, done)
}

func (f *flakyStore) MarkEffectDone(ctx context.Context, tenant, id string) error {
	if f.fail("done") {
		return errCrash
	}
	return f.Store.MarkEffectDone(ctx, tenant, id)
}

// TestCrashesNeverLoseOrRepeatSteps runs the universal process while
// writes fail at random; after each failure a fresh runner (a restarted
// process) carries on. The instance always completes, every action takes
// effect exactly once (handlers deduplicate by effect id, as the Runner
// contract asks) and the outbox ends empty.
func TestCrashesNeverLoseOrRepeatSteps(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		mem := NewMemStore()
		now := t0
		failures := 0
		flaky := &flakyStore{Store: mem, fail: func(op string) bool {
			if failures < 20 && rapid.IntRange(0, 3).Draw(rt, "fail-"+op) == 0 {
				failures++
				return true
			}
			return false
		}}
		applied := map[string]int{} // effect id → times the side effect took hold
		calls := 0
		newRunner := func() *Runner {
			r := NewRunner(flaky, &Engine{Now: func() time.Time { return now }})
			h := func(ctx context.Context, c ActionCall) (map[string]any, error) {
				calls++
				if applied[c.EffectID] == 0 {
					applied[c.EffectID]++
				}
				if c.Action == ActionGenerateNotice {
					return map[string]any{"notice": "n.pdf"}, nil
				}
				return nil, nil
			}
			for _, a := range Actions {
				r.Handle(a, h)
			}
			return r
		}
		r := newRunner()
		retry := func(what string, fn func() error) {
			for i := 0; ; i++ {
				err := fn()
				if err == nil {
					return
				}
				if !errors.Is(err, errCrash) {
					rt.Fatalf("%s: %v", what, err)
				}
				if i > 50 {
					rt.Fatalf("%s: still failing", what)
				}
				r = newRunner() // restart
			}
		}
		if _, _, err := r.Deploy(ctx, "t", UniversalKey, UniversalBPMN(), UniversalKey, nil); err != nil {
			rt.Fatal(err)
		}
		var id string
		retry("start", func() error {
			inst, err := r.Start(ctx, "t", UniversalKey, nil)
			if err == nil {
				id = inst.ID
			}
			return err
		})
		drain := func() { retry("drain", func() error { return r.Drain(ctx) }) }
		complete := func(node string, vars map[string]any) {
			drain()
			retry("complete "+node, func() error {
				inst, err := mem.Instance(ctx, "t", id)
				if err != nil {
					return err
				}
				task := inst.TaskByNode(node)
				if task == nil {
					rt.Fatalf("no task %s", node)
				}
				_, err = r.CompleteTask(ctx, "t", id, task.ID, vars)
				return err
			})
			drain()
		}
		complete("check", map[string]any{"complete": false})
		now = now.Add(8 * 24 * time.Hour) // reminder due
		retry("timers", func() error { _, err := r.FireDueTimers(ctx, now); return err })
		drain()
		retry("answer", func() error {
			_, err := r.Message(ctx, "t", id, "citizen answered", nil)
			if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
				rt.Fatalf("answer: %v", err)
			}
			return err
		})
		complete("check", map[string]any{"complete": true})
		complete("decide", map[string]any{"decision": "approve"})
		final, err := mem.Instance(ctx, "t", id)
		if err != nil {
			rt.Fatal(err)
		}
		if final.Status != StatusCompleted {
			rt.Fatalf("status %s incident %q", final.Status, final.Incident)
		}
		// request_info, remind, notice_approval, to_mailbox.
		if len(applied) != 4 {
			rt.Fatalf("%d distinct action effects took hold, want 4 (calls %d)", len(applied), calls)
		}
		if p, _ := mem.PendingEffects(ctx, 100); len(p) != 0 {
			rt.Fatalf("outbox not empty: %+v", p)
		}
	})
}
