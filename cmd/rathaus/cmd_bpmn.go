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
	"rathaus/process"
)

func init() {
	register(&Command{
		Name:    "bpmn inspect",
		Summary: "summarise a BPMN 2.0 file / BPMN-Datei zusammenfassen",
		Run:     runBPMNInspect,
	})
	register(&Command{
		Name:    "bpmn check",
		Summary: "check that a process is executable / Ausführbarkeit eines Prozesses prüfen",
		Run:     runBPMNCheck,
	})
}

// runBPMNCheck compiles one process of FILE with an optional action map
// (JSON object: task id, implementation or name → {"action", "params"})
// and lists every problem; it fails when there is one.
func runBPMNCheck(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bpmn check")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	processID := fs.String("process", "", "process id (default: the only executable process)")
	actionsFile := fs.String("actions", "", "JSON file with the action map")
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
	var actions process.ActionMap
	if *actionsFile != "" {
		raw, err := os.ReadFile(*actionsFile)
		if err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "cannot read %s: %v", *actionsFile, err)
		}
		if err := json.Unmarshal(raw, &actions); err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "%s: not an action map: %v", *actionsFile, err)
		}
	}
	id := *processID
	if id == "" {
		var exec []string
		for _, p := range defs.Processes {
			if p.Executable {
				exec = append(exec, p.ID)
			}
		}
		if len(exec) != 1 {
			return rathaus.Errorf(rathaus.EINVALID, "%s has %d executable processes %v: name one with --process", pos[0], len(exec), exec)
		}
		id = exec[0]
	}
	_, problems, cerr := process.Compile(defs, id, actions)
	if cerr != nil && problems == nil {
		return cerr
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Process    string            `json:"process"`
			Executable bool              `json:"executable"`
			Problems   []process.Problem `json:"problems"`
		}{id, cerr == nil, append([]process.Problem{}, problems...)}); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintf(env.Stdout, "%s:%d: %s %s %q: %s\n", filepath.Base(pos[0]), p.Line, p.Type, p.ID, p.Name, p.Reason)
		}
		if cerr == nil {
			fmt.Fprintf(env.Stdout, "Prozess / process %s ist ausführbar / is executable\n", id)
		}
	}
	if cerr != nil {
		return rathaus.Errorf(rathaus.EINVALID, "process %s is not executable: %d problem(s)", id, len(problems))
	}
	return nil
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
