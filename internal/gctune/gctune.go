// SPDX-License-Identifier: EUPL-1.2

// Package gctune sets the garbage collector for a long-running rathaus
// server: a larger heap target than Go's default, bounded by a soft memory
// limit. Environment variables GOGC and GOMEMLIMIT, when set, win.
//
// Why: the JSON intake allocates about 30 KiB per request (decoded answers,
// sealed bytes, SQL arguments) and keeps little of it. With GOGC=100 the
// collector ran several times a second at 5,000 submissions/s and took about
// 12 % of the CPU; with 400 the server needed ≈ 14 % less CPU per request
// (bench/RESULTS.md). The memory limit keeps a big live heap (catalog,
// search index) from growing to five times its size: near the limit the
// collector runs as often as needed.
package gctune

import (
	"os"
	"runtime/debug"
)

// Percent is the GOGC value Apply sets when GOGC is not in the environment.
const Percent = 400

// Settings reports what Apply did.
type Settings struct {
	GCPercent   int   // the GOGC in effect
	MemoryLimit int64 // the soft limit in bytes in effect (math.MaxInt64: none)
	FromEnv     bool  // GOGC or GOMEMLIMIT came from the environment
}

// Apply sets GOGC to Percent unless GOGC is set, and the soft memory limit
// to half of the memory available to the process (the cgroup's limit or
// the machine's memory) unless GOMEMLIMIT is set or nothing is known.
func Apply() Settings {
	var s Settings
	if _, ok := os.LookupEnv("GOGC"); ok {
		s.FromEnv = true
		s.GCPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(s.GCPercent)
	} else {
		debug.SetGCPercent(Percent)
		s.GCPercent = Percent
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		s.FromEnv = true
	} else if m := availableMemory(); m > 0 {
		debug.SetMemoryLimit(m / 2)
	}
	s.MemoryLimit = debug.SetMemoryLimit(-1)
	return s
}
