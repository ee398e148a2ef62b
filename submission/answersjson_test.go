// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus/form"
	"rathaus/sqlstore"
	"rathaus/submission"
)

// TestSubmitAnswersJSON: the JSON given with the answers (an API body) is
// sealed as is and opens to the same answers.
func TestSubmitAnswersJSON(t *testing.T) {
	e := newEnv(t, sqlstore.SQLite, submission.Options{})
	ctx := context.Background()
	req := request(darmstadt, "json")
	body, err := json.Marshal(req.Answers)
	if err != nil {
		t.Fatal(err)
	}
	req.AnswersJSON = append([]byte(" "), body...) // as received, whitespace included
	rc, err := e.svc.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.OpenAnswers(ctx, rc.Application)
	if err != nil {
		t.Fatal(err)
	}
	var want form.Answers
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("opened answers differ (-want +got):\n%s", d)
	}
}
