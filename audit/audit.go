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
	"strconv"
	"time"

	"rathaus/internal/jsonw"
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

// ComputeHash returns the hash of e over all fields but Hash: SHA-256 of
// the JSON that encoding/json writes for
//
//	struct{ Seq int64; Time string (RFC 3339, UTC); Tenant, Actor, Action, Object string;
//	        Details map[string]string; Prev string }
//
// written here by hand (byte-identical, see FuzzComputeHash): the intake's
// group commit computes one per application inside its writer.
func ComputeHash(e Entry) string {
	var buf [512]byte
	b := append(buf[:0], `{"Seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"Time":`...)
	b = jsonw.AppendString(b, e.Time.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"Tenant":`...)
	b = jsonw.AppendString(b, e.Tenant)
	b = append(b, `,"Actor":`...)
	b = jsonw.AppendString(b, e.Actor)
	b = append(b, `,"Action":`...)
	b = jsonw.AppendString(b, e.Action)
	b = append(b, `,"Object":`...)
	b = jsonw.AppendString(b, e.Object)
	b = append(b, `,"Details":`...)
	b = jsonw.AppendStringMap(b, e.Details)
	b = append(b, `,"Prev":`...)
	b = jsonw.AppendString(b, e.Prev)
	b = append(b, '}')
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
// is intact) and a reason. If l is also a Header, the head is read first and
// the chain must reach it with the recorded hash, so deleted last entries are
// detected; entries appended while Verify runs (after the head) are checked
// as part of the chain.
func Verify(ctx context.Context, l Log) (int64, string, error) {
	var headSeq int64
	var headHash string
	h, haveHead := l.(Header)
	if haveHead {
		var err error
		if headSeq, headHash, err = h.Head(ctx); err != nil {
			return 0, "", err
		}
	}
	var prev, atHead string
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
		if e.Seq == headSeq {
			atHead = e.Hash
		}
		prev = e.Hash
		want++
		return nil
	})
	if err != nil || badSeq != 0 || !haveHead {
		return badSeq, reason, err
	}
	last := want - 1
	switch {
	case headSeq > last:
		return last + 1, "entries missing at the end of the log", nil
	case headSeq > 0 && atHead != headHash:
		return headSeq, "entry does not match the recorded head", nil
	}
	return 0, "", nil
}
