// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rathaus/audit"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// TestMain lets the test binary act as the writer child of TestKill9.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SQLSTORE_KILL9_CHILD"); dir != "" {
		killChild(dir)
		return
	}
	os.Exit(m.Run())
}

// killChild appends audit entries forever and prints "ack N" after each
// commit, like a server acknowledging a submission.
func killChild(dir string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for {
		e, err := db.Audit().Append(ctx, audit.Entry{Actor: "child", Action: "submission.received"})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Printf("ack %d\n", e.Seq)
	}
}

// TestKill9 kills a writing process with SIGKILL and checks that every
// acknowledged entry is there afterwards and the chain is intact.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SQLSTORE_KILL9_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var acked int64
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "ack ") {
			t.Fatalf("child: %s", line)
		}
		acked, _ = strconv.ParseInt(strings.TrimPrefix(line, "ack "), 10, 64)
		if acked >= 50 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 50 {
		t.Fatalf("child acknowledged only %d entries", acked)
	}
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	head, _, err := db.Audit().(audit.Header).Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if head < acked {
		t.Errorf("after kill -9: %d entries, but %d were acknowledged", head, acked)
	}
	if seq, reason, err := audit.Verify(context.Background(), db.Audit()); err != nil || seq != 0 {
		t.Errorf("Verify after kill -9 = %d %s %v", seq, reason, err)
	}
}

// TestConcurrentOpen starts several nodes on one PostgreSQL schema (and
// several openers of one SQLite file) at once: migrations run exactly once.
func TestConcurrentOpen(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			cfg := sqltest.NewConfig(t, d)
			first, err := sqlstore.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					db, err := sqlstore.Open(ctx, cfg)
					if err != nil {
						errs <- err
						return
					}
					db.Close()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			applied, err := first.AppliedMigrations(context.Background())
			if err != nil || len(applied) == 0 || len(slices.Compact(slices.Clone(applied))) != len(applied) {
				t.Errorf("applied = %v, %v", applied, err)
			}
			if ok, err := first.MigrationsApplied(context.Background()); !ok || err != nil {
				t.Errorf("MigrationsApplied = %v, %v", ok, err)
			}
		})
	}
}
