// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"fmt"
)

func init() {
	register(&Command{
		Name:    "migrate",
		Summary: "create or upgrade the database schema / Datenbankschema anlegen oder aktualisieren",
		Run:     runMigrate,
	})
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "migrate")
	var sf storeFlags
	sf.register(fs, env)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	db, err := sf.open(ctx) // Open applies the embedded migrations.
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.AppliedMigrations(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(struct {
			Dialect    string   `json:"dialect"`
			Migrations []string `json:"migrations"`
		}{db.Dialect(), applied})
	}
	fmt.Fprintf(env.Stdout, "database schema up to date (%s): %d migrations applied\n", db.Dialect(), len(applied))
	return nil
}
