// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"rathaus"
	"rathaus/audit"
	"rathaus/tenant"
)

func init() {
	register(&Command{
		Name:    "import fim",
		Summary: "store a FIM schema as a form version and attach it to a service for a tenant subtree: rathaus import fim FILE|DIR --service LEIKA --tenant ARS / FIM-Formular importieren",
		Run:     runImportFIM,
	})
}

// importFIMResult is the output of `rathaus import fim --json`.
type importFIMResult struct {
	Tenant          string   `json:"tenant"`
	Service         string   `json:"service"`
	ServiceName     string   `json:"service_name"`
	FormID          string   `json:"form_id"`
	FormVersion     string   `json:"form_version"`
	Title           string   `json:"title"`
	Format          string   `json:"format"`
	Steps           int      `json:"steps"`
	Fields          int      `json:"fields"`
	Groups          int      `json:"groups"`
	Rules           int      `json:"rules"`
	RulesRecognised int      `json:"rules_recognised"`
	CodeLists       int      `json:"codelists"`
	Warnings        []string `json:"warnings"`
}

func runImportFIM(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import fim")
	var sf storeFlags
	sf.register(fs, env)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	service := fs.String("service", "", "LeiKa key (or catalog key) of the service the form is for, e.g. 99050012104000")
	ars := fs.String("tenant", "", "ARS of the tenant subtree the form applies to (a Land applies to all its municipalities unless one overrides), e.g. 060000000000")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one FILE or DIR (schema file, or a directory holding one schema with its code lists)")
	}
	if *service == "" {
		return usagef("--service LEIKA is required")
	}
	if *ars == "" || !tenant.ValidARS(*ars) {
		return usagef("--tenant %q: a 12-digit ARS is required", *ars)
	}
	m, err := loadFIM(pos[0])
	if err != nil {
		return err
	}
	if m.Format != "xdf2" && m.Format != "xdf3" {
		return rathaus.Errorf(rathaus.EINVALID, "%s: nur XDatenfelder 2.0 und 3.0.0 werden importiert (format %q)", pos[0], m.Format)
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Tenants().Tenant(ctx, *ars); rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return rathaus.Errorf(rathaus.ENOTFOUND, "tenant %s does not exist; import the municipalities first (rathaus import municipalities FILE)", *ars)
	} else if err != nil {
		return err
	}
	res, err := db.Catalog().Resolve(ctx, *ars, *service)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return rathaus.Errorf(rathaus.ENOTFOUND, "service %s is not in the catalog for tenant %s; import it first (rathaus import leika / dldb)", *service, *ars)
	} else if err != nil {
		return err
	}
	err = db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		forms := db.Forms()
		if err := forms.PutForm(ctx, *ars, m); err != nil {
			return err
		}
		if err := forms.Bind(ctx, *ars, *service, m.ID, m.Version); err != nil {
			return err
		}
		_, err := db.AppendAudit(ctx, tx, audit.Entry{Tenant: *ars, Actor: "cli", Action: "form.import", Object: "form/" + m.ID + ":" + m.Version,
			Details: map[string]string{"service": *service, "format": m.Format}})
		return err
	})
	if err != nil {
		return err
	}
	c := m.Count()
	out := importFIMResult{Tenant: *ars, Service: *service, ServiceName: res.Service.Name, FormID: m.ID, FormVersion: m.Version, Title: m.Title,
		Format: m.Format, Steps: len(m.Steps()), Fields: c.Fields, Groups: c.Groups, Rules: len(m.Rules), RulesRecognised: m.RulesRecognised(),
		CodeLists: len(m.CodeLists), Warnings: m.Warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(env.Stdout, "Formular %s %s (%s, %d Schritte) für „%s“ (%s) im Mandanten %s gespeichert / form stored and attached; %d Warnungen / warnings\n",
		out.FormID, out.FormVersion, out.Format, out.Steps, out.ServiceName, out.Service, out.Tenant, len(out.Warnings))
	return nil
}
