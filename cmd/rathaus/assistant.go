// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"rathaus"
	"rathaus/assistant"
	"rathaus/search"
	"rathaus/sqlstore"
	"rathaus/web"
)

// searchRefreshDefault is how often serve checks whether the catalog
// changed and the search index must be rebuilt (RATHAUS_SEARCH_REFRESH).
const searchRefreshDefault = 60 * time.Second

// addAssistant builds the search index from the catalog, shares it between
// the portal's search page (/suche) and the citizen assistant (/assistent,
// POST /api/assistant), and keeps it current: every RATHAUS_SEARCH_REFRESH
// (default 60 s) it compares a cheap catalog fingerprint and rebuilds the
// index in the background when the catalog changed. The LLM is used only
// when llmURL is set (--llm-url / RATHAUS_LLM_URL); it then needs a model
// (--llm-model / RATHAUS_LLM_MODEL).
func addAssistant(ctx context.Context, env *Env, db *sqlstore.DB, deps *web.Deps, log *slog.Logger, llmURL, llmModel string) error {
	every := searchRefreshDefault
	if v := env.Getenv("RATHAUS_SEARCH_REFRESH"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			return usagef("RATHAUS_SEARCH_REFRESH: %q is no duration of at least 100ms (e.g. 60s)", v)
		}
		every = d
	}
	opts := assistant.Options{Logger: log, HasForm: deps.HasForm}
	if llmURL != "" {
		if llmModel == "" {
			return usagef("--llm-url needs --llm-model")
		}
		c, err := assistant.NewOpenAI(assistant.OpenAIConfig{BaseURL: llmURL, Model: llmModel, APIKey: env.Getenv("RATHAUS_LLM_API_KEY")})
		if err != nil {
			return usagef("%s", rathaus.ErrorMessage(err))
		}
		opts.LLM = c
	}
	li := &liveIndex{db: db, opts: search.Options{DictionaryPath: env.Getenv("RATHAUS_DICTIONARY")}, log: log}
	n, err := li.refresh(ctx)
	if err != nil {
		return err
	}
	a, err := assistant.New(li, db.Catalog(), db.Tenants(), opts)
	if err != nil {
		return err
	}
	deps.Features = append(deps.Features, web.AssistantFeature{Assistant: a})
	deps.Search = web.IndexSearch(li.Current)
	go li.run(ctx, every)
	log.Info("assistant ready", "services", n, "llm", llmURL != "", "search_refresh", every.String())
	return nil
}

// liveIndex is the search index shared by the search page and the
// assistant. refresh rebuilds it when the catalog fingerprint changed and
// swaps it in atomically; searches in flight finish on the old index.
type liveIndex struct {
	db   *sqlstore.DB
	opts search.Options
	log  *slog.Logger

	cur  atomic.Pointer[search.Index]
	last string // fingerprint of the catalog the current index was built from
	seq  int64  // last audit sequence number of an import seen
}

// Current returns the index in use.
func (l *liveIndex) Current() *search.Index { return l.cur.Load() }

// Search searches the index in use (assistant.Retriever).
func (l *liveIndex) Search(q string, opts search.SearchOptions) []search.Hit {
	idx := l.cur.Load()
	if idx == nil {
		return nil
	}
	return idx.Search(q, opts)
}

// fingerprint is a cheap summary of the catalog: the number of service
// descriptions, their latest update time, and the sequence number of the
// latest import in the audit log (every `rathaus import` writes one in its
// transaction, so a re-import that changes texts but neither count nor
// dates is noticed too). The audit query only reads entries after the last
// import seen, by primary key.
func (l *liveIndex) fingerprint(ctx context.Context) (string, error) {
	var count, updated int64
	r := l.db.Reader()
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM services`).Scan(&count, &updated); err != nil {
		return "", fmt.Errorf("search index fingerprint: %w", err)
	}
	var seq int64
	q := l.db.Rebind(`SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE seq > ? AND action LIKE 'import.%'`)
	if err := r.QueryRowContext(ctx, q, l.seq).Scan(&seq); err != nil {
		return "", fmt.Errorf("search index fingerprint: %w", err)
	}
	if seq > l.seq {
		l.seq = seq
	}
	return fmt.Sprintf("%d/%d/%d", count, updated, l.seq), nil
}

// refresh rebuilds the index if the catalog changed since the last build
// and returns the number of services indexed (0 when nothing changed).
// Only one goroutine calls it at a time (start-up, then run).
func (l *liveIndex) refresh(ctx context.Context) (int, error) {
	fp, err := l.fingerprint(ctx)
	if err != nil {
		return 0, err
	}
	if fp == l.last && l.cur.Load() != nil {
		return 0, nil
	}
	// The fingerprint is taken before the build: a change during the
	// build shows at the next check.
	idx, n, err := assistant.BuildIndex(ctx, l.db.Catalog(), l.opts)
	if err != nil {
		return 0, err
	}
	l.cur.Store(idx)
	l.last = fp
	return n, nil
}

// run checks the catalog every interval until ctx ends. Errors are logged;
// the old index stays in use.
func (l *liveIndex) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		n, err := l.refresh(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			l.log.Error("search index rebuild failed; the old index stays in use", "err", err)
		case n > 0:
			l.log.Info("search index rebuilt after a catalog change", "services", n, "took", time.Since(start).Round(time.Millisecond).String())
		}
	}
}
