// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"testing"

	"rathaus/process"
	"rathaus/process/storetest"
	"rathaus/sqlstore/sqltest"
)

// TestProcessStore runs the process.Store conformance suite against the
// SQL store on both dialects.
func TestProcessStore(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) process.Store { return sqltest.Open(t, d).Process() })
		})
		t.Run(d+"/prepared", func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) process.Store {
				s := sqltest.Open(t, d).Process()
				if err := s.Prepare(context.Background()); err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}
