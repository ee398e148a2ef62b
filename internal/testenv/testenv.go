// SPDX-License-Identifier: EUPL-1.2

// Package testenv finds what tests need from outside the repository: the
// shared real data (../shared/data beside the repository, or
// RATHAUS_SHARED_DATA), a PostgreSQL server (RATHAUS_TEST_POSTGRES_URL) and
// Chromium (RATHAUS_TEST_CHROMIUM or /usr/bin/chromium). A test that lacks one
// skips with a message that says what it needs; CI provides all three.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// SharedData returns the absolute path of rel inside the shared data folder
// and skips the test when it is not there.
func SharedData(tb testing.TB, rel string) string {
	tb.Helper()
	base := os.Getenv("RATHAUS_SHARED_DATA")
	if base == "" {
		base = filepath.Join(RepoRoot(tb), "..", "shared", "data")
	}
	p := filepath.Join(base, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("RATHAUS_REQUIRE_ALL") != "" {
			tb.Fatalf("needs the shared data file %s (set RATHAUS_SHARED_DATA): %v", p, err)
		}
		tb.Skipf("needs the shared data file %s (set RATHAUS_SHARED_DATA to the shared/data folder)", p)
	}
	return p
}

// PostgresURL returns the URL of a PostgreSQL server for tests, or skips.
// Each test should create its own database or schema on it.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("RATHAUS_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("RATHAUS_REQUIRE_ALL") != "" {
			tb.Fatal("needs PostgreSQL: RATHAUS_TEST_POSTGRES_URL is not set")
		}
		tb.Skip("needs PostgreSQL: set RATHAUS_TEST_POSTGRES_URL=postgres://user@127.0.0.1:PORT/postgres?sslmode=disable (.ci/run starts one)")
	}
	return u
}

// Chromium returns the path of a Chromium binary for browser tests, or skips.
func Chromium(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("RATHAUS_TEST_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("RATHAUS_REQUIRE_ALL") != "" {
			tb.Fatalf("needs Chromium at %s", p)
		}
		tb.Skipf("needs Chromium at %s (apt-get install chromium, or set RATHAUS_TEST_CHROMIUM)", p)
	}
	return p
}
