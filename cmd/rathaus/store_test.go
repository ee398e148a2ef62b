// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"database/sql/driver"
	"flag"
	"io"
	"strings"
	"testing"
)

// TestStoreFlagsEnv: every command that opens the store takes
// RATHAUS_DB_GROUP_COMMIT and RATHAUS_SQLITE_STMT_CACHE from the
// environment; a bad value stops it with the reason.
func TestStoreFlagsEnv(t *testing.T) {
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wantGrouped bool
		wantCache   bool
		wantErr     string
	}{
		{"Defaults", nil, true, true, ""},
		{"GroupOff", map[string]string{"RATHAUS_DB_GROUP_COMMIT": "off"}, false, true, ""},
		{"CacheOff", map[string]string{"RATHAUS_SQLITE_STMT_CACHE": "off"}, true, false, ""},
		{"ErrGroup", map[string]string{"RATHAUS_DB_GROUP_COMMIT": "sometimes"}, false, false, "sometimes"},
		{"ErrCache", map[string]string{"RATHAUS_SQLITE_STMT_CACHE": "maybe"}, false, false, "maybe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tc.env[k] }}
			var f storeFlags
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			f.register(fs, env)
			if err := fs.Parse([]string{"--data", t.TempDir()}); err != nil {
				t.Fatal(err)
			}
			db, err := f.open(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("open: %v, want an error naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Stats().Enabled; got != tc.wantGrouped {
				t.Errorf("group commit enabled = %v, want %v", got, tc.wantGrouped)
			}
			// The statement cache wraps modernc's connection (and can
			// unwrap it); without the cache the reader pool hands out
			// modernc's own (the writer pool always wraps: it lets
			// statements in a transaction finish, see sqlstore).
			conn, err := db.Reader().Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var cached bool
			if err := conn.Raw(func(dc any) error {
				_, cached = dc.(interface{ Unwrap() driver.Conn })
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if cached != tc.wantCache {
				t.Errorf("statement cache on = %v, want %v", cached, tc.wantCache)
			}
		})
	}
}
