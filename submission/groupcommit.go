// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"context"
	"sync"
	"time"

	"rathaus"
)

// committer is the group-commit writer: one goroutine takes the intakes of
// concurrent Submit calls from a queue, commits up to maxBatch of them in one
// transaction, and acknowledges every caller only after that commit. If the
// batch fails, each intake is committed on its own, so one bad intake
// fails alone. One fsync then covers many submissions.
//
// During a peak — while submissions arrive at least once per linger on
// average (rate, which the pump reads too) — it waits up to linger after
// the first submission of a batch for more to arrive before it commits
// (PostgreSQL's commit_delay idea): the fixed cost of a commit is then
// shared by more submissions. At a lower rate it commits at once. A batch
// of lingerFull is full enough: what arrived while the previous batch
// committed often is.
type committer struct {
	store    Store
	maxBatch int
	linger   time.Duration
	rate     *rateMeter // counts every submission queued
	queue    chan *pending
	done     chan struct{}

	mu     sync.RWMutex // held for reading while sending to queue
	closed bool
}

// lingerFull is the batch size from which on the committer does not wait
// for more: the fixed cost of a commit (≈ 0.5 ms CPU) is then spread thin,
// and waiting longer would only add latency.
const lingerFull = 32

type pending struct {
	ctx context.Context
	in  *Intake
	err chan error // buffered, 1
}

func newCommitter(store Store, maxBatch int, linger time.Duration, rate *rateMeter) *committer {
	c := &committer{store: store, maxBatch: maxBatch, linger: linger, rate: rate, queue: make(chan *pending, 4*maxBatch), done: make(chan struct{})}
	go c.run()
	return c
}

// submit queues in and waits for its commit. If ctx ends first, submit
// returns ctx's error; the intake may still be committed (a retry with the
// same idempotency key then returns it).
func (c *committer) submit(ctx context.Context, in *Intake) error {
	p := &pending{ctx: context.WithoutCancel(ctx), in: in, err: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return rathaus.Errorf(rathaus.EUNAVAILABLE, "Antragseingang ist geschlossen / intake is closed")
	}
	select {
	case c.queue <- p:
		c.mu.RUnlock()
		c.rate.add()
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-p.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	batch := make([]*pending, 0, c.maxBatch)
	ins := make([]*Intake, 0, c.maxBatch)
	var timer *time.Timer
	for {
		p, ok := <-c.queue
		if !ok {
			return
		}
		batch = append(batch[:0], p)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case p, ok := <-c.queue:
				if !ok {
					break fill // closed: commit this batch, then return above
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		if c.linger > 0 && len(batch) < lingerFull && c.rate.perSecond()*c.linger.Seconds() >= 1 {
			if timer == nil {
				timer = time.NewTimer(c.linger)
			} else {
				timer.Reset(c.linger)
			}
		linger:
			for len(batch) < lingerFull {
				select {
				case p, ok := <-c.queue:
					if !ok {
						break linger
					}
					batch = append(batch, p)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		ins = ins[:0]
		for _, p := range batch {
			ins = append(ins, p.in)
		}
		c.commit(batch, ins)
	}
}

// commit stores batch and answers each caller.
func (c *committer) commit(batch []*pending, ins []*Intake) {
	err := c.store.CreateApplications(batch[0].ctx, ins)
	if err == nil || len(batch) == 1 {
		for _, p := range batch {
			p.err <- err
		}
		return
	}
	// The batch failed as a whole: isolate the failing intakes.
	for _, p := range batch {
		p.in.Existing = nil
		p.err <- c.store.CreateApplications(p.ctx, []*Intake{p.in})
	}
}
