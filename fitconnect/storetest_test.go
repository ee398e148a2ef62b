// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"path/filepath"
	"testing"

	"rathaus/fitconnect"
	"rathaus/fitconnect/storetest"
)

func TestMemStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fitconnect.DeliveryStore { return fitconnect.NewMemStore() })
}

func TestFileStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fitconnect.DeliveryStore {
		s, err := fitconnect.OpenFileStore(filepath.Join(t.TempDir(), "store.json"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
