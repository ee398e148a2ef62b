// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"testing"

	"rathaus/fitconnect"
	"rathaus/fitconnect/storetest"
	"rathaus/sqlstore/sqltest"
)

// TestFITConnectStoreConformance runs the DeliveryStore suite on both
// dialects.
func TestFITConnectStoreConformance(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) fitconnect.DeliveryStore { return sqltest.Open(t, dialect).FITConnectStore() })
		})
	}
}
