// SPDX-License-Identifier: EUPL-1.2

package audit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// sliceLog is an in-memory Log; with head set it is also a Header.
type sliceLog struct{ es []Entry }

func (l *sliceLog) Append(_ context.Context, e Entry) (*Entry, error) {
	e.Seq = int64(len(l.es)) + 1
	e.Time = time.Date(2026, 11, 28, 9, 0, int(e.Seq), 1000, time.UTC)
	if len(l.es) > 0 {
		e.Prev = l.es[len(l.es)-1].Hash
	}
	e.Hash = ComputeHash(e)
	l.es = append(l.es, e)
	return &e, nil
}

func (l *sliceLog) Walk(_ context.Context, fn func(Entry) error) error {
	for _, e := range l.es {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

type headLog struct {
	*sliceLog
	seq  int64
	hash string
}

func (h headLog) Head(context.Context) (int64, string, error) { return h.seq, h.hash, nil }

func fill(t *testing.T, n int) *sliceLog {
	t.Helper()
	l := &sliceLog{}
	for i := 1; i <= n; i++ {
		if _, err := l.Append(context.Background(), Entry{Actor: "cli", Action: "test", Object: fmt.Sprint("obj/", i), Details: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  func(l *sliceLog)
		wantSeq int64
	}{
		{"Intact", func(*sliceLog) {}, 0},
		{"AlteredActor", func(l *sliceLog) { l.es[2].Actor = "mallory" }, 3},
		{"AlteredDetails", func(l *sliceLog) { l.es[1].Details = map[string]string{"n": "9"} }, 2},
		{"AlteredTime", func(l *sliceLog) { l.es[0].Time = l.es[0].Time.Add(time.Microsecond) }, 1},
		{"RehashedEntry", func(l *sliceLog) { l.es[1].Object = "x"; l.es[1].Hash = ComputeHash(l.es[1]) }, 3},
		{"DeletedMiddle", func(l *sliceLog) { l.es = append(l.es[:1], l.es[2:]...) }, 2},
		{"DeletedFirst", func(l *sliceLog) { l.es = l.es[1:] }, 1},
		{"Swapped", func(l *sliceLog) { l.es[1], l.es[2] = l.es[2], l.es[1] }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := fill(t, 4)
			tc.tamper(l)
			seq, reason, err := Verify(context.Background(), l)
			if err != nil {
				t.Fatal(err)
			}
			if seq != tc.wantSeq || (seq != 0) != (reason != "") {
				t.Errorf("Verify = %d %q, want %d", seq, reason, tc.wantSeq)
			}
		})
	}
}

func TestVerifyWithHead(t *testing.T) {
	ctx := context.Background()
	l := fill(t, 4)
	head := headLog{sliceLog: l, seq: 4, hash: l.es[3].Hash}
	if seq, reason, _ := Verify(ctx, head); seq != 0 {
		t.Fatalf("intact log with head: %d %s", seq, reason)
	}
	t.Run("TruncatedTail", func(t *testing.T) {
		cut := headLog{sliceLog: &sliceLog{es: l.es[:2]}, seq: 4, hash: l.es[3].Hash}
		if seq, _, _ := Verify(ctx, cut); seq != 3 {
			t.Errorf("Verify after deleting the last two entries = %d, want 3", seq)
		}
		if seq, _, _ := Verify(ctx, cut.sliceLog); seq != 0 {
			t.Errorf("without a head the truncation is invisible, got %d (test premise)", seq)
		}
	})
	t.Run("TailReplaced", func(t *testing.T) {
		forged := &sliceLog{es: append([]Entry(nil), l.es[:3]...)}
		forged.Append(ctx, Entry{Actor: "mallory", Action: "test"})
		if seq, _, _ := Verify(ctx, headLog{sliceLog: forged, seq: 4, hash: l.es[3].Hash}); seq != 4 {
			t.Errorf("Verify after replacing the last entry = %d, want 4", seq)
		}
	})
	t.Run("AppendedAfterHead", func(t *testing.T) {
		grown := &sliceLog{es: append([]Entry(nil), l.es...)}
		grown.Append(ctx, Entry{Actor: "cli", Action: "later"})
		if seq, reason, _ := Verify(ctx, headLog{sliceLog: grown, seq: 4, hash: l.es[3].Hash}); seq != 0 {
			t.Errorf("entries appended after the head was read: %d %s", seq, reason)
		}
	})
	t.Run("WalkError", func(t *testing.T) {
		boom := errors.New("disk gone")
		if _, _, err := Verify(ctx, failingLog{boom}); !errors.Is(err, boom) {
			t.Errorf("Verify error = %v, want %v", err, boom)
		}
	})
}

type failingLog struct{ err error }

func (f failingLog) Append(context.Context, Entry) (*Entry, error) { return nil, f.err }
func (f failingLog) Walk(context.Context, func(Entry) error) error { return f.err }

func TestComputeHashCoversEveryField(t *testing.T) {
	base := Entry{Seq: 1, Time: time.Unix(1, 0), Tenant: "t", Actor: "a", Action: "x", Object: "o", Details: map[string]string{"k": "v"}, Prev: "p"}
	h := ComputeHash(base)
	for name, mut := range map[string]func(*Entry){
		"Seq":     func(e *Entry) { e.Seq++ },
		"Time":    func(e *Entry) { e.Time = e.Time.Add(time.Microsecond) },
		"Tenant":  func(e *Entry) { e.Tenant += "x" },
		"Actor":   func(e *Entry) { e.Actor += "x" },
		"Action":  func(e *Entry) { e.Action += "x" },
		"Object":  func(e *Entry) { e.Object += "x" },
		"Details": func(e *Entry) { e.Details = map[string]string{"k": "w"} },
		"Prev":    func(e *Entry) { e.Prev += "x" },
	} {
		e := base
		mut(&e)
		if ComputeHash(e) == h {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
	e := base
	e.Hash = "anything"
	if ComputeHash(e) != h {
		t.Error("the hash depends on the Hash field")
	}
}
