// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"rathaus"
	"rathaus/sqlstore/sqltest"
	"rathaus/vault"
)

// TestVaultKeyStore runs the vault's contract over the SQL KeyStore on both
// dialects: seal/open, tenant separation, data-key rotation, master-key
// rotation, one active key per tenant (also under a race).
func TestVaultKeyStore(t *testing.T) {
	const a, b = "064110000000", "091620000000"
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ks := db.VaultKeys()
			ctx := context.Background()
			m1, _, _ := vault.GenerateMasterKey()
			v := vault.New(ks, m1)

			t.Run("ErrNoKey", func(t *testing.T) {
				if _, err := ks.ActiveDataKey(ctx, a); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("ActiveDataKey of empty store = %v", err)
				}
				if _, err := ks.DataKey(ctx, a, "dk-x"); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("DataKey = %v", err)
				}
				if err := ks.UpdateWrapped(ctx, a, "dk-x", "m", []byte{1}); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("UpdateWrapped of missing key = %v", err)
				}
			})

			// Concurrent first Seal of one tenant: every call succeeds, one key is active.
			var wg sync.WaitGroup
			sealed := make([][]byte, 8)
			errs := make([]error, 8)
			for i := range sealed {
				wg.Go(func() { sealed[i], errs[i] = v.Seal(ctx, a, []byte("Grüße aus Darmstadt"), []byte("app-1")) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("concurrent Seal %d: %v", i, err)
				}
			}
			keys, err := ks.DataKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			active := 0
			for _, k := range keys {
				if k.Active {
					active++
				}
			}
			if active != 1 {
				t.Fatalf("%d active keys after concurrent first seals, want 1", active)
			}
			for i, s := range sealed {
				if got, err := v.Open(ctx, a, s, []byte("app-1")); err != nil || string(got) != "Grüße aus Darmstadt" {
					t.Fatalf("Open %d = %q, %v", i, got, err)
				}
			}
			t.Run("ErrOtherTenant", func(t *testing.T) {
				if _, err := v.Open(ctx, b, sealed[0], []byte("app-1")); rathaus.ErrorCode(err) != rathaus.EINVALID {
					t.Errorf("Open as other tenant = %v, want invalid", err)
				}
			})
			t.Run("RoundTrip", func(t *testing.T) {
				k, err := ks.ActiveDataKey(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				again, err := ks.DataKey(ctx, a, k.ID)
				if err != nil || again.MasterID != m1.ID() || !bytes.Equal(again.Wrapped, k.Wrapped) || !again.Active || again.CreatedAt.IsZero() {
					t.Errorf("DataKey = %+v, %v", again, err)
				}
			})
			t.Run("ErrSecondActiveKey", func(t *testing.T) {
				// Bypassing PutDataKey's deactivation: the database refuses a second active key.
				_, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO vault_data_keys (tenant, id, master_id, wrapped, active, created_at) VALUES (?, 'dk-dup', 'm', ?, 1, 1)`), a, []byte{1})
				if err == nil {
					t.Error("a second active key was accepted")
				}
			})
			t.Run("Rotation", func(t *testing.T) {
				old := sealed[0]
				if _, err := v.Rotate(ctx, a); err != nil {
					t.Fatal(err)
				}
				fresh, err := v.Seal(ctx, a, []byte("nachher"), nil)
				if err != nil {
					t.Fatal(err)
				}
				oldID, _, _ := vault.KeyIDOf(old)
				if newID, _, _ := vault.KeyIDOf(fresh); newID == oldID {
					t.Error("Rotate did not change the active key")
				}
				if _, err := v.Seal(ctx, b, []byte("München"), nil); err != nil {
					t.Fatal(err)
				}
				m2, _, _ := vault.GenerateMasterKey()
				n, err := vault.New(ks, m2, m1).RewrapAll(ctx)
				if err != nil || n < 3 {
					t.Fatalf("RewrapAll = %d, %v; want >= 3", n, err)
				}
				v2 := vault.New(ks, m2)
				if got, err := v2.Open(ctx, a, old, []byte("app-1")); err != nil || string(got) != "Grüße aus Darmstadt" {
					t.Errorf("Open after master rotation = %q, %v", got, err)
				}
				if _, err := vault.New(ks, m1).Open(ctx, a, fresh, nil); err == nil {
					t.Error("retired master key still opens data")
				}
			})
			t.Run("PutInactive", func(t *testing.T) {
				err := ks.PutDataKey(ctx, vault.DataKey{Tenant: b, ID: "dk-archived", MasterID: "m", Wrapped: []byte{1}, CreatedAt: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				if k, err := ks.ActiveDataKey(ctx, b); err != nil || k.ID == "dk-archived" {
					t.Errorf("an inactive put changed the active key: %+v, %v", k, err)
				}
			})
		})
	}
}
