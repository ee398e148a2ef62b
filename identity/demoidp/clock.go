// SPDX-License-Identifier: EUPL-1.2

package demoidp

import "time"

// timeNow is the provider's clock.
var timeNow = time.Now
