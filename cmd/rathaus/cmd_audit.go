// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"fmt"

	"rathaus"
	"rathaus/audit"
)

func init() {
	register(&Command{
		Name:    "audit verify",
		Summary: "check the hash chain of the audit log / Prüfprotokoll verifizieren",
		Run:     runAuditVerify,
	})
}

func runAuditVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "audit verify")
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
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	log := db.Audit()
	bad, reason, err := audit.Verify(ctx, log)
	if err != nil {
		return err
	}
	var n int64
	if err := log.Walk(ctx, func(audit.Entry) error { n++; return nil }); err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(struct {
			Intact   bool   `json:"intact"`
			Entries  int64  `json:"entries"`
			BrokenAt int64  `json:"broken_at,omitempty"`
			Reason   string `json:"reason,omitempty"`
		}{bad == 0, n, bad, reason}); err != nil {
			return err
		}
	}
	if bad != 0 {
		return rathaus.Errorf(rathaus.ECONFLICT, "audit log broken at entry %d: %s", bad, reason)
	}
	if !*asJSON {
		fmt.Fprintf(env.Stdout, "audit log intact: %d entries\n", n)
	}
	return nil
}
