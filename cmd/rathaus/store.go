// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"flag"

	"rathaus/sqlstore"
)

// storeFlags are the flags of every command that opens the store.
type storeFlags struct {
	data string // --data: directory for rathaus.db and files
	db   string // --db: database URL (postgres://…); empty uses SQLite in data
	// group is RATHAUS_DB_GROUP_COMMIT (auto, on, off): sqlstore.Config.GroupCommit
	group string
	// stmtCache is RATHAUS_SQLITE_STMT_CACHE (on, off): sqlstore.Config.StmtCache
	stmtCache string
}

// register adds --data (default RATHAUS_DATA or ./data) and --db (default
// RATHAUS_DB) to fs and reads RATHAUS_DB_GROUP_COMMIT and
// RATHAUS_SQLITE_STMT_CACHE.
func (f *storeFlags) register(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&f.data, "data", envDefault(env, "RATHAUS_DATA", "./data"), "data directory (SQLite database and files) [RATHAUS_DATA]")
	fs.StringVar(&f.db, "db", envDefault(env, "RATHAUS_DB", ""), "database URL, e.g. postgres://user@host/db; empty: SQLite in --data [RATHAUS_DB]")
	f.group = envDefault(env, "RATHAUS_DB_GROUP_COMMIT", "")
	f.stmtCache = envDefault(env, "RATHAUS_SQLITE_STMT_CACHE", "")
}

// open opens the store (creating the data directory) and applies migrations.
func (f *storeFlags) open(ctx context.Context) (*sqlstore.DB, error) {
	return sqlstore.Open(ctx, sqlstore.Config{DataDir: f.data, URL: f.db, GroupCommit: f.group, StmtCache: f.stmtCache})
}
