// SPDX-License-Identifier: EUPL-1.2

// Package audit owns the append-only, hash-chained audit log: logins, imports,
// configuration changes and staff access to personal data. Each entry's hash
// covers its content and the previous entry's hash, so `rathaus audit verify`
// detects any altered, inserted or deleted entry.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Entry is one audit record.
type Entry struct {
	Seq     int64             // 1-based position in the chain
	Time    time.Time         // UTC, truncated to microseconds
	Tenant  string            // ARS the action concerns ("" for global)
	Actor   string            // user id, "system" or "cli"
	Action  string            // e.g. "login", "import.municipalities", "case.view"
	Object  string            // what was touched, e.g. "application/…"
	Details map[string]string // small, non-personal details
	Prev    string            // hex SHA-256 of the previous entry ("" for the first)
	Hash    string            // hex SHA-256 of this entry
}

// ComputeHash returns the hash of e over all fields but Hash.
func ComputeHash(e Entry) string {
	b, _ := json.Marshal(struct {
		Seq     int64
		Time    string
		Tenant  string
		Actor   string
		Action  string
		Object  string
		Details map[string]string
		Prev    string
	}{e.Seq, e.Time.UTC().Format(time.RFC3339Nano), e.Tenant, e.Actor, e.Action, e.Object, e.Details, e.Prev})
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Log appends entries and reads them back.
type Log interface {
	// Append adds an entry at the end of the chain, filling Seq, Time,
	// Prev and Hash. Appends are serialised.
	Append(ctx context.Context, e Entry) (*Entry, error)
	// Walk calls fn for every entry in order.
	Walk(ctx context.Context, fn func(Entry) error) error
}

// Header is implemented by logs that keep a head record (sequence number
// and hash of the last appended entry) apart from the entries. Verify uses it
// to detect deleted last entries, which the chain alone cannot show.
type Header interface {
	// Head returns the recorded last sequence number and hash (0, "" when empty).
	Head(ctx context.Context) (seq int64, hash string, err error)
}

// Verify walks the log and returns the first broken position (0 if the chain
// is intact) and a reason. If l is also a Header, the end of the chain must
// match the head record.
func Verify(ctx context.Context, l Log) (int64, string, error) {
	var prev string
	var want int64 = 1
	var badSeq int64
	var reason string
	err := l.Walk(ctx, func(e Entry) error {
		if badSeq != 0 {
			return nil
		}
		switch {
		case e.Seq != want:
			badSeq, reason = want, "entry missing (sequence gap)"
		case e.Prev != prev:
			badSeq, reason = e.Seq, "previous hash does not match"
		case ComputeHash(e) != e.Hash:
			badSeq, reason = e.Seq, "entry content altered"
		}
		prev = e.Hash
		want++
		return nil
	})
	if err != nil || badSeq != 0 {
		return badSeq, reason, err
	}
	h, ok := l.(Header)
	if !ok {
		return 0, "", nil
	}
	headSeq, headHash, err := h.Head(ctx)
	if err != nil {
		return 0, "", err
	}
	last := want - 1
	switch {
	case headSeq > last:
		return last + 1, "entries missing at the end of the log", nil
	case headSeq < last:
		return headSeq + 1, "entry after the recorded end of the log", nil
	case headHash != prev:
		return last, "last entry does not match the recorded head", nil
	}
	return 0, "", nil
}
