// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"rathaus/demo"
	"rathaus/internal/testenv"
)

// TestImportFIM imports the real schemas for Hessen, overrides one in
// Darmstadt, and checks the nearest binding wins and versions are kept.
func TestImportFIM(t *testing.T) {
	data := t.TempDir()
	if code, _, errs := importMain(t, data, "import", "demo"); code != 0 {
		t.Fatal(errs)
	}
	dir246 := testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1")
	dir058 := testenv.SharedData(t, "fim-schemas/xdf2/S05000058V1.0")
	code, out, errs := importMain(t, data, "import", "fim", dir246, "--service", demo.KeyWohngeld, "--tenant", demo.Hessen, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res importFIMResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.FormID != "S00000246" || res.FormVersion != "1.1" || res.Steps == 0 || res.Format != "xdf2" {
		t.Errorf("result %+v", res)
	}
	if code, _, errs := importMain(t, data, "import", "fim", dir058, "--service", demo.KeyWohngeld, "--tenant", demo.Darmstadt); code != 0 {
		t.Fatal(errs)
	}
	db := openData(t, data)
	ctx := context.Background()
	for _, tc := range []struct{ ars, want string }{
		{demo.Darmstadt, "S05000058"},
		{demo.Weiterstadt, "S00000246"},
	} {
		ref, err := db.Forms().Binding(ctx, tc.ars, demo.KeyWohngeld)
		if err != nil || ref.ID != tc.want {
			t.Errorf("Binding(%s) = %+v, %v; want %s", tc.ars, ref, err, tc.want)
			continue
		}
		m, err := db.Forms().FormFor(ctx, tc.ars, ref.ID, ref.Version)
		if err != nil || m.ID != tc.want || len(m.Steps()) == 0 {
			t.Errorf("FormFor(%s): %v", tc.ars, err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no service", []string{dir246, "--tenant", demo.Hessen}, "--service"},
		{"bad tenant", []string{dir246, "--service", demo.KeyWohngeld, "--tenant", "12"}, "--tenant"},
		{"unknown tenant", []string{dir246, "--service", demo.KeyWohngeld, "--tenant", "010000000000"}, "does not exist"},
		{"unknown service", []string{dir246, "--service", "99999999999999", "--tenant", demo.Hessen}, "not in the catalog"},
		{"not a schema", []string{t.TempDir(), "--service", demo.KeyWohngeld, "--tenant", demo.Hessen}, "kein XDatenfelder-Schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := importMain(t, data, append([]string{"import", "fim"}, tc.args...)...)
			if code == 0 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q, want %q", code, errs, tc.want)
			}
		})
	}
}
