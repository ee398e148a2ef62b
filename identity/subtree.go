// SPDX-License-Identifier: EUPL-1.2

package identity

import "rathaus/tenant"

func inSubtree(root, ars string) bool { return tenant.InSubtree(root, ars) }
