// SPDX-License-Identifier: EUPL-1.2

// Package archtest enforces the dependency direction of docs/ARCHITECTURE.md:
// domain packages import only the standard library and other domain
// packages, never database/sql, net/http or a driver.
package archtest

import (
	"os/exec"
	"strings"
	"testing"

	"rathaus/internal/testenv"
)

// domain lists the domain packages and the non-stdlib imports each may use.
var domain = map[string][]string{
	"rathaus":    nil,
	"tenant":     {"rathaus"},
	"catalog":    {"rathaus", "rathaus/tenant"},
	"identity":   {"rathaus", "rathaus/tenant"},
	"audit":      {"rathaus", "rathaus/internal/jsonw"},
	"form":       {"rathaus"},
	"fim":        {"rathaus", "rathaus/form"},
	"bpmn":       {"rathaus"},
	"process":    {"rathaus", "rathaus/bpmn", "rathaus/internal/jsonw", "github.com/expr-lang/expr", "github.com/expr-lang/expr/ast", "github.com/expr-lang/expr/vm", "github.com/expr-lang/expr/builtin"},
	"vault":      {"rathaus"},
	"submission": {"rathaus", "rathaus/audit", "rathaus/form", "rathaus/identity"},
}

// forbiddenStd are standard-library packages that belong to technology
// packages, not to the domain.
var forbiddenStd = []string{"database/sql", "net/http"}

func TestDomainImports(t *testing.T) {
	root := testenv.RepoRoot(t)
	for pkg, allowed := range domain {
		path := "rathaus"
		if pkg != "rathaus" {
			path += "/" + pkg
		}
		out, err := exec.Command("go", "list", "-C", root, "-f", `{{join .Imports "\n"}}`, path).CombinedOutput()
		if err != nil {
			// Every listed package exists: a missing one is a rename or a
			// move that must update this list, not a reason to skip it.
			t.Fatalf("go list %s: %v\n%s", path, err, out)
		}
		for _, imp := range strings.Fields(string(out)) {
			for _, f := range forbiddenStd {
				if imp == f {
					t.Errorf("%s imports %s: domain packages must not use technology packages", path, imp)
				}
			}
			first := strings.SplitN(imp, "/", 2)[0]
			if !strings.Contains(first, ".") && first != "rathaus" {
				continue // standard library
			}
			ok := false
			for _, a := range allowed {
				if imp == a {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s, which its row in docs/ARCHITECTURE.md does not allow", path, imp)
			}
		}
	}
}
