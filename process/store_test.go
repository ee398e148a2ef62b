// SPDX-License-Identifier: EUPL-1.2

package process_test

import (
	"testing"

	"rathaus/process"
	"rathaus/process/storetest"
)

func TestMemStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) process.Store { return process.NewMemStore() })
}
