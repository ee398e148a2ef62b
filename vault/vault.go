// SPDX-License-Identifier: EUPL-1.2

// Package vault encrypts personal data at rest with envelope encryption:
// every tenant has data keys (AES-256-GCM) that are stored only wrapped by a
// master key. A sealed blob names the data key it was sealed with, so keys
// rotate without downtime: new data is sealed with the tenant's active key,
// old data stays readable with the key it names until it is re-sealed.
// Rotating the master key re-wraps the data keys and never touches the data.
//
// The primitives are the standard library's (crypto/aes, crypto/cipher GCM,
// crypto/rand); this package only arranges them.
package vault

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"rathaus"
)

// format version of a sealed blob.
const version = 1

// MasterKey wraps and unwraps data keys. The local implementation holds an
// AES-256 key from the configuration; an HSM or KMS can implement the same.
type MasterKey interface {
	// ID names the master key (stored next to each wrapped data key).
	ID() string
	// Wrap encrypts a data key; aad binds it to its tenant and id.
	Wrap(key, aad []byte) ([]byte, error)
	// Unwrap decrypts a wrapped data key.
	Unwrap(wrapped, aad []byte) ([]byte, error)
}

// DataKey is a tenant's data key as stored: wrapped, never in plain text.
type DataKey struct {
	Tenant    string
	ID        string
	MasterID  string
	Wrapped   []byte
	Active    bool
	CreatedAt time.Time
}

// KeyStore keeps the wrapped data keys.
type KeyStore interface {
	// ActiveDataKey returns the tenant's active key. Returns ENOTFOUND if
	// the tenant has none yet.
	ActiveDataKey(ctx context.Context, tenant string) (*DataKey, error)
	// DataKey returns a key by id. Returns ENOTFOUND.
	DataKey(ctx context.Context, tenant, id string) (*DataKey, error)
	// PutDataKey stores a key; with k.Active it becomes the tenant's only
	// active key (the previous active key stays readable). Returns
	// ECONFLICT if another node made a key active concurrently.
	PutDataKey(ctx context.Context, k DataKey) error
	// DataKeys lists every key of every tenant (for master-key rotation).
	DataKeys(ctx context.Context) ([]DataKey, error)
	// UpdateWrapped replaces the wrapping of a key (master-key rotation).
	UpdateWrapped(ctx context.Context, tenant, id, masterID string, wrapped []byte) error
}

// LocalMasterKey is an AES-256-GCM master key held in memory.
type LocalMasterKey struct {
	id   string
	aead cipher.AEAD
}

// NewLocalMasterKey returns a master key from 32 raw bytes. Its ID is derived
// from the key (first 8 bytes of SHA-256 over a label and the key), so that a
// wrong key is recognised before any decryption is tried.
func NewLocalMasterKey(key []byte) (*LocalMasterKey, error) {
	if len(key) != 32 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "master key must be 32 bytes (AES-256), got %d", len(key))
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("rathaus-master-key-id\x00"), key...))
	return &LocalMasterKey{id: "mk-" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// ParseMasterKey decodes a base64 (std or URL, padded or not) 32-byte key, as
// given in RATHAUS_MASTER_KEY.
func ParseMasterKey(s string) (*LocalMasterKey, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return NewLocalMasterKey(b)
		}
	}
	return nil, rathaus.Errorf(rathaus.EINVALID, "master key is not base64")
}

// GenerateMasterKey returns a fresh random master key and its base64 text.
func GenerateMasterKey() (*LocalMasterKey, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", err
	}
	k, err := NewLocalMasterKey(b)
	return k, base64.StdEncoding.EncodeToString(b), err
}

// ID implements MasterKey.
func (m *LocalMasterKey) ID() string { return m.id }

// Wrap implements MasterKey.
func (m *LocalMasterKey) Wrap(key, aad []byte) ([]byte, error) { return seal(m.aead, key, aad) }

// Unwrap implements MasterKey.
func (m *LocalMasterKey) Unwrap(wrapped, aad []byte) ([]byte, error) {
	return open(m.aead, wrapped, aad)
}

// Vault seals and opens tenant data.
type Vault struct {
	masters map[string]MasterKey // by id; current is used for new keys
	current MasterKey
	store   KeyStore

	mu    sync.RWMutex
	cache map[string]cipher.AEAD // tenant + "/" + key id → unwrapped key
}

// New returns a vault. current wraps new data keys; older master keys may be
// given so that keys wrapped by them stay readable during a rotation.
func New(store KeyStore, current MasterKey, older ...MasterKey) *Vault {
	v := &Vault{masters: map[string]MasterKey{current.ID(): current}, current: current, store: store, cache: map[string]cipher.AEAD{}}
	for _, m := range older {
		v.masters[m.ID()] = m
	}
	return v
}

// Seal encrypts plaintext for tenant with its active data key (creating the
// first one on demand). aad (e.g. the application id) is authenticated but
// not encrypted; Open must be given the same aad.
func (v *Vault) Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error) {
	dk, err := v.store.ActiveDataKey(ctx, tenant)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		if dk, err = v.Rotate(ctx, tenant); rathaus.ErrorCode(err) == rathaus.ECONFLICT {
			dk, err = v.store.ActiveDataKey(ctx, tenant) // another node won the race
		}
	}
	if err != nil {
		return nil, fmt.Errorf("vault.Seal: %w", err)
	}
	aead, err := v.aead(dk)
	if err != nil {
		return nil, err
	}
	ct, err := seal(aead, plaintext, blobAAD(tenant, dk.ID, aad))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteByte(version)
	b.WriteByte(byte(len(dk.ID)))
	b.WriteString(dk.ID)
	b.Write(ct)
	return b.Bytes(), nil
}

// Open decrypts a blob sealed by Seal for the same tenant and aad. A blob of
// another tenant, a changed aad or any altered byte gives EINVALID.
func (v *Vault) Open(ctx context.Context, tenant string, sealed, aad []byte) ([]byte, error) {
	id, ct, err := KeyIDOf(sealed)
	if err != nil {
		return nil, err
	}
	dk, err := v.store.DataKey(ctx, tenant, id)
	if err != nil {
		if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
			return nil, rathaus.Errorf(rathaus.EINVALID, "sealed data names a key this tenant does not have")
		}
		return nil, fmt.Errorf("vault.Open: %w", err)
	}
	aead, err := v.aead(dk)
	if err != nil {
		return nil, err
	}
	pt, err := open(aead, ct, blobAAD(tenant, id, aad))
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "sealed data cannot be opened (altered, or of another tenant)")
	}
	return pt, nil
}

// KeyIDOf returns the data key id a sealed blob names and the ciphertext.
func KeyIDOf(sealed []byte) (string, []byte, error) {
	if len(sealed) < 2 || sealed[0] != version || len(sealed) < 2+int(sealed[1]) {
		return "", nil, rathaus.Errorf(rathaus.EINVALID, "not a sealed blob of version %d", version)
	}
	n := int(sealed[1])
	return string(sealed[2 : 2+n]), sealed[2+n:], nil
}

// Rotate creates a new active data key for tenant. Data sealed before stays
// readable; re-seal it in the background to retire the old key.
func (v *Vault) Rotate(ctx context.Context, tenant string) (*DataKey, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return nil, err
	}
	id := "dk-" + hex.EncodeToString(idb)
	wrapped, err := v.current.Wrap(raw, keyAAD(tenant, id))
	if err != nil {
		return nil, err
	}
	dk := DataKey{Tenant: tenant, ID: id, MasterID: v.current.ID(), Wrapped: wrapped, Active: true, CreatedAt: time.Now().UTC()}
	if err := v.store.PutDataKey(ctx, dk); err != nil {
		return nil, fmt.Errorf("vault.Rotate: %w", err)
	}
	return &dk, nil
}

// RewrapAll re-wraps every data key not yet wrapped by the current master key
// (master-key rotation). It is safe to run while the vault is in use and to
// run again after an interruption. It returns the number of keys re-wrapped.
func (v *Vault) RewrapAll(ctx context.Context) (int, error) {
	keys, err := v.store.DataKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, dk := range keys {
		if dk.MasterID == v.current.ID() {
			continue
		}
		m, ok := v.masters[dk.MasterID]
		if !ok {
			return n, rathaus.Errorf(rathaus.EINVALID, "data key %s/%s is wrapped by unknown master key %s", dk.Tenant, dk.ID, dk.MasterID)
		}
		raw, err := m.Unwrap(dk.Wrapped, keyAAD(dk.Tenant, dk.ID))
		if err != nil {
			return n, rathaus.Wrap(rathaus.EINVALID, err, "data key %s/%s cannot be unwrapped", dk.Tenant, dk.ID)
		}
		w, err := v.current.Wrap(raw, keyAAD(dk.Tenant, dk.ID))
		if err != nil {
			return n, err
		}
		if err := v.store.UpdateWrapped(ctx, dk.Tenant, dk.ID, v.current.ID(), w); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (v *Vault) aead(dk *DataKey) (cipher.AEAD, error) {
	ck := dk.Tenant + "/" + dk.ID
	v.mu.RLock()
	a, ok := v.cache[ck]
	v.mu.RUnlock()
	if ok {
		return a, nil
	}
	m, ok := v.masters[dk.MasterID]
	if !ok {
		return nil, rathaus.Errorf(rathaus.EUNAVAILABLE, "data key %s is wrapped by master key %s, which is not configured", dk.ID, dk.MasterID)
	}
	raw, err := m.Unwrap(dk.Wrapped, keyAAD(dk.Tenant, dk.ID))
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "data key cannot be unwrapped")
	}
	a, err = newGCM(raw)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.cache[ck] = a
	v.mu.Unlock()
	return a, nil
}

func keyAAD(tenant, id string) []byte { return []byte("rathaus-dk\x00" + tenant + "\x00" + id) }

func blobAAD(tenant, id string, aad []byte) []byte {
	return append([]byte("rathaus-blob\x00"+tenant+"\x00"+id+"\x00"), aad...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(a cipher.AEAD, pt, aad []byte) ([]byte, error) {
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, pt, aad), nil
}

func open(a cipher.AEAD, ct, aad []byte) ([]byte, error) {
	if len(ct) < a.NonceSize()+a.Overhead() {
		return nil, errors.New("ciphertext too short")
	}
	return a.Open(nil, ct[:a.NonceSize()], ct[a.NonceSize():], aad)
}
