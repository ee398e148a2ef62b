// SPDX-License-Identifier: EUPL-1.2

package jobs

import (
	"context"
	"database/sql"

	"github.com/riverqueue/river"

	"rathaus"
)

// Job is one job for EnqueueMany.
type Job struct {
	Kind string
	Args any // marshalled to JSON, or used as is if it is a json.RawMessage
}

// EnqueueMany adds jobs inside tx with one statement (River's fast batch
// insert); they run only if tx commits. It is what a group commit uses to
// enqueue the jobs of many business steps at once.
func (q *Queue) EnqueueMany(ctx context.Context, tx *sql.Tx, js []Job) error {
	if tx == nil {
		return rathaus.Errorf(rathaus.EINTERNAL, "jobs: EnqueueMany needs the caller's transaction")
	}
	if len(js) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(js))
	for i, j := range js {
		if j.Kind == "" {
			return rathaus.Errorf(rathaus.EINVALID, "jobs: EnqueueMany needs a kind (job %d)", i)
		}
		raw, err := marshalArgs(j.Kind, j.Args)
		if err != nil {
			return err
		}
		params[i] = river.InsertManyParams{Args: rawArgs{kind: j.Kind, raw: raw}}
	}
	if _, err := q.client.InsertManyFastTx(ctx, tx, params); err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "jobs: cannot enqueue %d jobs", len(js))
	}
	return nil
}
