// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"rathaus"
	"rathaus/vault"
)

// VaultKeys returns the vault.KeyStore of db: the wrapped data keys in
// table vault_data_keys, at most one active key per tenant (enforced by a
// partial unique index).
//
// ActiveDataKey answers from a per-store cache for up to one second (the
// intake seals twice per submission); after a rotation on another node new
// data may be sealed with the previous key for that long, which stays
// readable. PutDataKey through this store clears the cache at once.
func (db *DB) VaultKeys() vault.KeyStore { return &vaultKeys{db: db} }

type vaultKeys struct {
	db     *DB
	active sync.Map // tenant → cachedKey
}

type cachedKey struct {
	k  vault.DataKey
	at time.Time
}

// activeKeyTTL is how long ActiveDataKey answers from the cache.
const activeKeyTTL = time.Second

var _ vault.KeyStore = (*vaultKeys)(nil)

const vaultCols = `tenant, id, master_id, wrapped, active, created_at`

func scanDataKey(sc interface{ Scan(...any) error }) (*vault.DataKey, error) {
	var k vault.DataKey
	var active int
	var created int64
	if err := sc.Scan(&k.Tenant, &k.ID, &k.MasterID, &k.Wrapped, &active, &created); err != nil {
		return nil, err
	}
	k.Active, k.CreatedAt = active == 1, fromMicros(created)
	return &k, nil
}

// ActiveDataKey implements vault.KeyStore.
func (s *vaultKeys) ActiveDataKey(ctx context.Context, tenant string) (*vault.DataKey, error) {
	if c, ok := s.active.Load(tenant); ok && time.Since(c.(cachedKey).at) < activeKeyTTL {
		k := c.(cachedKey).k
		return &k, nil
	}
	k, err := scanDataKey(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+vaultCols+` FROM vault_data_keys WHERE tenant = ? AND active = 1`), tenant))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no active data key for tenant %s", tenant)
	}
	if err == nil && txFrom(ctx) == nil {
		s.active.Store(tenant, cachedKey{k: *k, at: time.Now()})
	}
	return k, err
}

// DataKey implements vault.KeyStore.
func (s *vaultKeys) DataKey(ctx context.Context, tenant, id string) (*vault.DataKey, error) {
	k, err := scanDataKey(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+vaultCols+` FROM vault_data_keys WHERE tenant = ? AND id = ?`), tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "data key %s not found", id)
	}
	return k, err
}

// PutDataKey implements vault.KeyStore: with k.Active the previous active
// key of the tenant is deactivated in the same transaction. Two nodes
// activating a key at once: one wins, the other gets ECONFLICT.
func (s *vaultKeys) PutDataKey(ctx context.Context, k vault.DataKey) error {
	if k.Tenant == "" || k.ID == "" || k.MasterID == "" || len(k.Wrapped) == 0 {
		return rathaus.Errorf(rathaus.EINVALID, "data key: tenant, id, master id and wrapped key are required")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	active := 0
	if k.Active {
		active = 1
	}
	s.active.Delete(k.Tenant)
	defer s.active.Delete(k.Tenant)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if k.Active {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE vault_data_keys SET active = 0 WHERE tenant = ? AND active = 1`), k.Tenant); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO vault_data_keys (`+vaultCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
			k.Tenant, k.ID, k.MasterID, k.Wrapped, active, micros(k.CreatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return rathaus.Wrap(rathaus.ECONFLICT, err, "data key: another key became active concurrently")
	}
	return err
}

// DataKeys implements vault.KeyStore.
func (s *vaultKeys) DataKeys(ctx context.Context) ([]vault.DataKey, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, `SELECT `+vaultCols+` FROM vault_data_keys ORDER BY tenant, created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vault.DataKey
	for rows.Next() {
		k, err := scanDataKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// UpdateWrapped implements vault.KeyStore. Returns ENOTFOUND for an unknown key.
func (s *vaultKeys) UpdateWrapped(ctx context.Context, tenant, id, masterID string, wrapped []byte) error {
	s.active.Delete(tenant)
	defer s.active.Delete(tenant)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE vault_data_keys SET master_id = ?, wrapped = ? WHERE tenant = ? AND id = ?`), masterID, wrapped, tenant, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rathaus.Errorf(rathaus.ENOTFOUND, "data key %s not found", id)
		}
		return nil
	})
}

// isUniqueViolation reports a unique-constraint violation of either dialect
// (SQLite: "UNIQUE constraint failed", PostgreSQL: SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "duplicate key value")
}
