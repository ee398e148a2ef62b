// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"rathaus"
	"rathaus/fim"
	"rathaus/form"
)

func init() {
	register(&Command{
		Name:    "fim inspect",
		Summary: "summarise an XDatenfelder schema / FIM-Datenschema zusammenfassen",
		Run:     runFIMInspect,
	})
	register(&Command{
		Name:    "fim jsonschema",
		Summary: "print the JSON Schema of a form's answers / JSON Schema der Fachdaten ausgeben",
		Run:     runFIMJSONSchema,
	})
}

// fimSummary is the output of `rathaus fim inspect --json`. Fields and
// groups count distinct (id, version) elements; the *_uses counts are
// occurrences in the tree.
type fimSummary struct {
	ID              string   `json:"id"`
	Version         string   `json:"version"`
	Name            string   `json:"name"`
	Title           string   `json:"title"`
	Format          string   `json:"format"`
	Fields          int      `json:"fields"`
	Groups          int      `json:"groups"`
	FieldUses       int      `json:"field_uses"`
	GroupUses       int      `json:"group_uses"`
	Rules           int      `json:"rules"`
	RulesRecognised int      `json:"rules_recognised"`
	CodeLists       int      `json:"codelists"`
	Steps           int      `json:"steps"`
	Warnings        []string `json:"warnings"`
}

// loadFIM reads FILE: a schema file (code lists from its directory) or a
// directory holding one schema.
func loadFIM(path string) (*form.Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "cannot read %s: %v", path, err)
	}
	if st.IsDir() {
		return fim.LoadDir(path)
	}
	return fim.LoadFile(path)
}

func oneFile(env *Env, name string, args []string) (string, bool, error) {
	fs := newFlagSet(env, name)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", false, err
	}
	if len(pos) != 1 {
		return "", false, usagef("want exactly one FILE (schema file or directory), got %d arguments", len(pos))
	}
	return pos[0], *asJSON, nil
}

func runFIMInspect(ctx context.Context, env *Env, args []string) error {
	path, asJSON, err := oneFile(env, "fim inspect", args)
	if err != nil {
		return err
	}
	m, err := loadFIM(path)
	if err != nil {
		return err
	}
	c := m.Count()
	s := fimSummary{
		ID: m.ID, Version: m.Version, Name: m.Name, Title: m.Title, Format: m.Format,
		Fields: c.Fields, Groups: c.Groups, FieldUses: c.FieldUses, GroupUses: c.GroupUses,
		Rules: len(m.Rules), RulesRecognised: m.RulesRecognised(), CodeLists: len(m.CodeLists),
		Steps: len(m.Steps()), Warnings: m.Warnings,
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	w := env.Stdout
	fmt.Fprintf(w, "%s %s %q (%s)\n", s.ID, s.Version, s.Name, s.Format)
	fmt.Fprintf(w, "  Felder / fields:           %d (%d Verwendungen / uses)\n", s.Fields, s.FieldUses)
	fmt.Fprintf(w, "  Gruppen / groups:          %d (%d Verwendungen / uses)\n", s.Groups, s.GroupUses)
	fmt.Fprintf(w, "  Regeln / rules:            %d (%d als Bedingung erkannt / recognised)\n", s.Rules, s.RulesRecognised)
	fmt.Fprintf(w, "  Codelisten / code lists:   %d\n", s.CodeLists)
	fmt.Fprintf(w, "  Schritte / steps:          %d\n", s.Steps)
	if len(s.Warnings) > 0 {
		fmt.Fprintf(w, "Warnungen / warnings (%d):\n", len(s.Warnings))
		for _, x := range s.Warnings {
			fmt.Fprintf(w, "  %s\n", x)
		}
	}
	return nil
}

func runFIMJSONSchema(ctx context.Context, env *Env, args []string) error {
	path, _, err := oneFile(env, "fim jsonschema", args)
	if err != nil {
		return err
	}
	m, err := loadFIM(path)
	if err != nil {
		return err
	}
	out, err := m.JSONSchema()
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "JSON Schema export failed")
	}
	_, err = fmt.Fprintf(env.Stdout, "%s\n", out)
	return err
}
