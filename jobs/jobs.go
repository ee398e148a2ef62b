// SPDX-License-Identifier: EUPL-1.2

// Package jobs runs background work for rathaus (process steps, delivery,
// notifications, search updates) with River behind a small seam:
//
//	q, _ := jobs.New(ctx, db, jobs.Options{})
//	q.Register("delivery.send", func(ctx context.Context, args json.RawMessage) error { … })
//	q.Start(ctx)
//	db.InTx(ctx, func(tx *sql.Tx) error {
//		… domain write …
//		return q.Enqueue(ctx, tx, "delivery.send", SendArgs{ID: id})
//	})
//
// A job enqueued in the caller's transaction exists only if that transaction
// commits, so a business step and its follow-up work commit together. Jobs
// run at least once: handlers must be idempotent. River's own tables are
// created at New by rivermigrate (riversqlite on SQLite, riverdatabasesql on
// PostgreSQL); River polls for work (no LISTEN/NOTIFY through database/sql).
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"rathaus"
	"rathaus/sqlstore"
)

// Handler works one job. args is the JSON the job was enqueued with.
// Returning an error retries the job later (with backoff) until MaxAttempts.
type Handler func(ctx context.Context, args json.RawMessage) error

// Options tune the queue. Zero values give sensible defaults.
type Options struct {
	// MaxWorkers is the number of jobs worked at once (default 16: process
	// steps wait for the database, mostly for the one SQLite writer, and a
	// fetch takes at most the free slots).
	MaxWorkers int
	// PollInterval is how often idle workers look for new jobs (default
	// 100 ms). River on SQLite and database/sql has no notifications: a job
	// enqueued in a transaction waits for the next poll unless a busy queue
	// fetches earlier, so this bounds how long a process step's follow-up
	// (a notice, a delivery) waits. An idle poll is one small query.
	PollInterval time.Duration
	// FetchCooldown is the least time between two fetches of jobs (default
	// 10 ms, at most PollInterval). A fetch takes up to the free worker slots,
	// so a busy queue runs at most MaxWorkers jobs per FetchCooldown (with
	// River's 100 ms and 4 workers: 40 jobs/s, about 13 approval processes/s,
	// see bench/desk BenchmarkWorkerEngine).
	FetchCooldown time.Duration
	// MaxAttempts is the default number of attempts per job (default 10).
	MaxAttempts int
	// RetryBackoff, if set, retries a failed job after attempt × RetryBackoff
	// (default: River's exponential backoff, attempt⁴ seconds).
	RetryBackoff time.Duration
	// Periodic jobs are enqueued by the leader node every interval.
	Periodic []Periodic
	// Logger receives River's logs (default: errors only, discarded).
	Logger *slog.Logger
}

// Periodic is a job enqueued at a fixed interval (clean-ups, timers).
type Periodic struct {
	Kind       string
	Every      time.Duration
	Args       any  // marshalled to JSON; nil gives {}
	RunOnStart bool // also enqueue once right after Start
}

// linearRetry retries after attempt × backoff.
type linearRetry struct{ backoff time.Duration }

func (p linearRetry) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().UTC().Add(time.Duration(job.Attempt) * p.backoff)
}

// Queue enqueues and works jobs. Register all kinds before Start.
type Queue struct {
	db      *sqlstore.DB
	client  *river.Client[*sql.Tx]
	workers *river.Workers

	mu      sync.Mutex
	kinds   map[string]bool
	started bool
}

// New migrates River's tables for the store's dialect and returns a queue
// that can enqueue at once and works jobs after Start.
func New(ctx context.Context, db *sqlstore.DB, opts Options) (*Queue, error) {
	var driver riverdriver.Driver[*sql.Tx]
	switch db.Dialect() {
	case sqlstore.SQLite:
		driver = riversqlite.New(db.SQL())
	case sqlstore.Postgres:
		driver = riverdatabasesql.New(db.SQL())
	default:
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "jobs: unsupported dialect %q", db.Dialect())
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quietLogger(opts.Logger)})
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "jobs: cannot set up River migrations")
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "jobs: River migrations failed")
	}
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = 16
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.FetchCooldown <= 0 {
		opts.FetchCooldown = min(opts.PollInterval, 10*time.Millisecond)
	}
	if opts.FetchCooldown > opts.PollInterval {
		return nil, rathaus.Errorf(rathaus.EINVALID, "jobs: FetchCooldown %s is longer than PollInterval %s", opts.FetchCooldown, opts.PollInterval)
	}
	q := &Queue{db: db, workers: river.NewWorkers(), kinds: map[string]bool{}}
	var periodic []*river.PeriodicJob
	for _, p := range opts.Periodic {
		if p.Kind == "" || p.Every <= 0 {
			return nil, rathaus.Errorf(rathaus.EINVALID, "jobs: periodic job needs a kind and a positive interval")
		}
		raw, err := marshalArgs(p.Kind, p.Args)
		if err != nil {
			return nil, err
		}
		args := rawArgs{kind: p.Kind, raw: raw}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(p.Every),
			func() (river.JobArgs, *river.InsertOpts) { return args, nil },
			&river.PeriodicJobOpts{RunOnStart: p.RunOnStart}))
	}
	cfg := &river.Config{
		Queues:              map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.MaxWorkers}},
		Workers:             q.workers,
		FetchPollInterval:   opts.PollInterval,
		FetchCooldown:       opts.FetchCooldown,
		MaxAttempts:         opts.MaxAttempts,
		Logger:              quietLogger(opts.Logger),
		PollOnly:            true,
		PeriodicJobs:        periodic,
		SkipUnknownJobCheck: true, // kinds may be registered after the first Enqueue
	}
	if opts.RetryBackoff > 0 {
		cfg.RetryPolicy = linearRetry{opts.RetryBackoff}
	}
	q.client, err = river.NewClient(driver, cfg)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "jobs: cannot create River client")
	}
	return q, nil
}

func quietLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError}))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// rawArgs carries a job's kind and its JSON through River.
type rawArgs struct {
	kind string
	raw  json.RawMessage
}

// Kind returns the job kind.
func (a rawArgs) Kind() string { return a.kind }

// MarshalJSON returns the job's JSON as given to Enqueue.
func (a rawArgs) MarshalJSON() ([]byte, error) {
	if len(a.raw) == 0 {
		return []byte("{}"), nil
	}
	return a.raw, nil
}

// UnmarshalJSON keeps the job's JSON as is.
func (a *rawArgs) UnmarshalJSON(b []byte) error {
	a.raw = append(json.RawMessage(nil), b...)
	return nil
}

type worker struct {
	river.WorkerDefaults[rawArgs]
	fn Handler
}

func (w *worker) Work(ctx context.Context, job *river.Job[rawArgs]) error {
	return w.fn(ctx, job.Args.raw)
}

// Register sets the handler for kind. Call it before Start; registering a
// kind twice is an error.
func (q *Queue) Register(kind string, fn Handler) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return rathaus.Errorf(rathaus.EINTERNAL, "jobs: Register(%q) after Start", kind)
	}
	if kind == "" || fn == nil {
		return rathaus.Errorf(rathaus.EINVALID, "jobs: Register needs a kind and a handler")
	}
	if q.kinds[kind] {
		return rathaus.Errorf(rathaus.ECONFLICT, "jobs: kind %q registered twice", kind)
	}
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		river.AddWorkerArgs(q.workers, rawArgs{kind: kind}, &worker{fn: fn})
	}()
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "jobs: cannot register %q", kind)
	}
	q.kinds[kind] = true
	return nil
}

// EnqueueOption changes how one job is enqueued.
type EnqueueOption func(*river.InsertOpts)

// At schedules the job to run no earlier than t.
func At(t time.Time) EnqueueOption { return func(o *river.InsertOpts) { o.ScheduledAt = t } }

// MaxAttempts overrides the number of attempts for this job.
func MaxAttempts(n int) EnqueueOption { return func(o *river.InsertOpts) { o.MaxAttempts = n } }

// UniqueByArgs makes the job unique by kind and args: enqueueing an equal
// job while one is pending, running or retrying does nothing.
func UniqueByArgs() EnqueueOption {
	return func(o *river.InsertOpts) { o.UniqueOpts = river.UniqueOpts{ByArgs: true} }
}

// Enqueue adds a job of kind with args (marshalled to JSON, or used as is if
// it is a json.RawMessage) inside tx. It runs only if tx commits.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, kind string, args any, opts ...EnqueueOption) error {
	if tx == nil {
		return rathaus.Errorf(rathaus.EINTERNAL, "jobs: Enqueue(%q) needs the caller's transaction", kind)
	}
	if kind == "" {
		return rathaus.Errorf(rathaus.EINVALID, "jobs: Enqueue needs a kind")
	}
	raw, err := marshalArgs(kind, args)
	if err != nil {
		return err
	}
	io := &river.InsertOpts{}
	for _, o := range opts {
		o(io)
	}
	// River's fast insert, one row: the same row and unique handling as
	// InsertTx without reading the row back (on SQLite 82 instead of 200
	// allocations and about half the time per job; InsertTx was 17 % of the
	// CPU of a process instance in BenchmarkWorkerEngine).
	if _, err := q.client.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: rawArgs{kind: kind, raw: raw}, InsertOpts: io}}); err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "jobs: cannot enqueue %q", kind)
	}
	return nil
}

// marshalArgs turns job args into JSON (json.RawMessage is used as is).
func marshalArgs(kind string, args any) (json.RawMessage, error) {
	switch a := args.(type) {
	case json.RawMessage:
		if !json.Valid(a) {
			return nil, rathaus.Errorf(rathaus.EINVALID, "jobs: args of %q are not valid JSON", kind)
		}
		return a, nil
	case nil:
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(args)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "jobs: args of %q are not JSON", kind)
	}
	return b, nil
}

// Start starts working jobs until Stop or until ctx is cancelled.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return nil
	}
	if len(q.kinds) == 0 {
		return rathaus.Errorf(rathaus.EINTERNAL, "jobs: Start without any registered kind")
	}
	if err := q.client.Start(ctx); err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "jobs: cannot start")
	}
	q.started = true
	return nil
}

// Stop stops fetching new jobs and waits for running ones until ctx ends.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.mu.Unlock()
	if !started {
		return nil
	}
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return q.client.StopAndCancel(context.Background())
	}
	return err
}
