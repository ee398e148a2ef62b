// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"context"
	"sync"

	"rathaus"
)

// committer is the group-commit writer: one goroutine takes the intakes of
// concurrent Submit calls from a queue, commits up to maxBatch of them in one
// transaction, and acknowledges every caller only after that commit. If the
// batch fails, each intake is committed on its own, so one bad intake
// fails alone. One fsync then covers many submissions.
type committer struct {
	store    Store
	maxBatch int
	queue    chan *pending
	done     chan struct{}

	mu     sync.RWMutex // held for reading while sending to queue
	closed bool
}

type pending struct {
	ctx context.Context
	in  *Intake
	err chan error // buffered, 1
}

func newCommitter(store Store, maxBatch int) *committer {
	c := &committer{store: store, maxBatch: maxBatch, queue: make(chan *pending, 4*maxBatch), done: make(chan struct{})}
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
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		ins = ins[:0]
		for _, p := range batch {
			ins = append(ins, p.in)
		}
		err := c.store.CreateApplications(batch[0].ctx, ins)
		if err == nil || len(batch) == 1 {
			for _, p := range batch {
				p.err <- err
			}
			continue
		}
		// The batch failed as a whole: isolate the failing intakes.
		for _, p := range batch {
			p.in.Existing = nil
			p.err <- c.store.CreateApplications(p.ctx, []*Intake{p.in})
		}
	}
}
