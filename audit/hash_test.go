// SPDX-License-Identifier: EUPL-1.2

package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// referenceHash is ComputeHash as it was first written, with encoding/json:
// the definition of the hash every stored chain was made with.
func referenceHash(e Entry) string {
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

// FuzzComputeHash: the hand-written ComputeHash gives the reference hash
// for any entry — strings with quotes, <>&, control characters, invalid
// UTF-8; details nil, empty or with several keys; any time and zone.
func FuzzComputeHash(f *testing.F) {
	f.Add(int64(1), int64(1764374400000000), "064110000000", "user-1", "application.submit", "application/019…", "reference", "DA-2026-7K3M-9QXT", "service", "99050012104000", "", 0)
	f.Add(int64(0), int64(0), "", "", "", "", "", "", "", "", "", 1)
	f.Add(int64(-5), int64(-1), "<a&b>", "\"q\"", "\x00\xff", "Jürgen\u2028", "k\n", "v\\", "k\n", "dup", "abc", 2)
	f.Fuzz(func(t *testing.T, seq, micros int64, tenant, actor, action, object, k1, v1, k2, v2, prev string, mode int) {
		e := Entry{Seq: seq, Time: time.UnixMicro(micros).In(time.FixedZone("X", 3600)), Tenant: tenant, Actor: actor,
			Action: action, Object: object, Prev: prev}
		switch mode % 3 {
		case 1:
			e.Details = map[string]string{}
		case 2:
			e.Details = map[string]string{k1: v1, k2: v2, "z": "last"}
		}
		if got, want := ComputeHash(e), referenceHash(e); got != want {
			t.Fatalf("ComputeHash(%+v) = %s, encoding/json gives %s", e, got, want)
		}
	})
}

func BenchmarkComputeHash(b *testing.B) {
	e := Entry{Seq: 123456, Time: time.Now(), Tenant: "064110000000", Actor: "anonymous", Action: "application.submit",
		Object: "application/0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b", Prev: "3f2a…",
		Details: map[string]string{"reference": "DA-2026-7K3M-9QXT", "service": "99050012104000", "form": "S00000246:1.1"}}
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			ComputeHash(e)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			referenceHash(e)
		}
	})
}
