// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	_ "embed"

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
// answers (message "citizen answered") within P14D, with a reminder after
// P7D → back to the check; when complete: automated decision by rules
// (task "rules", overridable per service in the action map), else the
// caseworker decides → approval or rejection notice (generate_notice) →
// send_to_mailbox → closed.
func UniversalBPMN() []byte { return append([]byte(nil), universalBPMN...) }

// DeployUniversal deploys the universal process for tenant as the next
// version of UniversalKey; actions may override bindings (the service's
// rules for task "rules").
func (r *Runner) DeployUniversal(ctx context.Context, tenant string, actions ActionMap) (DefinitionRecord, []Problem, error) {
	return r.Deploy(ctx, tenant, UniversalKey, universalBPMN, UniversalKey, actions)
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
