// SPDX-License-Identifier: EUPL-1.2

package casework

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"rathaus"
)

// Rule is one automated rule of a service: when When (an expr-lang
// expression over the answers, e.g. `betrag <= 500 && wohnsitz == "Darmstadt"`)
// is true, the case gets Decision (approve, reject) or is routed to the
// office Route, without a human. Explanation is recorded in the case
// history. Rules are tried in order; the first that matches wins.
type Rule struct {
	Name        string `json:"name"`
	When        string `json:"when"`
	Decision    string `json:"decision,omitempty"` // approve | reject
	Route       string `json:"route,omitempty"`    // office id
	Explanation string `json:"explanation"`
}

// Rules are the compiled rules of one service.
type Rules struct {
	list  []Rule
	progs []*vm.Program
}

// CompileRules checks and compiles rules; a bad rule is EINVALID naming
// its position, field and reason.
func CompileRules(rules []Rule) (*Rules, error) {
	out := &Rules{}
	for i, r := range rules {
		switch {
		case r.When == "":
			return nil, rathaus.Errorf(rathaus.EINVALID, "rule %d (%s): field when: empty", i+1, r.Name)
		case r.Decision != "" && r.Decision != DecisionApprove && r.Decision != DecisionReject:
			return nil, rathaus.Errorf(rathaus.EINVALID, "rule %d (%s): field decision: %q is neither approve nor reject", i+1, r.Name, r.Decision)
		case (r.Decision == "") == (r.Route == ""):
			return nil, rathaus.Errorf(rathaus.EINVALID, "rule %d (%s): set exactly one of decision and route", i+1, r.Name)
		}
		p, err := expr.Compile(r.When, expr.AsBool(), expr.AllowUndefinedVariables())
		if err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "rule %d (%s): field when: %v", i+1, r.Name, err)
		}
		out.list = append(out.list, r)
		out.progs = append(out.progs, p)
	}
	return out, nil
}

// Outcome is the result of evaluating rules: the matching rule (nil if
// none) and the explanation for the history.
type Outcome struct {
	Rule        *Rule
	Decision    string // approve, reject, or manual
	Route       string
	Explanation string
}

// Evaluate runs the rules over the answers. A rule whose expression fails
// at run time (e.g. a type mismatch) does not match; its error is part of
// the explanation when nothing matches.
func (rs *Rules) Evaluate(answers map[string]any) Outcome {
	var failed string
	if rs != nil {
		for i, p := range rs.progs {
			v, err := expr.Run(p, answers)
			if err != nil {
				failed += fmt.Sprintf(" Regel %q nicht auswertbar: %v.", rs.list[i].Name, err)
				continue
			}
			if ok, _ := v.(bool); ok {
				r := rs.list[i]
				o := Outcome{Rule: &r, Decision: r.Decision, Route: r.Route}
				if o.Decision == "" {
					o.Decision = DecisionManual
				}
				o.Explanation = fmt.Sprintf("Regel %q trifft zu (%s): %s", r.Name, r.When, r.Explanation)
				return o
			}
		}
	}
	return Outcome{Decision: DecisionManual, Explanation: "Keine Regel trifft zu; Entscheidung durch die Sachbearbeitung." + failed}
}

// Len returns the number of rules.
func (rs *Rules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.list)
}
