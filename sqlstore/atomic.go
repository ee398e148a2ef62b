// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
)

type txKey struct{}

// txFrom returns the transaction joined by ctx (see Atomic), or nil.
func txFrom(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txKey{}).(*sql.Tx)
	return tx
}

// Atomic runs fn in one transaction that every Store write method (and
// InTx) called with the ctx given to fn joins instead of opening its own:
// several Upsert calls and their audit entry (DB.AppendAudit with tx) commit
// together or not at all. It commits when fn returns nil. Called with a ctx
// that already carries a transaction, it joins it.
func (db *DB) Atomic(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if tx := txFrom(ctx); tx != nil {
		return fn(ctx, tx)
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		return fn(context.WithValue(ctx, txKey{}, tx), tx)
	})
}
