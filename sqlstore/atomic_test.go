// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"rathaus"
	"rathaus/audit"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
)

func TestAtomic(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			ctx := context.Background()
			bund := []tenant.Tenant{{ARS: tenant.Bund, Name: "Bund"}}
			land := []tenant.Tenant{{ARS: "060000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Hessen"}}
			boom := errors.New("boom")
			err := db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if err := db.Tenants().UpsertTenants(ctx, bund); err != nil {
					return err
				}
				if err := db.Tenants().UpsertTenants(ctx, land); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want boom", err)
			}
			if _, err := db.Tenants().Tenant(ctx, tenant.Bund); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("after rollback: %v, want not found", err)
			}
			err = db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if err := db.Tenants().UpsertTenants(ctx, append(bund, land...)); err != nil {
					return err
				}
				_, err := db.AppendAudit(ctx, tx, audit.Entry{Actor: "test", Action: "test.atomic"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Tenants().Tenant(ctx, "060000000000"); err != nil {
				t.Errorf("after commit: %v", err)
			}
		})
	}
}
