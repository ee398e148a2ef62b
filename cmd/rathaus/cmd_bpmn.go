// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"rathaus"
	"rathaus/bpmn"
)

func init() {
	register(&Command{
		Name:    "bpmn inspect",
		Summary: "summarise a BPMN 2.0 file / BPMN-Datei zusammenfassen",
		Run:     runBPMNInspect,
	})
}

func runBPMNInspect(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bpmn inspect")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one FILE, got %d arguments", len(pos))
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "cannot read %s: %v", pos[0], err)
	}
	defs, err := bpmn.Parse(data, filepath.Base(pos[0]))
	if err != nil {
		return err
	}
	s := defs.Summary()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	for _, p := range s.Processes {
		exec := "nicht ausführbar / not executable"
		if p.Executable {
			exec = "ausführbar / executable"
		}
		fmt.Fprintf(env.Stdout, "Prozess / process %s %q (%s)\n", p.ID, p.Name, exec)
		types := make([]string, 0, len(p.Elements))
		for k := range p.Elements {
			types = append(types, k)
		}
		sort.Strings(types)
		for _, k := range types {
			fmt.Fprintf(env.Stdout, "  %-28s %d\n", k, p.Elements[k])
		}
	}
	if len(s.Unsupported) > 0 {
		fmt.Fprintf(env.Stdout, "Nicht unterstützt / unsupported (%d):\n", len(s.Unsupported))
		for _, u := range s.Unsupported {
			fmt.Fprintf(env.Stdout, "  %s %s %q: %s\n", u.Type, u.ID, u.Name, u.Reason)
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(env.Stdout, "Warnungen / warnings (%d):\n", len(s.Warnings))
		for _, w := range s.Warnings {
			fmt.Fprintf(env.Stdout, "  %s\n", w)
		}
	}
	return nil
}
