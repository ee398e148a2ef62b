// SPDX-License-Identifier: EUPL-1.2

package worker

import (
	"context"
	"database/sql"

	"rathaus/process"
)

// RunAction runs built-in action handler call.Action in a job step's
// transaction, as the process runner does (tests only).
func (w *Worker) RunAction(ctx context.Context, call process.ActionCall) (map[string]any, error) {
	handlers := map[string]process.ActionHandler{process.ActionSendToMailbox: w.sendToMailbox}
	var out map[string]any
	err := w.atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = handlers[call.Action](ctx, call)
		return err
	})
	return out, err
}
