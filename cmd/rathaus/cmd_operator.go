// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"rathaus"
	"rathaus/audit"
	"rathaus/identity/password"
)

func init() {
	register(&Command{
		Name:    "operator set-password",
		Summary: "set the local operator account's password (read from stdin) / Betriebskonto-Passwort setzen",
		Run:     runOperatorSetPassword,
	})
}

// runOperatorSetPassword hashes the password on the first line of stdin
// with Argon2id and writes DATA/operator.passwd (0600); the change goes to
// the audit log.
func runOperatorSetPassword(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "operator set-password")
	var sf storeFlags
	sf.register(fs, env)
	name := fs.String("name", "operator", "name of the operator account")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (the password is read from stdin)", pos[0])
	}
	if !password.ValidName(*name) {
		return usagef("--name %q: use 1–64 letters, digits, '.', '-' or '_'", *name)
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return rathaus.Errorf(rathaus.EINVALID, "stdin: no password given (pipe it in, one line)")
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := password.CheckStrength(pw); err != nil {
		return err
	}
	phc, err := password.Hash(pw)
	if err != nil {
		return err
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	path := filepath.Join(sf.data, password.FileName)
	if err := password.WriteFile(path, *name, phc); err != nil {
		return err
	}
	if _, err := db.Audit().Append(ctx, audit.Entry{Actor: "cli", Action: "operator.set-password", Object: "operator/" + *name}); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(struct {
			Name string `json:"name"`
			File string `json:"file"`
		}{*name, path})
	}
	_, err = fmt.Fprintf(env.Stdout, "operator %q password set in %s\n", *name, path)
	return err
}
