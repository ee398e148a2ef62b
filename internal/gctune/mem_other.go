// SPDX-License-Identifier: EUPL-1.2

//go:build !linux

package gctune

// availableMemory is unknown outside Linux: no memory limit is set.
func availableMemory() int64 { return 0 }
