// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rathaus/audit"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/vault"
)

// TestKill9UnderLoad proves "durable before acknowledged": a child process
// (this test binary, re-executed) submits from many goroutines with group
// commit and prints the id of every acknowledged submission; the parent
// kills it with SIGKILL in the middle of the load, reopens the database and
// finds every acknowledged application, readable, with its audit entry, and
// its two jobs (in River or still in the outbox, then pumped exactly once).
func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	_, masterText, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RATHAUS_KILL9_CHILD_DIR="+dir, "RATHAUS_KILL9_MASTER="+masterText)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	killed := false
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "ACK "); ok {
			acked = append(acked, id)
		}
		if !killed && len(acked) >= 1500 {
			cmd.Process.Signal(syscall.SIGKILL) // mid-load: more submissions are in flight
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended before the kill with %d acknowledgements: %v", len(acked), err)
	}
	t.Logf("%d submissions acknowledged before SIGKILL", len(acked))

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	master, err := vault.ParseMasterKey(masterText)
	if err != nil {
		t.Fatal(err)
	}
	svc := submission.New(db.SubmissionStore(nil), vault.New(db.VaultKeys(), master), submission.Options{})
	defer svc.Close()
	// Durable means fsync at every commit: synchronous=FULL (2) on the writer.
	var syncMode int
	if err := db.SQL().QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode); err != nil || syncMode != 2 {
		t.Errorf("PRAGMA synchronous = %d, %v; want 2 (FULL)", syncMode, err)
	}
	var stored int
	db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM applications`).Scan(&stored)
	missing := 0
	for i, id := range acked {
		app, err := svc.Application(ctx, darmstadt, id)
		if err != nil {
			missing++
			t.Errorf("acknowledged application %s lost: %v", id, err)
			continue
		}
		if i%100 == 0 {
			if _, err := svc.OpenAnswers(ctx, app); err != nil {
				t.Errorf("answers of %s unreadable: %v", id, err)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged submissions lost", missing, len(acked))
	}
	if stored < len(acked) {
		t.Errorf("%d applications stored, %d acknowledged", stored, len(acked))
	}
	if seq, reason, err := audit.Verify(ctx, db.Audit()); seq != 0 || err != nil {
		t.Errorf("audit chain after crash broken at %d: %s %v", seq, reason, err)
	}
	// The child commits jobs into the outbox: after the crash every
	// application has its two jobs in River or still in the outbox, and a
	// new Service pumps the leftovers into River exactly once.
	var jobsN, outboxN int
	db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&jobsN)
	db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM submission_outbox`).Scan(&outboxN)
	if jobsN+outboxN != 2*stored {
		t.Errorf("%d jobs in River + %d in the outbox for %d applications, want two each", jobsN, outboxN, stored)
	}
	t.Logf("after the crash: %d jobs in River, %d in the outbox", jobsN, outboxN)
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pumped := submission.New(db.SubmissionStore(enqueueTo(q)).UseOutbox(), vault.New(db.VaultKeys(), master), submission.Options{})
	pumped.Close() // pumps at start and on Close
	db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&jobsN)
	db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM submission_outbox`).Scan(&outboxN)
	if jobsN != 2*stored || outboxN != 0 {
		t.Errorf("after pumping: %d jobs in River, %d in the outbox; want %d and 0", jobsN, outboxN, 2*stored)
	}
}

// enqueueTo is the EnqueueFunc of a store over q.
func enqueueTo(q *jobs.Queue) sqlstore.EnqueueFunc {
	return func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	}
}

// TestKill9Child is the child of TestKill9UnderLoad; it does nothing in a
// normal run.
func TestKill9Child(t *testing.T) {
	dir := os.Getenv("RATHAUS_KILL9_CHILD_DIR")
	if dir == "" {
		t.Skip("child process of TestKill9UnderLoad")
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	master, err := vault.ParseMasterKey(os.Getenv("RATHAUS_KILL9_MASTER"))
	if err != nil {
		t.Fatal(err)
	}
	store := db.SubmissionStore(enqueueTo(q)).UseOutbox()
	svc := submission.New(store, vault.New(db.VaultKeys(), master), submission.Options{})
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				rc, err := svc.Submit(ctx, request(darmstadt, fmt.Sprintf("w%d-%d", w, i)))
				if err != nil {
					fmt.Fprintln(os.Stderr, "submit:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(os.Stdout, "ACK "+rc.Application.ID) // os.Stdout is unbuffered
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
