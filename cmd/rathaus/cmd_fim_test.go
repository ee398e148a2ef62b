// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus/internal/testenv"
)

func runFIM(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	return Main(context.Background(), e, args), out.String(), errb.String()
}

func TestFIMInspect(t *testing.T) {
	tests := []struct {
		rel  string
		want map[string]any
	}{
		{"fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml", map[string]any{
			"id": "S00000246", "version": "1.1", "format": "xdf2", "fields": 59.0, "groups": 34.0,
			"rules": 34.0, "rules_recognised": 32.0, "codelists": 7.0}},
		{"fim-schemas/xdf2/S05000058V1.0", map[string]any{ // a directory
			"id": "S05000058", "version": "1.0", "format": "xdf2", "fields": 31.0, "groups": 8.0,
			"rules": 2.0, "rules_recognised": 2.0, "codelists": 6.0}},
		{"fim-schemas/xdf2/S00000009/S00000009_xdatenfelder.xml", map[string]any{
			"id": "S00000009", "version": "", "format": "xdf2", "fields": 53.0, "groups": 26.0,
			"rules": 0.0, "rules_recognised": 0.0, "codelists": 0.0}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.rel), func(t *testing.T) {
			code, out, errs := runFIM("fim", "inspect", testenv.SharedData(t, tt.rel), "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			for _, k := range []string{"name", "warnings"} {
				if _, ok := got[k]; !ok {
					t.Errorf("output lacks %q", k)
				}
			}
			sub := map[string]any{}
			for k := range tt.want {
				sub[k] = got[k]
			}
			if diff := cmp.Diff(tt.want, sub); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		code, out, _ := runFIM("fim", "inspect", testenv.SharedData(t, "fim-schemas/xdf2/S00000094V1.0/S00000094V1.0_xdf2.xml"))
		if code != 0 || !strings.Contains(out, "S00000094 1.0") || !strings.Contains(out, "13 (13 als Bedingung erkannt") {
			t.Errorf("exit %d: %s", code, out)
		}
	})
	t.Run("v1 refused", func(t *testing.T) {
		code, _, errs := runFIM("fim", "inspect", testenv.SharedData(t, "fim-schemas/xdf1/S00000036/S00000036_xdf1_WaBeKa.xml"), "--json")
		if code != 1 || !strings.Contains(errs, "XDatenfelder 1 wird nicht unterstützt") || strings.Count(errs, "\n") != 1 {
			t.Errorf("exit %d: %q", code, errs)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if code, _, _ := runFIM("fim", "inspect"); code != 2 {
			t.Errorf("no FILE: exit %d", code)
		}
		if code, _, errs := runFIM("fim", "inspect", "/nonexistent.xml"); code != 1 || !strings.Contains(errs, "cannot read") {
			t.Errorf("missing file: exit %d %q", code, errs)
		}
	})
}

func TestFIMJSONSchema(t *testing.T) {
	code, out, errs := runFIM("fim", "jsonschema", filepath.Join(testenv.RepoRoot(t), "fim", "testdata", "v3-antrag.xml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	props, _ := s["properties"].(map[string]any)
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["$id"] != "urn:rathaus:form:S99000000001:1.0.0" ||
		props["F99000000001"] == nil || props["G99000000001"] == nil || props["F99000000010"] != nil {
		t.Errorf("schema = %s", out)
	}
}
