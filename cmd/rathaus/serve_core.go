// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"time"

	"rathaus/delivery"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/vault"
)

// JobSessionCleanup deletes expired sessions (periodic).
const JobSessionCleanup = "sessions.cleanup"

// serveCore is what every part of serve shares: one job queue (River) on
// which each part registers its job kinds before it starts, and — when a
// vault master key is configured — one vault and one intake, so that every
// application goes through the same group-commit writer and every job of
// a submission (process.start, delivery.send) lands in the queue that runs
// its handler. The intake commits those jobs into the slim outbox
// (SubmissionStore.UseOutbox) on its hot path; the Service's pump moves them
// into River in the background within OutboxDelay (100 ms) of the commit,
// or — during a peak (≥ OutboxPeakRate, 500 applications/s) — up to
// OutboxMaxLag (60 s) later, and on Close.
type serveCore struct {
	DB     *sqlstore.DB
	Log    *slog.Logger
	Key    *vault.LocalMasterKey // nil without RATHAUS_MASTER_KEY (outside --demo)
	Vault  *vault.Vault          // nil when Key is nil
	Queue  *jobs.Queue
	Store  *sqlstore.SubmissionStore // nil when Key is nil
	Intake *submission.Service       // nil when Key is nil
}

// newServeCore builds the queue (not started: call start once every part has
// registered its handlers) and, with a master key, the vault and intake.
func newServeCore(ctx context.Context, env *Env, db *sqlstore.DB, log *slog.Logger, dataDir string, demo bool) (*serveCore, error) {
	key, err := serveMasterKey(env, dataDir, demo, log)
	if err != nil {
		return nil, err
	}
	periodic := []jobs.Periodic{
		{Kind: JobSessionCleanup, Every: 10 * time.Minute, RunOnStart: true},
		{Kind: JobFitconnectDeadlines, Every: time.Minute},
	}
	if key != nil {
		periodic = append(periodic, delivery.Periodic(30*time.Second))
	}
	q, err := jobs.New(ctx, db, jobs.Options{Periodic: periodic, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := q.Register(JobSessionCleanup, func(ctx context.Context, _ json.RawMessage) error {
		n, err := db.DeleteExpiredSessions(ctx, time.Now())
		if n > 0 {
			log.Info("expired sessions deleted", "count", n)
		}
		return err
	}); err != nil {
		return nil, err
	}
	c := &serveCore{DB: db, Log: log, Key: key, Queue: q}
	if key != nil {
		c.Vault = vault.New(db.VaultKeys(), key)
		c.Store = db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
			jj := make([]jobs.Job, len(js))
			for i, j := range js {
				jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
			}
			return q.EnqueueMany(ctx, tx, jj)
		}).UseOutbox()
		c.Intake = submission.New(c.Store, c.Vault, submission.Options{})
	}
	return c, nil
}

// start starts the job queue.
func (c *serveCore) start(ctx context.Context) error { return c.Queue.Start(ctx) }

// stop stops the queue (waiting for running jobs up to 10 s) and the intake.
func (c *serveCore) stop(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.Queue.Stop(sctx); err != nil {
		c.Log.Warn("job queue stop", "error", err.Error())
	}
	if c.Intake != nil {
		c.Intake.Close()
	}
}
