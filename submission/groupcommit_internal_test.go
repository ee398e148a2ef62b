// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"context"
	"sync"
	"testing"
	"time"
)

// batchStore records the size of every batch committed through it; the
// rest of Store is not used by the committer.
type batchStore struct {
	Store
	mu    sync.Mutex
	sizes []int
}

func (b *batchStore) CreateApplications(_ context.Context, batch []*Intake) error {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(batch))
	b.mu.Unlock()
	time.Sleep(200 * time.Microsecond) // a commit takes a moment
	return nil
}

func (b *batchStore) batches() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.sizes...)
}

// TestCommitterLinger: at a low rate a submission is committed at once (no
// waiting for company); during a peak the committer waits up to linger for
// more, so batches fill — and nobody waits much longer than linger plus a
// commit for it.
func TestCommitterLinger(t *testing.T) {
	const linger = 20 * time.Millisecond
	t.Run("LowRate", func(t *testing.T) {
		st := &batchStore{}
		c := newCommitter(st, 256, linger, &rateMeter{})
		defer c.close()
		for range 5 {
			start := time.Now()
			if err := c.submit(context.Background(), &Intake{}); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took >= linger {
				t.Errorf("a lone submission took %v, want it committed without waiting the linger of %v", took, linger)
			}
			time.Sleep(3 * linger) // slower than one per linger
		}
		for _, n := range st.batches() {
			if n != 1 {
				t.Errorf("batches %v at a low rate, want one submission each", st.batches())
				break
			}
		}
	})
	t.Run("Peak", func(t *testing.T) {
		st := &batchStore{}
		c := newCommitter(st, 256, linger, &rateMeter{})
		defer c.close()
		// One submission per millisecond (20 per linger), for 400 ms.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var worst time.Duration
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for range 400 {
			<-tick.C
			wg.Go(func() {
				start := time.Now()
				if err := c.submit(context.Background(), &Intake{}); err != nil {
					t.Error(err)
				}
				mu.Lock()
				worst = max(worst, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
		sizes := st.batches()
		total := 0
		for _, n := range sizes {
			total += n
		}
		if total != 400 {
			t.Fatalf("%d submissions committed, want 400", total)
		}
		// Without lingering nearly every submission commits alone (a commit
		// takes 0.2 ms, they arrive every 1 ms).
		if avg := float64(total) / float64(len(sizes)); avg < 5 {
			t.Errorf("%d batches for 400 submissions (%.1f each) during a peak, want fuller batches: %v", len(sizes), avg, sizes)
		}
		if worst > 10*linger {
			t.Errorf("a submission waited %v, want about the linger of %v plus a commit", worst, linger)
		}
	})
	t.Run("Off", func(t *testing.T) {
		// A rate meter that reports a peak: with linger 0 nobody waits anyway.
		m := &rateMeter{rate: 1e6, lastT: time.Now().Add(time.Hour)}
		st := &batchStore{}
		c := newCommitter(st, 256, 0, m)
		defer c.close()
		for range 20 {
			start := time.Now()
			if err := c.submit(context.Background(), &Intake{}); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took >= 10*time.Millisecond {
				t.Errorf("a submission took %v without linger, want it committed at once", took)
			}
		}
		if got := len(st.batches()); got != 20 {
			t.Errorf("%d batches for 20 sequential submissions without linger, want 20", got)
		}
	})
}

// TestRateMeter: the pump's peak detector reports the commit rate, smoothed
// over about 100 ms.
func TestRateMeter(t *testing.T) {
	var m rateMeter
	if r := m.perSecond(); r != 0 {
		t.Fatalf("rate %v before any commit", r)
	}
	for range 100 {
		m.add()
	}
	time.Sleep(300 * time.Millisecond)
	r := m.perSecond()
	// 100 commits in ≥ 300 ms: at most 333/s, and at least 95/s (95 % of
	// the way there after 300 ms) unless the machine stalled for a second.
	if r < 95 || r > 334 {
		t.Errorf("rate %.0f/s after 100 commits in ~300 ms", r)
	}
	if again := m.perSecond(); again != r {
		t.Errorf("rate %.0f/s on the next call within 50 ms, want the same %.0f/s", again, r)
	}
	time.Sleep(300 * time.Millisecond)
	if idle := m.perSecond(); idle > r/10 {
		t.Errorf("rate %.0f/s after 300 ms without commits, want below a tenth of %.0f/s", idle, r)
	}
}
