// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"rathaus/audit"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

func runMain(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code := Main(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestMigrateAndAuditVerify(t *testing.T) {
	dir := t.TempDir() + "/data"
	env := map[string]string{"RATHAUS_DATA": dir}

	t.Run("Migrate", func(t *testing.T) {
		code, out, errs := runMain(t, env, "migrate")
		if code != 0 || !strings.Contains(out, "up to date (sqlite)") {
			t.Fatalf("migrate = %d, %q, %q", code, out, errs)
		}
		code, out, _ = runMain(t, env, "migrate", "--json")
		if code != 0 || !strings.Contains(out, `"dialect":"sqlite"`) || !strings.Contains(out, "0001_init.sql") {
			t.Errorf("migrate --json = %d, %q", code, out)
		}
	})
	t.Run("EmptyLogIntact", func(t *testing.T) {
		code, out, errs := runMain(t, env, "audit", "verify")
		if code != 0 || out != "audit log intact: 0 entries\n" {
			t.Errorf("audit verify = %d, %q, %q", code, out, errs)
		}
	})

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"login", "import.municipalities", "case.view"} {
		if _, err := db.Audit().Append(ctx, audit.Entry{Actor: "cli", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Intact", func(t *testing.T) {
		code, out, errs := runMain(t, nil, "audit", "verify", "--data", dir)
		if code != 0 || out != "audit log intact: 3 entries\n" {
			t.Errorf("audit verify = %d, %q, %q", code, out, errs)
		}
	})
	t.Run("BrokenTail", func(t *testing.T) {
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM audit_log WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runMain(t, env, "audit", "verify")
		if code != 1 || !strings.Contains(errs, "audit log broken at entry 3: entries missing at the end of the log") {
			t.Errorf("audit verify = %d, %q, %q", code, out, errs)
		}
		code, out, _ = runMain(t, env, "audit", "verify", "--json")
		if code != 1 || !strings.Contains(out, `"broken_at":3`) {
			t.Errorf("audit verify --json = %d, %q", code, out)
		}
	})
	db.Close()
	t.Run("BadURL", func(t *testing.T) {
		code, _, errs := runMain(t, env, "migrate", "--db", "mysql://x")
		if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "unsupported database URL") {
			t.Errorf("migrate --db mysql = %d, %q", code, errs)
		}
	})
	t.Run("UsageError", func(t *testing.T) {
		if code, _, _ := runMain(t, env, "migrate", "extra"); code != 2 {
			t.Errorf("exit = %d, want 2", code)
		}
	})
}

func TestMigrateAndAuditVerifyPostgres(t *testing.T) {
	cfg := sqltest.NewConfig(t, sqlstore.Postgres)
	env := map[string]string{"RATHAUS_DB": cfg.URL, "RATHAUS_DATA": t.TempDir()}
	if code, out, errs := runMain(t, env, "migrate"); code != 0 || !strings.Contains(out, "(postgres)") {
		t.Fatalf("migrate = %d, %q, %q", code, out, errs)
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 3 {
		if _, err := db.Audit().Append(ctx, audit.Entry{Actor: "cli", Action: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errs := runMain(t, env, "audit", "verify"); code != 0 || out != "audit log intact: 3 entries\n" {
		t.Errorf("audit verify = %d, %q, %q", code, out, errs)
	}
	if _, err := db.SQL().ExecContext(ctx, `UPDATE audit_log SET object = 'x' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runMain(t, env, "audit", "verify"); code != 1 || !strings.Contains(errs, "audit log broken at entry 2: entry content altered") {
		t.Errorf("audit verify = %d, %q", code, errs)
	}
}
