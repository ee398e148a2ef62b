// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingOutbox is an outbox of n jobs that records when it was pumped.
type countingOutbox struct {
	mu    sync.Mutex
	left  int
	calls []time.Time
}

func (o *countingOutbox) UsesOutbox() bool { return true }

func (o *countingOutbox) PumpOutbox(_ context.Context, max int) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, time.Now())
	n := min(max, o.left)
	o.left -= n
	return n, nil
}

func (o *countingOutbox) state() (int, []time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.left, append([]time.Time(nil), o.calls...)
}

// TestPumpUnderSustainedPeak: while the intake stays busy the pump waits
// maxLag, then moves one batch per round until the outbox is empty — it
// neither starves (one batch per maxLag) nor takes the writer back to back.
// When the intake is idle it drains at once.
func TestPumpUnderSustainedPeak(t *testing.T) {
	const delay, lag = 5 * time.Millisecond, 200 * time.Millisecond
	t.Run("Busy", func(t *testing.T) {
		o := &countingOutbox{}
		var busy atomic.Bool
		busy.Store(true)
		p := newPump(o, delay, time.Hour, lag, 5, busy.Load)
		defer p.close()
		for { // the start-up drain (leftovers of a crash) does not yield
			if _, calls := o.state(); len(calls) == 1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		start := time.Now()
		o.mu.Lock()
		o.left = 10 * 5
		o.calls = nil
		o.mu.Unlock()
		stop := make(chan struct{})
		go func() { // commits keep poking, as under a peak
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
					p.poke()
				}
			}
		}()
		deadline := time.Now().Add(5 * time.Second)
		for {
			left, _ := o.state()
			if left == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		close(stop)
		left, calls := o.state()
		if left != 0 {
			t.Fatalf("outbox not drained under a sustained peak: %d left after %d pumps", left, len(calls))
		}
		if len(calls) < 10 {
			t.Fatalf("%d pumps for 10 batches", len(calls))
		}
		// One batch per maxLag (the old behaviour) would take 10 × 200 ms.
		if took := calls[len(calls)-1].Sub(start); took > lag+800*time.Millisecond {
			t.Errorf("10 batches took %v under a sustained peak, want about maxLag + 10 rounds of %v", took, delay)
		}
		if first := calls[0].Sub(start); first < lag-5*time.Millisecond {
			t.Errorf("first pump %v after the first commit, want it to wait maxLag %v", first, lag)
		}
		for i := 1; i < len(calls); i++ {
			if gap := calls[i].Sub(calls[i-1]); gap < delay/2 {
				t.Errorf("pumps %d and %d back to back (%v apart) while the intake is busy", i-1, i, gap)
			}
		}
	})
	t.Run("Idle", func(t *testing.T) {
		o := &countingOutbox{}
		p := newPump(o, delay, time.Hour, lag, 5, func() bool { return false })
		defer p.close()
		o.mu.Lock()
		o.left = 10 * 5
		o.mu.Unlock()
		p.poke()
		deadline := time.Now().Add(2 * time.Second)
		for {
			left, _ := o.state()
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("idle pump did not drain: %d left", left)
			}
			time.Sleep(time.Millisecond)
		}
	})
}
