// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// rateMeter measures the submissions per second, for the group commit's
// linger and the outbox pump's peak.
type rateMeter struct {
	n     atomic.Uint64
	mu    sync.Mutex
	lastN uint64
	lastT time.Time
	rate  float64
}

func (m *rateMeter) add() { m.n.Add(1) }

// perSecond returns the commit rate, smoothed: a measurement at least
// 50 ms after the previous one moves the rate towards the rate of that
// window with a time constant of 100 ms (a peak is seen within ≈ 50 ms of
// its start; one empty window in a peak — a scheduling hiccup — does not
// end it; after a second of silence the old rate is forgotten).
func (m *rateMeter) perSecond() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if d := now.Sub(m.lastT); d >= 50*time.Millisecond {
		n := m.n.Load()
		if !m.lastT.IsZero() {
			r := float64(n-m.lastN) / d.Seconds()
			m.rate += (1 - math.Exp(-d.Seconds()/0.1)) * (r - m.rate)
		}
		m.lastN, m.lastT = n, now
	}
	return m.rate
}
