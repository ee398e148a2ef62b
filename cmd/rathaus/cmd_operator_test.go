// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"rathaus/identity/password"
)

func TestOperatorSetPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
			if k == "RATHAUS_DATA" {
				return dir
			}
			return ""
		}}
		code := Main(context.Background(), e, append([]string{"operator", "set-password"}, args...))
		return code, out.String(), errb.String()
	}

	code, out, errs := run("eine lange Passphrase\n", "--json", "--name", "betrieb")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct{ Name, File string }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Name != "betrieb" || res.File != filepath.Join(dir, password.FileName) {
		t.Fatalf("output %q: %v", out, err)
	}
	name, phc, err := password.ReadFile(res.File)
	if err != nil || name != "betrieb" {
		t.Fatalf("ReadFile = %q, %v", name, err)
	}
	if ok, _ := password.Verify("eine lange Passphrase", phc); !ok {
		t.Error("stored hash does not verify the password")
	}
	if code, _, errs := run("", "audit", "verify"); code != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Errorf("extra argument: %d %q", code, errs)
	}

	tests := []struct {
		name, stdin string
		args        []string
		code        int
		msg         string
	}{
		{"empty stdin", "", nil, 1, "no password"},
		{"too short", "kurz\n", nil, 1, "at least 12"},
		{"bad name", "eine lange Passphrase\n", []string{"--name", "a b"}, 2, "--name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := run(tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want %d containing %q on one line", code, errs, tt.code, tt.msg)
			}
		})
	}
}
