// SPDX-License-Identifier: EUPL-1.2

package vault_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"rathaus"
	"rathaus/vault"
)

// memStore is a KeyStore over a map, for testing the vault's own logic; the
// SQL store runs the same contract in sqlstore's conformance suite.
type memStore struct {
	mu   sync.Mutex
	keys []vault.DataKey
}

func (m *memStore) ActiveDataKey(_ context.Context, tenant string) (*vault.DataKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.Tenant == tenant && k.Active {
			return &k, nil
		}
	}
	return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no key")
}

func (m *memStore) DataKey(_ context.Context, tenant, id string) (*vault.DataKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.Tenant == tenant && k.ID == id {
			return &k, nil
		}
	}
	return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no key")
}

func (m *memStore) PutDataKey(_ context.Context, k vault.DataKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].Tenant == k.Tenant && k.Active {
			m.keys[i].Active = false
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memStore) DataKeys(context.Context) ([]vault.DataKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]vault.DataKey(nil), m.keys...), nil
}

func (m *memStore) UpdateWrapped(_ context.Context, tenant, id, master string, w []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].Tenant == tenant && m.keys[i].ID == id {
			m.keys[i].MasterID, m.keys[i].Wrapped = master, w
		}
	}
	return nil
}

func mustMaster(t *testing.T) *vault.LocalMasterKey {
	t.Helper()
	k, _, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	darmstadt = "064110000000"
	muenchen  = "091620000000"
)

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	v := vault.New(&memStore{}, mustMaster(t))
	msg := []byte("Erika Mustermann, Heidestraße 17, 51147 Köln")
	sealed, err := v.Seal(ctx, darmstadt, msg, []byte("app-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Mustermann")) {
		t.Fatal("sealed blob contains plain text")
	}
	t.Run("OK", func(t *testing.T) {
		got, err := v.Open(ctx, darmstadt, sealed, []byte("app-1"))
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		if _, err := v.Open(ctx, muenchen, sealed, []byte("app-1")); rathaus.ErrorCode(err) != rathaus.EINVALID {
			t.Fatalf("Open as other tenant: err = %v, want invalid", err)
		}
	})
	t.Run("ErrOtherAAD", func(t *testing.T) {
		if _, err := v.Open(ctx, darmstadt, sealed, []byte("app-2")); rathaus.ErrorCode(err) != rathaus.EINVALID {
			t.Fatalf("Open with other aad: err = %v, want invalid", err)
		}
	})
	t.Run("ErrAltered", func(t *testing.T) {
		for _, i := range []int{0, 1, 5, len(sealed) - 1} {
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x40
			if _, err := v.Open(ctx, darmstadt, bad, []byte("app-1")); rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("Open of blob altered at byte %d: err = %v, want invalid", i, err)
			}
		}
		for _, n := range []int{0, 1, 2, len(sealed) - 1} {
			if _, err := v.Open(ctx, darmstadt, sealed[:n], []byte("app-1")); rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("Open of blob truncated to %d bytes: err = %v, want invalid", n, err)
			}
		}
	})
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	m1 := mustMaster(t)
	v := vault.New(store, m1)
	old, err := v.Seal(ctx, darmstadt, []byte("vorher"), nil)
	if err != nil {
		t.Fatal(err)
	}
	oldID, _, _ := vault.KeyIDOf(old)

	// Data-key rotation: new data uses the new key, old data stays readable.
	if _, err := v.Rotate(ctx, darmstadt); err != nil {
		t.Fatal(err)
	}
	fresh, err := v.Seal(ctx, darmstadt, []byte("nachher"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if newID, _, _ := vault.KeyIDOf(fresh); newID == oldID {
		t.Fatalf("after Rotate the blob still names key %s", oldID)
	}

	// Master-key rotation: a vault with the new master and the old one
	// re-wraps; afterwards the new master alone reads everything.
	m2 := mustMaster(t)
	v2 := vault.New(store, m2, m1)
	n, err := v2.RewrapAll(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RewrapAll = %d, %v; want 2 keys", n, err)
	}
	v3 := vault.New(store, m2)
	for blob, want := range map[*[]byte]string{&old: "vorher", &fresh: "nachher"} {
		got, err := v3.Open(ctx, darmstadt, *blob, nil)
		if err != nil || string(got) != want {
			t.Fatalf("Open after master rotation = %q, %v; want %q", got, err, want)
		}
	}
	// The old master alone can no longer unwrap the keys.
	if _, err := vault.New(store, m1).Open(ctx, darmstadt, old, nil); err == nil {
		t.Fatal("old master still opens data after RewrapAll")
	}
}

func TestParseMasterKey(t *testing.T) {
	_, text, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"OK", text, true},
		{"ErrShort", "c2hvcnQ=", false},
		{"ErrNotBase64", "!!!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vault.ParseMasterKey(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseMasterKey(%q) err = %v", tc.in, err)
			}
		})
	}
}
