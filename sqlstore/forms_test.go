// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/form"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

// TestFormStore: versioned form definitions per tenant subtree, nearest
// binding wins (Einer für Alle), staged uploads and receipt records.
func TestFormStore(t *testing.T) {
	const (
		hessen    = "060000000000"
		darmstadt = "064110000000"
		kassel    = "066110000000"
		bayern    = "090000000000"
	)
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			fs := sqltest.Open(t, d).Forms()
			v1 := submission.UniversalForm("de")
			v1.ID, v1.Version = "S1", "1.0"
			v2 := submission.UniversalForm("de")
			v2.ID, v2.Version, v2.Title = "S1", "2.0", "Version zwei"
			for _, m := range []*form.Model{v1, v2} {
				if err := fs.PutForm(ctx, hessen, m); err != nil {
					t.Fatal(err)
				}
			}
			if err := fs.PutForm(ctx, darmstadt, v2); err != nil { // same version again elsewhere
				t.Fatal(err)
			}
			t.Run("versions", func(t *testing.T) {
				got, err := fs.FormFor(ctx, kassel, "S1", "1.0")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(v1, got); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
				if got, _ := fs.FormFor(ctx, kassel, "S1", "2.0"); got == nil || got.Title != "Version zwei" {
					t.Errorf("v2: %+v", got)
				}
				if _, err := fs.FormFor(ctx, bayern, "S1", "1.0"); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("Bayern sees Hessen's form: %v", err)
				}
			})
			t.Run("binding", func(t *testing.T) {
				must := func(err error) {
					t.Helper()
					if err != nil {
						t.Fatal(err)
					}
				}
				must(fs.Bind(ctx, hessen, "99", "S1", "1.0"))
				must(fs.Bind(ctx, darmstadt, "99", "S1", "2.0"))
				for _, tc := range []struct{ ars, want string }{
					{kassel, "060000000000 S1 1.0"},
					{darmstadt, "064110000000 S1 2.0"},
					{bayern, ""},
				} {
					ref, err := fs.Binding(ctx, tc.ars, "99")
					got := ""
					if err == nil {
						got = ref.Tenant + " " + ref.ID + " " + ref.Version
					} else if rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
						t.Fatal(err)
					}
					if got != tc.want {
						t.Errorf("Binding(%s) = %q, want %q", tc.ars, got, tc.want)
					}
				}
				must(fs.Bind(ctx, hessen, "99", "S1", "2.0")) // rebind replaces
				if ref, _ := fs.Binding(ctx, kassel, "99"); ref.Version != "2.0" {
					t.Errorf("rebind: %+v", ref)
				}
			})
			t.Run("uploads", func(t *testing.T) {
				u := &submission.StagedUpload{Tenant: darmstadt, DraftID: "d1", ID: "u1", FieldPath: "a[0].b", Filename: "x.pdf",
					MediaType: "application/pdf", Size: 3, SHA256: "ab", Sealed: []byte{1, 2, 3}, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
				if err := fs.PutUpload(ctx, u); err != nil {
					t.Fatal(err)
				}
				got, err := fs.Uploads(ctx, darmstadt, "d1")
				if err != nil || len(got) != 1 || got[0].Filename != "x.pdf" || string(got[0].Sealed) != "\x01\x02\x03" {
					t.Fatalf("Uploads = %+v, %v", got, err)
				}
				if got, _ := fs.Uploads(ctx, kassel, "d1"); len(got) != 0 {
					t.Errorf("other tenant sees uploads")
				}
				// The draft d1 does not exist: the upload is an orphan.
				if n, err := fs.PurgeUploads(ctx); err != nil || n != 1 {
					t.Errorf("PurgeUploads = %d, %v; want 1", n, err)
				}
				if err := fs.PutUpload(ctx, u); err != nil {
					t.Fatal(err)
				}
				_ = fs.DeleteUpload(ctx, darmstadt, "d1", "u1")
				if got, _ := fs.Uploads(ctx, darmstadt, "d1"); len(got) != 0 {
					t.Errorf("not deleted")
				}
			})
			t.Run("receipts", func(t *testing.T) {
				if err := fs.PutReceipt(ctx, darmstadt, "app1", "key1", "h1"); err != nil {
					t.Fatal(err)
				}
				if err := fs.PutReceipt(ctx, darmstadt, "app1", "key1", "h2"); err != nil {
					t.Fatal(err)
				}
				if id, err := fs.ReceiptByKey(ctx, darmstadt, "key1"); err != nil || id != "app1" {
					t.Errorf("ReceiptByKey = %q %v", id, err)
				}
				if _, err := fs.ReceiptByKey(ctx, kassel, "key1"); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("other tenant: %v", err)
				}
				if h, _ := fs.ReceiptToken(ctx, darmstadt, "app1"); h != "h1" { // first wins
					t.Errorf("token hash %q", h)
				}
			})
		})
	}
}
