// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"rathaus/submission"
)

// BenchmarkSubmit measures durable intake (validate, seal answers and one
// attachment, commit with audit entry and two jobs) from many goroutines:
// with group commit (the default) and, for comparison, one transaction per
// submission, on SQLite and PostgreSQL.
func BenchmarkSubmit(b *testing.B) {
	for _, tc := range []struct {
		name, dialect string
		mode          int
	}{
		{"sqlite/group", "sqlite", submission.GroupAuto},
		{"sqlite/single", "sqlite", submission.GroupOff},
		{"postgres/single", "postgres", submission.GroupOff},
		{"postgres/group", "postgres", submission.GroupOn},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b, tc.dialect, submission.Options{GroupCommit: tc.mode})
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.svc.Submit(ctx, request(darmstadt, fmt.Sprint("b", n.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
