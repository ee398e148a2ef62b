// SPDX-License-Identifier: EUPL-1.2

package desk_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// deskApproval returns bench/bpmn/approval.bpmn as the desk drives it: the
// desk completes a process's decision task with worker.Decide, which works
// on the userTask with id "decide" and sets the variable "decision", so
// the review task is renamed "decide" and the gateway asks
// ${decision == "approve"} instead of ${environment.variables.approved}.
// Everything else (the loop back, the serviceTask with rathaus:action
// "deliver") is unchanged.
func deskApproval(tb testing.TB) []byte {
	tb.Helper()
	src := approvalSource(tb)
	for _, r := range [][2]string{
		{`id="review"`, `id="decide"`},
		{`targetRef="review"`, `targetRef="decide"`},
		{`sourceRef="review"`, `sourceRef="decide"`},
		{`${environment.variables.approved}`, `${decision == "approve"}`},
	} {
		if !bytes.Contains(src, []byte(r[0])) {
			tb.Fatalf("approval.bpmn: %q not found (changed file?)", r[0])
		}
		src = bytes.ReplaceAll(src, []byte(r[0]), []byte(r[1]))
	}
	return src
}

// workerRun is one production-path run: N applications through River and
// the desk.
type workerRun struct {
	db    *sqlstore.DB
	q     *jobs.Queue
	w     *worker.Worker
	apps  *worker.MemApplications
	teams int
}

// workerDB opens the store of a run: a SQLite file as sqlstore.Open makes
// it for serve (WAL, synchronous=FULL), or, with RATHAUS_BENCH_DB set to a
// postgres:// URL, a fresh schema on that server (dropped afterwards).
func workerDB(b *testing.B) *sqlstore.DB {
	b.Helper()
	cfg := sqlstore.Config{DataDir: b.TempDir()}
	if u := os.Getenv("RATHAUS_BENCH_DB"); strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		b.Setenv("RATHAUS_TEST_POSTGRES_URL", u)
		cfg = sqltest.NewConfig(b, sqlstore.Postgres)
		cfg.MaxOpenConns = 0 // serve's default pool
	}
	db, err := sqlstore.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// newWorkerRun wires what serve wires for the process engine: the store,
// a River queue with the worker's job kinds and a no-op delivery.send
// handler (the deliver action enqueues it; the FIT-Connect transport is
// not measured here), the desk-ready approval process deployed as the
// service's own process (worker.ServiceKey) and routing rules that send
// application i to office "team-(i mod teams)", one office per caseworker.
func newWorkerRun(b *testing.B, teams int, qopts jobs.Options) *workerRun {
	b.Helper()
	ctx := context.Background()
	db := workerDB(b)
	q, err := jobs.New(ctx, db, qopts)
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Register(worker.JobDelivery, func(context.Context, json.RawMessage) error { return nil }); err != nil {
		b.Fatal(err)
	}
	var rules []casework.Rule
	for k := range teams {
		rules = append(rules, casework.Rule{Name: fmt.Sprintf("Team %d", k), When: fmt.Sprintf("team == %d", k),
			Route: fmt.Sprintf("team-%d", k), Explanation: fmt.Sprintf("Zuständig: Team %d", k)})
	}
	compiled, err := casework.CompileRules(rules)
	if err != nil {
		b.Fatal(err)
	}
	apps := &worker.MemApplications{}
	w, err := worker.New(worker.Options{DB: db, Queue: q, Applications: apps,
		Rules: func(string, string) *casework.Rules { return compiled }})
	if err != nil {
		b.Fatal(err)
	}
	if _, problems, err := w.Runner.Deploy(ctx, darmstadt, worker.ServiceKey("approval"), deskApproval(b), "approval", nil); err != nil || len(problems) > 0 {
		b.Fatalf("deploy: %v %v", problems, err)
	}
	return &workerRun{db: db, q: q, w: w, apps: apps, teams: teams}
}

// submit adds n applications and enqueues their process.start jobs, as
// submission.Submit does (here 100 per transaction, before the clock
// starts: the intake is measured by bench/intake).
func (r *workerRun) submit(b *testing.B, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for lo := 0; lo < n; lo += 100 {
		var js []jobs.Job
		for i := lo; i < min(lo+100, n); i++ {
			id := fmt.Sprintf("app-%06d", i)
			r.apps.Add(&worker.Application{Tenant: darmstadt, ID: id, Reference: "DA-2026-" + id[4:], ServiceKey: "approval", Title: "Genehmigung",
				ApplicantUserID: "citizen", SubmittedAt: now, Answers: map[string]any{"team": i % r.teams}})
			js = append(js, jobs.Job{Kind: worker.JobStart, Args: map[string]string{"tenant": darmstadt, "application_id": id, "service_key": "approval"}})
		}
		if err := r.db.InTx(ctx, func(tx *sql.Tx) error { return r.q.EnqueueMany(ctx, tx, js) }); err != nil {
			b.Fatal(err)
		}
	}
}

// completed counts the instances that reached their end event.
func (r *workerRun) completed(ctx context.Context) (int, error) {
	var n int
	err := r.db.SQL().QueryRowContext(ctx, r.db.Rebind(`SELECT count(*) FROM process_instances WHERE status = ?`), "completed").Scan(&n)
	return n, err
}

// inboxRefresh is how long a caseworker waits before looking at an empty
// inbox again. 32 caseworkers refreshing every 2 ms spent most of the CPU
// on inbox queries; a person refreshes far less often.
const inboxRefresh = 100 * time.Millisecond

// caseworker works the inbox of office team-k until it has decided every
// case of its team twice (first review: reject, the process loops back;
// second: approve), as a person at the desk: list the office's new cases
// (Inbox, status new), decide each (Decide, what POST …/decide calls),
// refresh, and wait pollEvery when the inbox is empty. It returns the
// latency of every Decide call.
func (r *workerRun) caseworker(ctx context.Context, k, cases int, pollEvery time.Duration, stop *atomic.Bool) ([]time.Duration, error) {
	office, actor := fmt.Sprintf("team-%d", k), fmt.Sprintf("sb-%d", k)
	decided := map[string]int{}
	var lat []time.Duration
	for len(lat) < 2*cases && !stop.Load() {
		page, err := r.w.Inbox(ctx, casework.Filter{Root: darmstadt, Office: office, Status: casework.StatusNew, PageSize: 200})
		if err != nil {
			return lat, err
		}
		if len(page.Cases) == 0 {
			time.Sleep(pollEvery)
			continue
		}
		for _, c := range page.Cases {
			decision, reason := casework.DecisionReject, "Unterlagen unvollständig"
			if decided[c.ID] > 0 {
				decision, reason = casework.DecisionApprove, "Voraussetzungen erfüllt"
			}
			if decided[c.ID] > 1 {
				return lat, fmt.Errorf("%s: case %s is new again after two decisions", office, c.ID)
			}
			t0 := time.Now()
			if _, err := r.w.Decide(ctx, actor, darmstadt, c.ID, decision, reason); err != nil {
				return lat, fmt.Errorf("%s: decide %s: %w", office, c.ID, err)
			}
			lat = append(lat, time.Since(t0))
			decided[c.ID]++
		}
	}
	return lat, nil
}

// run starts the queue, lets the caseworkers work and waits until every
// instance is completed; it reports instances/s over the whole run and
// the p50/p99 of a Decide call.
func (r *workerRun) run(b *testing.B, n int) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	b.ResetTimer()
	if err := r.q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer r.q.Stop(context.Background())
	var (
		stop atomic.Bool
		wg   sync.WaitGroup
		mu   sync.Mutex
		lats []time.Duration
		errs []error
	)
	for k := range r.teams {
		share := n / r.teams
		if k < n%r.teams {
			share++
		}
		wg.Go(func() {
			lat, err := r.caseworker(ctx, k, share, inboxRefresh, &stop)
			mu.Lock()
			defer mu.Unlock()
			lats = append(lats, lat...)
			if err != nil {
				errs = append(errs, err)
				stop.Store(true)
			}
		})
	}
	// Wait for the last instance; give up when nothing moves for a minute.
	last, lastMove := -1, time.Now()
	for {
		done, err := r.completed(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if done != last {
			last, lastMove = done, time.Now()
		}
		if done >= n || stop.Load() || time.Since(lastMove) > time.Minute {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	if last < n {
		b.Fatalf("%d of %d instances completed; stalled for a minute", last, n)
	}
	// Every instance went the whole way: its case is closed, its deliver
	// action enqueued one delivery.send job, the caseworkers decided twice.
	var closed, deliveries int
	if err := r.db.SQL().QueryRow(r.db.Rebind(`SELECT count(*) FROM casework_cases WHERE status = ?`), casework.StatusClosed).Scan(&closed); err != nil {
		b.Fatal(err)
	}
	if err := r.db.SQL().QueryRow(r.db.Rebind(`SELECT count(*) FROM river_job WHERE kind = ?`), worker.JobDelivery).Scan(&deliveries); err != nil {
		b.Fatal(err)
	}
	if closed != n || deliveries != n || len(lats) != 2*n {
		b.Fatalf("%d instances: %d cases closed, %d delivery.send jobs, %d decisions", n, closed, deliveries, len(lats))
	}
	slices.Sort(lats)
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		return float64(lats[min(len(lats)-1, int(p*float64(len(lats))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "instances/s")
	b.ReportMetric(pct(0.50), "decide-p50-ms")
	b.ReportMetric(pct(0.99), "decide-p99-ms")
	b.ReportMetric(0, "ns/op") // the run is the unit, see instances/s
}

// queueConfigs are the River settings compared by BenchmarkWorkerEngine,
// or the one given as RATHAUS_BENCH_QUEUE=MaxWorkers/PollInterval/FetchCooldown
// (e.g. 16/50ms/5ms).
func queueConfigs(b *testing.B) []struct {
	name string
	opts jobs.Options
} {
	type qc = struct {
		name string
		opts jobs.Options
	}
	if s := os.Getenv("RATHAUS_BENCH_QUEUE"); s != "" {
		var o jobs.Options
		parts := strings.Split(s, "/")
		var err error
		if len(parts) != 3 {
			b.Fatalf("RATHAUS_BENCH_QUEUE=%q: want MaxWorkers/PollInterval/FetchCooldown", s)
		}
		if _, err = fmt.Sscan(parts[0], &o.MaxWorkers); err == nil {
			if o.PollInterval, err = time.ParseDuration(parts[1]); err == nil {
				o.FetchCooldown, err = time.ParseDuration(parts[2])
			}
		}
		if err != nil {
			b.Fatalf("RATHAUS_BENCH_QUEUE=%q: %v", s, err)
		}
		return []qc{{fmt.Sprintf("rw=%d,poll=%s,cool=%s", o.MaxWorkers, o.PollInterval, o.FetchCooldown), o}}
	}
	return []qc{
		// jobs.New's defaults, as serve runs (16 workers, 100 ms poll, 10 ms cooldown).
		{"serve", jobs.Options{}},
		// River's defaults, serve's until 2026-11: a busy queue runs at most
		// 4 jobs per 100 ms.
		{"rw=4,poll=1s,cool=100ms", jobs.Options{MaxWorkers: 4, PollInterval: time.Second, FetchCooldown: 100 * time.Millisecond}},
		{"rw=32,poll=50ms", jobs.Options{MaxWorkers: 32, PollInterval: 50 * time.Millisecond}},
	}
}

// BenchmarkWorkerEngine runs the approval process
// (bench/bpmn/approval.bpmn, its review as the desk's decision task) the
// production way: b.N applications, each started by a process.start job
// (River on the SQLite file, WAL, synchronous=FULL; or PostgreSQL with
// RATHAUS_BENCH_DB=postgres://…), caseworker goroutines that work their
// office's inbox and decide through worker.Decide (reject, the process
// loops back; approve), the serviceTask's deliver action run by a
// process.effect job that enqueues a (no-op) delivery.send job, until every
// instance has completed. Reported: instances/s over the whole run, from
// Queue.Start to the last completion, and p50/p99 of a Decide call.
// Sub-benchmarks: River settings (queueConfigs) × caseworkers (cw). Use
// -benchtime 1000x: b.N is the number of instances.
func BenchmarkWorkerEngine(b *testing.B) {
	for _, qc := range queueConfigs(b) {
		for _, cw := range []int{8, 32} {
			b.Run(fmt.Sprintf("%s/cw=%d", qc.name, cw), func(b *testing.B) {
				r := newWorkerRun(b, cw, qc.opts)
				r.submit(b, b.N)
				r.run(b, b.N)
			})
		}
	}
}
