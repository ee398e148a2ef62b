// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"bytes"
	"context"
	_ "embed"
	"maps"

	"rathaus"
	"rathaus/bpmn"
)

// UniversalKey is the definition key (and process id) of the universal
// process.
const UniversalKey = "universal"

//go:embed universal.bpmn
var universalBPMN []byte

// UniversalBPMN returns the BPMN XML of the universal process, the default
// process of every service: received → completeness check (lane
// Sachbearbeitung) → if incomplete: request_information → the citizen
// answers (message "citizen answered") by the caseworker's deadline →
// back to the check; when complete: automated decision by rules (task
// "rules", overridable per service in the action map), else the
// caseworker decides → approval or rejection notice (generate_notice) →
// send_to_mailbox → closed.
//
// The answer deadline is the variable requestDeadline (RFC 3339, set by
// the desk's request action) through a timeDate expression on the
// interrupting boundary timer "deadline"; unset, it is P14D after the
// request. The non-interrupting reminder fires halfway between the
// request and the deadline (P7D of P14D; 36 hours of three days), so that
// a short deadline still leaves the citizen time after the reminder. When
// the deadline passes, deadlineExpired is set and the caseworker decides.
func UniversalBPMN() []byte { return append([]byte(nil), universalBPMN...) }

// DeployUniversal deploys the universal process for tenant as the next
// version of UniversalKey; actions may override bindings (the service's
// rules for task "rules").
func (r *Runner) DeployUniversal(ctx context.Context, tenant string, actions ActionMap) (DefinitionRecord, []Problem, error) {
	return r.Deploy(ctx, tenant, UniversalKey, universalBPMN, UniversalKey, actions)
}

// EnsureUniversal deploys the universal process for tenant as the next
// version unless the latest deployed version has the same model and
// actions already; deployed tells whether it did. Running instances keep
// the version they started with; new instances get the latest.
func (r *Runner) EnsureUniversal(ctx context.Context, tenant string, actions ActionMap) (rec DefinitionRecord, deployed bool, err error) {
	rec, err = r.Store.Definition(ctx, tenant, UniversalKey, 0)
	switch {
	case err == nil:
		if bytes.Equal(rec.Source, universalBPMN) && sameActions(rec.Actions, actions) {
			return rec, false, nil
		}
	case rathaus.ErrorCode(err) != rathaus.ENOTFOUND:
		return rec, false, err
	}
	rec, _, err = r.DeployUniversal(ctx, tenant, actions)
	return rec, err == nil, err
}

// sameActions compares action maps, nil and empty being the same.
func sameActions(a, b ActionMap) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.Action != y.Action || !maps.Equal(x.Params, y.Params) {
			return false
		}
	}
	return true
}

// CompileUniversal compiles the universal process; actions may override
// the bindings (e.g. the rules of a service for task "rules").
func CompileUniversal(actions ActionMap) (*Definition, []Problem, error) {
	defs, err := bpmn.Parse(universalBPMN, "universal.bpmn")
	if err != nil {
		return nil, nil, err
	}
	return Compile(defs, UniversalKey, actions)
}
