// SPDX-License-Identifier: EUPL-1.2

package tenant

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidARS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"064110000000", true},
		{Bund, true},
		{"06411000000", false},   // 11 digits
		{"0641100000000", false}, // 13 digits
		{"06411000000a", false},
		{"０64110000000", false}, // full-width digit
		{"", false},
	} {
		if got := ValidARS(tc.in); got != tc.want {
			t.Errorf("ValidARS(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestLineage(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"Gemeinde in Verband", "064320001001", []string{"064320001001", "064320001000", "064320000000", "064000000000", "060000000000", Bund}},
		{"kreisfreie Stadt", "064110000000", []string{"064110000000", "064000000000", "060000000000", Bund}},
		{"Land without RB", "010020000000", []string{"010020000000", "010000000000", Bund}},
		{"Bayern with RB", "091620000000", []string{"091620000000", "091000000000", "090000000000", Bund}},
		{"Stadtstaat", "020000000000", []string{"020000000000", Bund}},
		{"Bund", Bund, []string{Bund}},
		{"invalid", "0641", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Lineage(tc.in)); diff != "" {
				t.Errorf("Lineage(%s) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestInSubtree(t *testing.T) {
	const gemA, gemB = "064320001001", "064320001002"
	for _, tc := range []struct {
		name, root, ars string
		want            bool
	}{
		{"itself", gemA, gemA, true},
		{"Land covers its Gemeinde", "060000000000", gemA, true},
		{"Kreis covers its Gemeinde", "064320000000", gemB, true},
		{"Bund covers all", Bund, gemA, true},
		{"Gemeinde A never covers B", gemA, gemB, false},
		{"Gemeinde never covers its Kreis", gemA, "064320000000", false},
		{"other Land", "090000000000", gemA, false},
		{"prefix is not ancestry", "064320001000", "064320001001", true},
		{"sibling Verband", "064320002000", gemA, false},
		{"invalid ars", Bund, "x", false},
		{"empty root", "", gemA, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := InSubtree(tc.root, tc.ars); got != tc.want {
				t.Errorf("InSubtree(%q, %q) = %v, want %v", tc.root, tc.ars, got, tc.want)
			}
		})
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if got := FromContext(ctx); got != "" {
		t.Errorf("empty context carries %q", got)
	}
	if got := FromContext(NewContext(ctx, "064110000000")); got != "064110000000" {
		t.Errorf("FromContext = %q", got)
	}
}

// FuzzLineage checks that every lineage starts at the node, ends at Bund,
// holds only valid, distinct keys and is closed under InSubtree.
func FuzzLineage(f *testing.F) {
	for _, s := range []string{"064320001001", Bund, "020000000000", "999999999999", "12345", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ars string) {
		lin := Lineage(ars)
		if !ValidARS(ars) {
			if lin != nil {
				t.Fatalf("Lineage(%q) = %v for an invalid key", ars, lin)
			}
			return
		}
		if lin[0] != ars || lin[len(lin)-1] != Bund {
			t.Fatalf("Lineage(%q) = %v", ars, lin)
		}
		seen := map[string]bool{}
		for _, a := range lin {
			if !ValidARS(a) || seen[a] || !InSubtree(a, ars) {
				t.Fatalf("Lineage(%q) = %v: bad entry %q", ars, lin, a)
			}
			seen[a] = true
		}
	})
}
