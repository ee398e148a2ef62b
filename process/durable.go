// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"

	"rathaus"
)

// Entry points for a job-driven runner (one job per effect, one job per
// timer, one job per start), used by the durable wiring in casework.

// StartWithID starts the latest version of key for tenant as instance id.
// Starting the same id twice is ECONFLICT from the store (the first start
// won), so a start job may run twice.
func (r *Runner) StartWithID(ctx context.Context, tenant, key, id string, vars map[string]any) (*Instance, error) {
	def, err := r.definition(ctx, tenant, key, 0)
	if err != nil {
		return nil, err
	}
	eng := Engine{NewID: func() string { return id }}
	if r.Engine != nil {
		eng.Now = r.Engine.Now
	}
	inst, effects, err := eng.Start(ctx, def, vars)
	if err != nil {
		return nil, err
	}
	if err := r.Store.CreateInstance(ctx, inst, effects); err != nil {
		return nil, err
	}
	return inst, nil
}

// RunEffect executes one effect of the outbox (see RunPending): an action
// goes to its handler and its result commits together with the effect
// marked done; any other effect goes to OnEffect. Running an effect that
// is done already changes nothing visible: actions are only run while open.
func (r *Runner) RunEffect(ctx context.Context, e Effect) error {
	return r.runEffect(ctx, e)
}

// FireTimer fires one timer of an instance. A timer that fired or was
// cancelled meanwhile, or an instance that ended, is not an error.
func (r *Runner) FireTimer(ctx context.Context, tenant, instanceID, timerID string) error {
	_, err := r.step(ctx, tenant, instanceID, Event{Kind: EventTimer, Ref: timerID}, "", nil)
	if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
		return nil
	}
	return err
}

// Definition returns the compiled definition of key for tenant (version 0:
// the latest), cached per version.
func (r *Runner) Definition(ctx context.Context, tenant, key string, version int) (*Definition, error) {
	return r.definition(ctx, tenant, key, version)
}
