// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rathaus/vault"
)

func TestServeMasterKey(t *testing.T) {
	_, text, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := vault.ParseMasterKey(text)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := func(kv map[string]string) *Env { return &Env{Getenv: func(k string) string { return kv[k] }} }
	for _, tc := range []struct {
		name    string
		env     map[string]string
		demo    bool
		wantID  string // "" with wantNil
		wantNil bool
		wantErr string
	}{
		{"from RATHAUS_MASTER_KEY", map[string]string{"RATHAUS_MASTER_KEY": text}, false, want.ID(), false, ""},
		{"env wins over demo", map[string]string{"RATHAUS_MASTER_KEY": text}, true, want.ID(), false, ""},
		{"bad key", map[string]string{"RATHAUS_MASTER_KEY": "kurz"}, false, "", false, "RATHAUS_MASTER_KEY"},
		{"none outside demo", nil, false, "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mk, err := serveMasterKey(env(tc.env), dir, tc.demo, quiet)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want one naming %s", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tc.wantNil:
				if mk != nil {
					t.Errorf("key %s, want none", mk.ID())
				}
			case mk == nil || mk.ID() != tc.wantID:
				t.Errorf("key = %v, want %s", mk, tc.wantID)
			}
			if _, err := os.Stat(filepath.Join(dir, demoMasterKeyFile)); err == nil {
				t.Errorf("a key file was written although the key came from elsewhere")
			}
		})
	}
	t.Run("demo keeps its key in the data directory", func(t *testing.T) {
		dir := t.TempDir()
		first, err := serveMasterKey(env(nil), dir, true, quiet)
		if err != nil || first == nil {
			t.Fatalf("first start: %v %v", first, err)
		}
		fi, err := os.Stat(filepath.Join(dir, demoMasterKeyFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", fi, err)
		}
		again, err := serveMasterKey(env(nil), dir, true, quiet)
		if err != nil || again.ID() != first.ID() {
			t.Errorf("restart: key %v (%v), want the same as before", again, err)
		}
	})
}

// TestServeMountsMailbox: serve --demo mounts the mailbox and status
// pages; without a master key outside the demo they are off.
func TestServeMountsMailbox(t *testing.T) {
	has := func(r *running) bool {
		for _, ri := range r.Server.Routes() {
			if ri.Pattern == "GET /postfach" {
				return true
			}
		}
		return false
	}
	if r := startServe(t, map[string]string{"RATHAUS_DATA": t.TempDir()}, "--demo"); !has(r) {
		t.Error("serve --demo has no /postfach")
	}
	r := startServe(t, map[string]string{"RATHAUS_DATA": t.TempDir()})
	if has(r) {
		t.Error("serve without a master key mounts /postfach")
	}
	if !strings.Contains(r.stderr.String(), "mailbox and application status pages are off") {
		t.Errorf("no warning about the missing key:\n%s", r.stderr.String())
	}
}
