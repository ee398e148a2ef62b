// SPDX-License-Identifier: EUPL-1.2

package worker_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

const crashApps = 120

// crashApplications answers for any application of the crash test: small
// amounts (approved by the rule) and every fifth one large (the rules
// leave it to a human, whom the child plays by deciding at once).
type crashApplications struct{}

func (crashApplications) Application(ctx context.Context, tenant, id string) (*worker.Application, error) {
	var n int
	if _, err := fmt.Sscanf(id, "app-%d", &n); err != nil {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no application %s", id)
	}
	betrag := 100
	if n%5 == 0 {
		betrag = 5000
	}
	return &worker.Application{Tenant: tenant, ID: id, Reference: "DA-" + id, ServiceKey: "99001", ApplicantUserID: "citizen",
		SubmittedAt: time.Date(2026, 3, 2, 9, 0, 0, n, time.UTC), Answers: map[string]any{"betrag": betrag}}, nil
}

func crashWorker(t testing.TB, db *sqlstore.DB, q *jobs.Queue) *worker.Worker {
	t.Helper()
	rules, err := casework.CompileRules([]casework.Rule{{Name: "Kleinbetrag", When: "betrag <= 500", Decision: "approve", Explanation: "bis 500 €"}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Options{DB: db, Queue: q, Applications: crashApplications{}, Mailbox: &tableMailbox{db},
		Rules: func(string, string) *casework.Rules { return rules }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestCrashChild is the child of TestCrashKillResume: it works jobs until
// it is killed. It does nothing in a normal test run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("RATHAUS_CRASH_CHILD")
	if dir == "" {
		t.Skip("child of TestCrashKillResume")
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir, URL: os.Getenv("RATHAUS_CRASH_URL")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(ctx, db, jobs.Options{MaxWorkers: 4, PollInterval: 20 * time.Millisecond, RetryBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := crashWorker(t, db, q)
	// The human: decide every case waiting at the decision task, as its
	// own step, again and again.
	go func() {
		for {
			p, err := w.Cases.Inbox(ctx, casework.Filter{Root: darmstadt, Status: casework.StatusNew, PageSize: 200})
			if err == nil {
				for _, c := range p.Cases {
					_, _ = w.Decide(ctx, "cw", c.Tenant, c.ID, "reject", "zu hoch")
				}
			}
			time.Sleep(30 * time.Millisecond)
		}
	}()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("RATHAUS_CRASH_DEBUG") != "" {
		fmt.Fprintln(os.Stderr, "child started", time.Now().Format("15:04:05.000"))
	}
	if err := w.Recover(ctx, 0); err != nil {
		fmt.Fprintln(os.Stderr, "recover:", err)
	}
	go w.Sweep(ctx, 500*time.Millisecond, 0, func(err error) { fmt.Fprintln(os.Stderr, "sweep:", err) })
	select {} // until SIGKILL
}

// TestCrashKillResume submits applications, then runs a child process
// (this test binary) that works them and kills it with SIGKILL at random
// moments, several times; after the last restart every instance has
// completed, every visible effect (mailbox post) happened exactly once,
// every step was committed exactly once (one audit entry per instance
// revision) and the outbox is empty.
func TestCrashKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { crashKillResume(t, d) })
	}
}

func crashKillResume(t *testing.T, dialect string) {
	ctx := context.Background()
	cfg := sqltest.NewConfig(t, dialect)
	dir := cfg.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	newTableMailbox(t, db)
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := crashWorker(t, db, nil)
	if err := w.EnsureUniversal(ctx, "000000000000"); err != nil {
		t.Fatal(err)
	}
	// The submissions: application rows and their process.start jobs.
	for i := range crashApps {
		id := fmt.Sprintf("app-%d", i)
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO applications (tenant, id, reference, service_key, form_id, form_version, answers, status, submitted_at, idempotency_key)
				VALUES (?, ?, ?, '99001', 'f', '1', ?, 'submitted', ?, ?)`), darmstadt, id, "DA-"+id, []byte{0}, time.Now().UnixMicro(), id); err != nil {
				return err
			}
			return q.Enqueue(ctx, tx, worker.JobStart, map[string]string{"tenant": darmstadt, "application_id": id, "service_key": "99001"})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "RATHAUS_CRASH_CHILD="+dir, "RATHAUS_CRASH_URL="+cfg.URL)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	count := func(status string) int {
		p, err := w.Cases.Inbox(ctx, casework.Filter{Root: darmstadt, Status: status, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	closed := func() int { return count(casework.StatusClosed) }
	kills := 0
	for range 6 {
		cmd := run()
		time.Sleep(time.Duration(250+rand.IntN(600)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		kills++
		t.Logf("kill %d at %s: %d cases, %d of %d closed", kills, time.Now().Format("15:04:05.000"), count(""), closed(), crashApps)
	}
	cmd := run()
	deadline := time.Now().Add(90 * time.Second)
	pending := func() int {
		p, err := w.Store.PendingEffects(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	for (closed() < crashApps || pending() > 0) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if n := closed(); n != crashApps {
		t.Fatalf("%d of %d cases closed after the last restart", n, crashApps)
	}

	for i := range crashApps {
		id := fmt.Sprintf("app-%d", i)
		inst, err := w.Store.Instance(ctx, darmstadt, id)
		if err != nil || inst.Status != "completed" {
			t.Errorf("%s: %v %v", id, inst.Status, err)
			continue
		}
		posts := (&tableMailbox{db}).posts(t, id)
		if len(posts) != 1 || posts[0].Kind != "notice" {
			t.Errorf("%s: %d mailbox posts, want exactly one notice", id, len(posts))
		}
		// One audit entry per committed step (revision).
		var steps, distinct int
		q := `SELECT count(*), count(DISTINCT json_extract(details, '$.rev')) FROM audit_log WHERE action = 'process.step' AND object = ?`
		if dialect == sqlstore.Postgres {
			q = `SELECT count(*), count(DISTINCT details::json->>'rev') FROM audit_log WHERE action = 'process.step' AND object = $1`
		}
		if err := db.SQL().QueryRow(q, "process/"+id).Scan(&steps, &distinct); err != nil {
			t.Fatal(err)
		}
		if steps != distinct || steps != inst.Rev {
			t.Errorf("%s: %d step entries, %d revisions, instance rev %d", id, steps, distinct, inst.Rev)
		}
	}
	if p, _ := w.Store.PendingEffects(ctx, 10); len(p) != 0 {
		t.Errorf("outbox not empty: %+v", p)
	}
	var bad int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'case.create'`).Scan(&bad); err != nil || bad != crashApps {
		t.Errorf("case.create entries: %d (want %d) %v", bad, crashApps, err)
	}
}
