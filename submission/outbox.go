// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// OutboxPump is implemented by stores that can commit the jobs of an intake
// into a slim outbox table instead of the job queue (cheaper on the single
// writer) and move them into the job queue later. When the store's
// UsesOutbox reports true, the Service runs the pump in the background:
// after commits (delayed a little, so one pump transaction carries the jobs
// of many group commits), every OutboxInterval, at start (jobs left by a
// crash) and on Close until the outbox is empty.
type OutboxPump interface {
	UsesOutbox() bool
	// PumpOutbox moves up to max jobs from the outbox into the job queue
	// in one transaction (enqueue + delete: exactly once) and returns how
	// many it moved.
	PumpOutbox(ctx context.Context, max int) (int, error)
}

// pump moves outbox rows into the job queue in the background. It yields
// the writer and the CPU to the intake: during a peak (busy: submissions
// wait for their commit, or the intake rate is at or above
// Options.OutboxPeakRate) it postpones, but not longer than maxLag after
// the oldest unpumped commit; from then on, while the peak lasts, it
// moves one batch per round (a round every delay while commits poke, else
// every interval) — with the defaults ≈ 5,000 jobs/s, so a peak above
// ≈ 2,500 submissions/s (two jobs each) leaves a backlog that drains when
// the peak is over. This is the outbox's purpose under a mass procedure:
// moving a job into River costs about as much CPU as the application's
// own insert, and the citizen's receipt does not wait for it. The
// applications themselves are durable and acknowledged either way; only
// their processing starts later.
type pump struct {
	store    OutboxPump
	delay    time.Duration
	interval time.Duration
	maxLag   time.Duration
	max      int
	busy     func() bool  // reports a peak: submissions wait for the writer or arrive at ≥ OutboxPeakRate
	since    atomic.Int64 // unix nanos of the first commit not yet pumped, 0 if none
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

func newPump(store OutboxPump, delay, interval, maxLag time.Duration, max int, busy func() bool) *pump {
	if busy == nil {
		busy = func() bool { return false }
	}
	p := &pump{store: store, delay: delay, interval: interval, maxLag: maxLag, max: max, busy: busy,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// poke tells the pump that jobs were committed (never blocks).
func (p *pump) poke() {
	p.since.CompareAndSwap(0, time.Now().UnixNano())
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *pump) run() {
	defer close(p.done)
	ctx := context.Background()
	t := time.NewTicker(p.interval)
	defer t.Stop()
	p.drain(ctx, false) // leftovers of an earlier run
	for {
		select {
		case <-p.stop:
			p.drain(ctx, false)
			return
		case <-t.C:
		case <-p.kick:
			// Let more group commits land so one pump transaction moves
			// many jobs; the intake keeps the writer meanwhile.
			select {
			case <-time.After(p.delay):
			case <-p.stop:
			}
		}
		p.drain(ctx, true)
	}
}

// lagging reports whether the oldest unpumped commit is older than maxLag.
func (p *pump) lagging() bool {
	s := p.since.Load()
	return s != 0 && time.Since(time.Unix(0, s)) >= p.maxLag
}

// drain pumps until the outbox is empty or the store fails; with yield it
// stops early while the intake is busy and the outbox is not lagging.
func (p *pump) drain(ctx context.Context, yield bool) {
	for {
		if yield && p.busy() && !p.lagging() {
			return
		}
		n, err := p.store.PumpOutbox(ctx, p.max)
		if err != nil {
			slog.Error("submission: outbox pump failed", "err", err)
			return
		}
		if n < p.max {
			p.since.Store(0) // drained: commits from now on poke again
			return
		}
		if yield && p.busy() {
			// Lagging under a sustained peak: one batch per round (a round
			// every delay while commits poke), the intake keeps the writer
			// in between; since stays, so the next round pumps again.
			return
		}
	}
}

func (p *pump) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}
