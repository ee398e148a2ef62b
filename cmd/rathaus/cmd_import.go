// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/catalog"
	"rathaus/catalog/importer"
	"rathaus/demo"
	"rathaus/sqlstore"
	"rathaus/tenant"
)

func init() {
	register(&Command{
		Name:    "import municipalities",
		Summary: "import the Destatis GV-ISys extract as the tenant tree / Gemeindeverzeichnis importieren",
		Run:     runImportMunicipalities,
	})
	register(&Command{
		Name:    "import leika",
		Summary: "import LeiKa services (+ OZG catalogue) at Bund level / LeiKa-Leistungen importieren",
		Run:     runImportLeiKa,
	})
	register(&Command{
		Name:    "import demo",
		Summary: "load the demo content (Darmstadt, Weiterstadt, Regensburg) / Demo-Inhalte laden",
		Run:     runImportDemo,
	})
	register(&Command{
		Name:    "import dldb",
		Summary: "import a municipal DLDB export (services, locations) / Dienstleistungsdatenbank importieren",
		Run:     runImportDLDB,
	})
}

// importSummary is what every import prints (one line, or JSON with --json).
type importSummary struct {
	Kind       string         `json:"kind"`
	Files      []string       `json:"files"`
	Tenant     string         `json:"tenant,omitempty"`
	Counts     map[string]int `json:"counts"`
	Warnings   []string       `json:"warnings"`
	DurationMS int64          `json:"duration_ms"`
	AuditSeq   int64          `json:"audit_seq"`
}

// maxWarningLines bounds the warnings printed to stderr without --json.
const maxWarningLines = 20

func (s *importSummary) print(env *Env, asJSON bool, order []string) error {
	if asJSON {
		if s.Warnings == nil {
			s.Warnings = []string{}
		}
		return json.NewEncoder(env.Stdout).Encode(s)
	}
	for i, w := range s.Warnings {
		if i == maxWarningLines {
			fmt.Fprintf(env.Stderr, "warning: … %d more (use --json to see all)\n", len(s.Warnings)-i)
			break
		}
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	line := "imported"
	for i, k := range order {
		if i > 0 {
			line += ","
		}
		line += fmt.Sprintf(" %d %s", s.Counts[k], k)
	}
	if s.Tenant != "" {
		line += " for " + s.Tenant
	}
	fmt.Fprintf(env.Stdout, "%s; %d warnings; %.2fs\n", line, len(s.Warnings), float64(s.DurationMS)/1000)
	return nil
}

func warningStrings(ws []importer.Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

// auditImport appends the audit entry of an import inside its transaction.
func auditImport(ctx context.Context, db *sqlstore.DB, tx *sql.Tx, s *importSummary) error {
	details := map[string]string{"warnings": strconv.Itoa(len(s.Warnings))}
	for k, v := range s.Counts {
		details[k] = strconv.Itoa(v)
	}
	obj := ""
	for i, f := range s.Files {
		if i > 0 {
			obj += " "
		}
		obj += filepath.Base(f)
	}
	e, err := db.AppendAudit(ctx, tx, audit.Entry{Tenant: s.Tenant, Actor: "cli", Action: "import." + s.Kind, Object: obj, Details: details})
	if err != nil {
		return err
	}
	s.AuditSeq = e.Seq
	return nil
}

func openInput(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "%s: cannot open: %v", path, unwrapPathError(err))
	}
	return f, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func runImportMunicipalities(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import municipalities")
	var sf storeFlags
	sf.register(fs, env)
	asJSON := fs.Bool("json", false, "print the summary and all warnings as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one FILE (the GV-ISys extract, e.g. AuszugGV4QAktuell_raw.csv)")
	}
	start := time.Now()
	f, err := openInput(pos[0])
	if err != nil {
		return err
	}
	ts, warns, err := importer.ReadMunicipalities(f, filepath.Base(pos[0]))
	f.Close()
	if err != nil {
		return err
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	sum := &importSummary{Kind: "municipalities", Files: pos, Counts: map[string]int{"tenants": len(ts)}, Warnings: warningStrings(warns)}
	for _, t := range ts {
		sum.Counts[t.Level.String()]++
	}
	if err := storeMunicipalities(ctx, db, ts, sum); err != nil {
		return err
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	return sum.print(env, *asJSON, []string{"tenants", "land", "regierungsbezirk", "kreis", "gemeindeverband", "gemeinde"})
}

func runImportLeiKa(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import leika")
	var sf storeFlags
	sf.register(fs, env)
	asJSON := fs.Bool("json", false, "print the summary and all warnings as JSON")
	ozgDir := fs.String("ozg", "", "OZG catalogue directory (themenfelder.csv, lebenslagen.csv, ozg-leistungen.csv); default: ../ozg-katalog beside the LeiKa file's folder, if it exists")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one FILE (leika-leistungen.csv)")
	}
	start := time.Now()
	f, err := openInput(pos[0])
	if err != nil {
		return err
	}
	ss, warns, err := importer.ReadLeiKa(f, filepath.Base(pos[0]))
	f.Close()
	if err != nil {
		return err
	}
	dir := *ozgDir
	if dir == "" {
		if abs, err := filepath.Abs(pos[0]); err == nil {
			cand := filepath.Join(filepath.Dir(filepath.Dir(abs)), "ozg-katalog")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				dir = cand
			}
		}
	}
	files := []string{pos[0]}
	var oc *importer.OZGCatalog
	if dir != "" {
		var ow []importer.Warning
		if oc, ow, err = importer.ReadOZG(dir); err != nil {
			return err
		}
		warns = append(warns, ow...)
		warns = append(warns, oc.Attach(ss)...)
		files = append(files, dir)
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	sum := &importSummary{Kind: "leika", Files: files, Tenant: tenant.Bund, Counts: map[string]int{"services": len(ss), "lebenslagen": 0}, Warnings: warningStrings(warns)}
	var lagen []catalog.Lebenslage
	if oc != nil {
		lagen = oc.Lebenslagen
	}
	if err := storeLeiKa(ctx, db, ss, lagen, sum); err != nil {
		return err
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	return sum.print(env, *asJSON, []string{"services", "lebenslagen"})
}

func runImportDLDB(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import dldb")
	var sf storeFlags
	sf.register(fs, env)
	asJSON := fs.Bool("json", false, "print the summary and all warnings as JSON")
	ars := fs.String("tenant", "", "ARS of the municipality the export belongs to (must exist: import municipalities first), e.g. 091620000000")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want SERVICES.json [LOCATIONS.json] [authority/topic files] --tenant ARS")
	}
	if *ars == "" {
		return usagef("--tenant ARS is required (the municipality the export belongs to)")
	}
	if !tenant.ValidARS(*ars) {
		return usagef("--tenant %q is not a 12-digit ARS", *ars)
	}
	start := time.Now()
	for _, p := range pos {
		if _, err := os.Stat(p); err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "%s: cannot open: %v", p, unwrapPathError(err))
		}
	}
	ss, offices, offers, warns, err := importer.ReadDLDBFiles(*ars, pos...)
	if err != nil {
		return err
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.Tenants().Tenant(ctx, *ars)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return rathaus.Errorf(rathaus.ENOTFOUND, "tenant %s does not exist; import the municipalities first (rathaus import municipalities FILE)", *ars)
	} else if err != nil {
		return err
	}
	// Services with a LeiKa key inherit the OZG classification of the
	// national entry, if the LeiKa catalogue is imported.
	for i := range ss {
		if ss[i].LeiKa == "" {
			continue
		}
		n, err := db.Catalog().Service(ctx, tenant.Bund, ss[i].LeiKa)
		if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		importer.FillFromNational(&ss[i], *n)
	}
	sum := &importSummary{Kind: "dldb", Files: pos, Tenant: t.ARS, Warnings: warningStrings(warns),
		Counts: map[string]int{"services": len(ss), "offices": len(offices), "offers": len(offers)}}
	if err := storeDLDB(ctx, db, ss, offices, offers, sum); err != nil {
		return err
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	if !*asJSON {
		fmt.Fprintf(env.Stdout, "%s (%s): ", t.Name, t.ARS)
		sum.Tenant = ""
	}
	return sum.print(env, *asJSON, []string{"services", "offices", "offers"})
}

// storeMunicipalities upserts the tenant tree and its audit entry in one
// transaction.
func storeMunicipalities(ctx context.Context, db *sqlstore.DB, ts []tenant.Tenant, sum *importSummary) error {
	return db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.Tenants().UpsertTenants(ctx, ts); err != nil {
			return err
		}
		return auditImport(ctx, db, tx, sum)
	})
}

// storeLeiKa upserts the national services, the Lebenslagen and the audit
// entry in one transaction; it creates the Bund root when it is missing.
func storeLeiKa(ctx context.Context, db *sqlstore.DB, ss []catalog.Service, lagen []catalog.Lebenslage, sum *importSummary) error {
	_, err := db.Tenants().Tenant(ctx, tenant.Bund)
	needBund := rathaus.ErrorCode(err) == rathaus.ENOTFOUND
	if err != nil && !needBund {
		return err
	}
	sum.Counts["lebenslagen"] = len(lagen)
	return db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if needBund {
			if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{{ARS: tenant.Bund, Level: tenant.LevelBund, Name: importer.BundName, Inhabited: true}}); err != nil {
				return err
			}
		}
		if len(lagen) > 0 {
			if err := db.Catalog().UpsertLebenslagen(ctx, lagen); err != nil {
				return err
			}
		}
		if err := db.Catalog().UpsertServices(ctx, ss); err != nil {
			return err
		}
		return auditImport(ctx, db, tx, sum)
	})
}

// storeDLDB upserts one municipality's services, offices and offers and the
// audit entry in one transaction.
func storeDLDB(ctx context.Context, db *sqlstore.DB, ss []catalog.Service, offices []catalog.Office, offers []catalog.Offer, sum *importSummary) error {
	return db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.Catalog().UpsertServices(ctx, ss); err != nil {
			return err
		}
		if err := db.Catalog().UpsertOffices(ctx, offices); err != nil {
			return err
		}
		if err := db.Catalog().UpsertOffers(ctx, offers); err != nil {
			return err
		}
		return auditImport(ctx, db, tx, sum)
	})
}

func runImportDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import demo")
	var sf storeFlags
	sf.register(fs, env)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	start := time.Now()
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	sum := &importSummary{Kind: "demo", Files: []string{}, Counts: map[string]int{
		"tenants": len(demo.Tenants()), "services": len(demo.Services()), "offices": len(demo.Offices()), "offers": len(demo.Offers()),
	}}
	err = db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := demo.Seed(ctx, db.Tenants(), db.Catalog()); err != nil {
			return err
		}
		return auditImport(ctx, db, tx, sum)
	})
	if err != nil {
		return err
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	return sum.print(env, *asJSON, []string{"tenants", "services", "offices", "offers"})
}
