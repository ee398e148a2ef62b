// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"rathaus"
	"rathaus/catalog"
	"rathaus/identity"
	"rathaus/sqlstore"
	"rathaus/tenant"
)

// hostile are inputs that break SQL built by string concatenation, LIKE
// patterns without escaping, or a naive ?→$n rebinder.
var hostile = []string{
	`O'Brien`,
	`x' OR '1'='1`,
	`"; DROP TABLE tenants; --`,
	`?`,
	`$1`,
	`100%`,
	`a_b`,
	`back\slash`,
	`-- comment`,
	"nul\x00byte",
}

// TestHostileInputRoundTrips stores and finds values that would break
// concatenated SQL: they must come back unchanged and match only themselves.
func TestHostileInputRoundTrips(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		if err := db.Tenants().UpsertTenants(ctx, fixtureTenants()); err != nil {
			t.Fatal(err)
		}
		for i, h := range hostile {
			if strings.ContainsRune(h, 0) && db.Dialect() == sqlstore.Postgres {
				continue // PostgreSQL text cannot hold NUL; covered on SQLite
			}
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				// Tenants: name round trip and FindGemeinden on it.
				ars := "0643200090" + strconv.Itoa(10+i)
				in := tenant.Tenant{ARS: ars, Parent: arsKreisDaDi, Level: tenant.LevelGemeinde, Name: "Zz " + h, Inhabited: true}
				if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{in}); err != nil {
					t.Fatal(err)
				}
				got, err := db.Tenants().Tenant(ctx, ars)
				if err != nil || got.Name != in.Name {
					t.Fatalf("Tenant = %+v, %v; want name %q", got, err, in.Name)
				}
				found, err := db.Tenants().FindGemeinden(ctx, h, 50)
				if err != nil {
					t.Fatalf("FindGemeinden(%q): %v", h, err)
				}
				for _, f := range found {
					if !strings.Contains(sqlstore.FoldPlain(f.Name), sqlstore.FoldPlain(strings.TrimSpace(h))) {
						t.Errorf("FindGemeinden(%q) found %q, which does not contain the query", h, f.Name)
					}
				}
				if _, err := db.Tenants().Tenant(ctx, h); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("Tenant(%q) = %v, want ENOTFOUND", h, err)
				}

				// Catalog: a service keyed and named by the hostile string.
				svc := catalog.Service{Tenant: arsGemA, Key: "k-" + h, Source: "demo", Name: "Yy " + h, Summary: h, Keywords: []string{h}}
				if err := db.Catalog().UpsertServices(ctx, []catalog.Service{svc}); err != nil {
					t.Fatal(err)
				}
				s, err := db.Catalog().Service(ctx, arsGemA, svc.Key)
				if err != nil || s.Name != svc.Name || s.Summary != h {
					t.Fatalf("Service = %+v, %v", s, err)
				}
				if _, err := db.Catalog().Service(ctx, arsGemB, svc.Key); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("service of Gemeinde A visible as Gemeinde B: %v", err)
				}
				res, n, err := db.Catalog().Search(ctx, catalog.Query{Municipality: arsGemA, Text: h, Lebenslage: h, Themenfeld: h})
				if err != nil || n != 0 || len(res) != 0 {
					t.Errorf("Search with hostile Lebenslage/Themenfeld = %d results, %v; want none", n, err)
				}
				res, _, err = db.Catalog().Search(ctx, catalog.Query{Municipality: arsGemA, Text: "Yy " + h, Limit: 100})
				if err != nil {
					t.Fatalf("Search(%q): %v", h, err)
				}
				hit := false
				for _, r := range res {
					hit = hit || r.Key == svc.Key
					text := sqlstore.Fold(r.Name + " " + strings.Join(r.Keywords, " ") + " " + r.Summary)
					for _, w := range strings.Fields(sqlstore.Fold("Yy " + h)) {
						if !strings.Contains(text, strings.Trim(w, ",-")) {
							t.Errorf("Search(%q) found %q, which lacks the word %q", "Yy "+h, r.Name, w)
						}
					}
				}
				if !hit {
					t.Errorf("Search(%q) did not find its service; got %d results", "Yy "+h, len(res))
				}

				// Identity: user subject and session id.
				u, err := db.Identity().UpsertUser(ctx, identity.User{Issuer: "https://idp", Subject: h, Name: h})
				if err != nil {
					t.Fatal(err)
				}
				back, err := db.Identity().User(ctx, u.ID)
				if err != nil || back.Subject != h || back.Name != h {
					t.Errorf("User = %+v, %v", back, err)
				}
				if _, err := db.Identity().Session(ctx, h); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("Session(%q) = %v, want ENOTFOUND", h, err)
				}
			})
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM tenants`).Scan(&n); err != nil || n < len(fixtureTenants()) {
			t.Errorf("tenants table after hostile input: %d rows, %v", n, err)
		}
	})
}

// TestHugeQueries: absurdly long queries neither fail nor hit the
// dialects' parameter limits.
func TestHugeQueries(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		if err := db.Tenants().UpsertTenants(ctx, fixtureTenants()); err != nil {
			t.Fatal(err)
		}
		svc := catalog.Service{Tenant: tenant.Bund, Key: "k1", Source: "demo", Name: "Hundesteuer anmelden"}
		if err := db.Catalog().UpsertServices(ctx, []catalog.Service{svc}); err != nil {
			t.Fatal(err)
		}
		many := strings.Repeat("hund ", 20000)
		res, n, err := db.Catalog().Search(ctx, catalog.Query{Municipality: arsGemA, Text: many})
		if err != nil || n != 1 || len(res) != 1 {
			t.Errorf("Search with 20000 words = %d, %v; want the one service", n, err)
		}
		if got, err := db.Tenants().FindGemeinden(ctx, strings.Repeat("Groß-Umstadt ", 5000), 10); err != nil || len(got) != 0 {
			t.Errorf("FindGemeinden with a 65 kB query = %v, %v; want nothing, no error", names(got), err)
		}
		if got, err := db.Tenants().FindGemeinden(ctx, "  Groß-Umstadt  ", 10); err != nil || len(got) == 0 {
			t.Errorf("FindGemeinden(Groß-Umstadt) = %v, %v", names(got), err)
		}
	})
}

// sqlWord matches SQL that a format string might build.
var sqlWord = regexp.MustCompile(`(?i)\b(select|insert|update|delete|where|values|order by|from)\b`)

// TestNoFormattedSQL fails when a fmt print function in this package's
// code formats a string that looks like SQL with a verb other than %d:
// values go in as parameters, never into the text.
func TestNoFormattedSQL(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "fmt" || !strings.HasSuffix(sel.Sel.Name, "f") {
				return true
			}
			for _, a := range call.Args {
				lit, ok := a.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				if !sqlWord.MatchString(s) && !strings.Contains(s, " ? ") && !strings.Contains(s, "WHEN") {
					continue
				}
				for _, verb := range regexp.MustCompile(`%[^%d]`).FindAllString(strings.ReplaceAll(s, "%%", ""), -1) {
					t.Errorf("%s: fmt.%s formats SQL with %s: pass the value as a parameter", fset.Position(lit.Pos()), sel.Sel.Name, verb)
				}
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("checked only %d files", checked)
	}
}
