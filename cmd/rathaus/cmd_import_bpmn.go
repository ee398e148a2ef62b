// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"rathaus"
	"rathaus/bpmn"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/process"
	"rathaus/tenant"
)

func init() {
	register(&Command{
		Name:    "import bpmn",
		Summary: "deploy a BPMN process as the process of a service / BPMN-Prozess für eine Leistung bereitstellen",
		Run:     runImportBPMN,
	})
	register(&Command{
		Name:    "import rules",
		Summary: "set the automated decision rules of a service / Regeln zur automatischen Entscheidung setzen",
		Run:     runImportRules,
	})
}

// runImportRules stores the automated rules of a service for a tenant and
// its subtree: a JSON array of {"name", "when", "decision" | "route",
// "explanation"}; "when" is an expr-lang expression over the answers. An
// empty array removes the rules.
func runImportRules(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import rules")
	var sf storeFlags
	sf.register(fs, env)
	service := fs.String("service", "", "LeiKa key of the service (required)")
	ars := fs.String("tenant", "", "ARS of the tenant (the rules apply to its subtree; required)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	file, raw, err := serviceImportFile(fs, args, service, ars)
	if err != nil {
		return err
	}
	var rules []casework.Rule
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rules); err != nil {
		line := 1
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line += bytes.Count(raw[:min(int(se.Offset), len(raw))], []byte("\n"))
		case errors.As(err, &te):
			line += bytes.Count(raw[:min(int(te.Offset), len(raw))], []byte("\n"))
		}
		return rathaus.Errorf(rathaus.EINVALID, "%s:%d: not a list of rules: %v", filepath.Base(file), line, err)
	}
	if _, err := casework.CompileRules(rules); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "%s: %s", filepath.Base(file), rathaus.ErrorMessage(err))
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Cases().PutRules(ctx, *ars, *service, rules); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(struct {
			Tenant  string `json:"tenant"`
			Service string `json:"service"`
			Rules   int    `json:"rules"`
		}{*ars, *service, len(rules)})
	}
	fmt.Fprintf(env.Stdout, "%d Regeln für Leistung %s in %s gesetzt / rules set\n", len(rules), *service, *ars)
	return nil
}

// bpmnImport is what import bpmn prints.
type bpmnImport struct {
	Tenant    string            `json:"tenant"`
	Service   string            `json:"service"`
	Key       string            `json:"key"`
	Version   int               `json:"version"`
	Process   string            `json:"process"`
	Name      string            `json:"name"`
	Mapping   string            `json:"mapping"`
	Problems  []process.Problem `json:"problems"`
	Unsupport []string          `json:"unsupported"`
}

// runImportBPMN deploys one process of FILE as the next version of the
// service's process for a tenant (and its subtree): new applications of the
// service run it, running ones keep their version. service-bw's generic
// model gets its documented action mapping (process.ServiceBWActions)
// unless --actions names another.
func runImportBPMN(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import bpmn")
	var sf storeFlags
	sf.register(fs, env)
	service := fs.String("service", "", "LeiKa key of the service the process is for (required)")
	ars := fs.String("tenant", "", "ARS of the tenant (the process applies to its subtree; required)")
	processID := fs.String("process", "", "process id (default: the only executable process)")
	actionsFile := fs.String("actions", "", "JSON file with the action map (task id, implementation or name → {\"action\", \"params\"})")
	caseworker := fs.String("caseworker", "Sachbearbeitung", "service-bw mapping: responsible caseworker id")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	file, src, err := serviceImportFile(fs, args, service, ars)
	if err != nil {
		return err
	}
	defs, err := bpmn.Parse(src, filepath.Base(file))
	if err != nil {
		return err
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
			return rathaus.Errorf(rathaus.EINVALID, "%s has %d executable processes %v: name one with --process", file, len(exec), exec)
		}
		id = exec[0]
	}
	out := bpmnImport{Tenant: *ars, Service: *service, Key: worker.ServiceKey(*service), Process: id, Mapping: "model", Problems: []process.Problem{}, Unsupport: []string{}}
	var actions process.ActionMap
	switch {
	case *actionsFile != "":
		raw, err := os.ReadFile(*actionsFile)
		if err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "cannot read %s: %v", *actionsFile, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&actions); err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "%s: not an action map: %v", *actionsFile, err)
		}
		out.Mapping = *actionsFile
	case id == process.ServiceBWProcessID:
		actions = process.ServiceBWActions(*caseworker, *service)
		out.Mapping = "service-bw"
	}
	for _, u := range defs.Summary().Unsupported {
		out.Unsupport = append(out.Unsupport, fmt.Sprint(u))
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	w, err := worker.New(worker.Options{DB: db})
	if err != nil {
		return err
	}
	rec, problems, err := w.Runner.Deploy(ctx, *ars, out.Key, src, id, actions)
	out.Problems = append(out.Problems, problems...)
	if err != nil {
		if *asJSON {
			_ = json.NewEncoder(env.Stdout).Encode(out)
		}
		for _, p := range problems {
			fmt.Fprintf(env.Stderr, "%s:%d: %s %s %q: %s\n", filepath.Base(file), p.Line, p.Type, p.ID, p.Name, p.Reason)
		}
		return rathaus.Errorf(rathaus.EINVALID, "process %s is not executable: %d problem(s)", id, len(problems))
	}
	out.Version, out.Name = rec.Version, rec.Name
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(env.Stdout, "Prozess %s als %s Version %d für %s bereitgestellt / deployed (mapping: %s)\n", id, out.Key, rec.Version, *ars, out.Mapping)
	return nil
}

// serviceImportFile parses the arguments of an import for a service and
// tenant subtree (one FILE, --service, --tenant: the flags of fs that
// service and ars point to) and reads the file.
func serviceImportFile(fs *flag.FlagSet, args []string, service, ars *string) (string, []byte, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != 1 {
		return "", nil, usagef("want exactly one FILE, got %d arguments", len(pos))
	}
	if strings.TrimSpace(*service) == "" {
		return "", nil, usagef("--service LEIKA is required")
	}
	if !tenant.ValidARS(*ars) {
		return "", nil, usagef("--tenant %q: want a 12-digit ARS", *ars)
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return "", nil, rathaus.Errorf(rathaus.EINVALID, "cannot read %s: %v", pos[0], err)
	}
	return pos[0], raw, nil
}
