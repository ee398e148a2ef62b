// SPDX-License-Identifier: EUPL-1.2

package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/process"
	"rathaus/sqlstore/sqltest"
)

// mailDue returns the due dates of the mailbox posts of kind for app.
func (m *tableMailbox) mailDue(t *testing.T, app, kind string) []time.Time {
	t.Helper()
	rows, err := m.db.SQL().Query(m.db.Rebind(`SELECT due FROM test_mailbox WHERE app = ? AND kind = ? ORDER BY seq`), app, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var due int64
		if err := rows.Scan(&due); err != nil {
			t.Fatal(err)
		}
		out = append(out, time.Unix(due, 0).UTC())
	}
	return out
}

// timerDue returns the due time of the open timer at node, or zero.
func timerDue(t *testing.T, f *fixture, id, node string) time.Time {
	t.Helper()
	inst, err := f.w.Store.Instance(context.Background(), darmstadt, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range inst.OpenTimers() {
		if tm.Node == node {
			return tm.Due
		}
	}
	return time.Time{}
}

// reminders counts the reminder posts of app.
func reminders(t *testing.T, f *fixture, app string) int {
	t.Helper()
	n := 0
	for _, p := range f.mb.posts(t, app) {
		if strings.HasPrefix(p.Subject, "Erinnerung") {
			n++
		}
	}
	return n
}

// TestCaseworkerDeadlineDrivesTimer: the deadline the caseworker enters is
// the due time of the process's deadline timer, of the mailbox request and
// of the case while it waits; the reminder goes out halfway there, and the
// case moves to the decision when the deadline passes, not after 14 days.
func TestCaseworkerDeadlineDrivesTimer(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { testCaseworkerDeadline(t, d) })
	}
}

func testCaseworkerDeadline(t *testing.T, dialect string) {
	ctx := context.Background()
	f := newFixtureOn(t, dialect, nil)
	f.submit(t, "d3", "99001", map[string]any{"name": "Erika"})
	start := f.now
	deadline := start.Add(3 * 24 * time.Hour)
	if _, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "d3", "Bitte Meldebescheinigung nachreichen.", deadline); err != nil {
		t.Fatal(err)
	}
	must(t, f.w.Drain(ctx))

	reminderAt := start.Add(36 * time.Hour)
	if got := timerDue(t, f, "d3", "deadline"); !got.Equal(deadline) {
		t.Errorf("deadline timer due %v, want the caseworker's %v", got, deadline)
	}
	if got := timerDue(t, f, "d3", "reminder"); !got.Equal(reminderAt) {
		t.Errorf("reminder timer due %v, want halfway %v", got, reminderAt)
	}
	if due := f.mb.mailDue(t, "d3", "request"); len(due) != 1 || !due[0].Equal(deadline) {
		t.Errorf("mailbox request due %v, want %v", due, deadline)
	}
	if c := f.caseOf(t, "d3"); c.Status != casework.StatusWaiting || !c.DueAt.Equal(deadline) {
		t.Errorf("waiting case: status %s due %v, want waiting until %v", c.Status, c.DueAt, deadline)
	}

	f.now = reminderAt.Add(-time.Minute)
	must(t, f.w.Drain(ctx))
	if n := reminders(t, f, "d3"); n != 0 {
		t.Errorf("%d reminders before halfway", n)
	}
	f.now = reminderAt
	must(t, f.w.Drain(ctx))
	if n := reminders(t, f, "d3"); n != 1 {
		t.Errorf("%d reminders at halfway, want 1", n)
	}
	if c := f.caseOf(t, "d3"); c.Status != casework.StatusWaiting || !c.DueAt.Equal(deadline) {
		t.Errorf("after the reminder: status %s due %v", c.Status, c.DueAt)
	}

	f.now = deadline.Add(-time.Minute)
	must(t, f.w.Drain(ctx))
	if c := f.caseOf(t, "d3"); c.Status != casework.StatusWaiting {
		t.Errorf("a minute before the deadline: status %s", c.Status)
	}
	f.now = deadline
	must(t, f.w.Drain(ctx))
	inst, err := f.w.Store.Instance(ctx, darmstadt, "d3")
	must(t, err)
	if inst.TaskByNode("decide") == nil || inst.Vars["deadlineExpired"] != true {
		t.Fatalf("at the deadline: tasks %+v vars %v", inst.OpenTasks(), inst.Vars)
	}
	c := f.caseOf(t, "d3")
	if c.Status == casework.StatusWaiting || !c.DueAt.Equal(c.CreatedAt.Add(30*24*time.Hour)) {
		t.Errorf("after the deadline: status %s due %v, want the processing deadline again", c.Status, c.DueAt)
	}
	if n := reminders(t, f, "d3"); n != 1 {
		t.Errorf("%d reminders in all, want 1", n)
	}
	if _, err := f.w.Decide(ctx, "cw-1", darmstadt, "d3", casework.DecisionReject, "Unterlagen nicht eingegangen."); err != nil {
		t.Fatal(err)
	}
	must(t, f.w.Drain(ctx))
	if c := f.caseOf(t, "d3"); c.Status != casework.StatusClosed || c.Decision != casework.DecisionReject {
		t.Errorf("closed: %+v", c)
	}
}

// TestRequestDeadlineDefaultAndCheck: without a deadline the citizen has
// 14 days, reminded after 7; a deadline in the past is refused; a second
// request uses its own deadline.
func TestRequestDeadlineDefaultAndCheck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.submit(t, "dd", "99001", nil)
	start := f.now
	for _, past := range []time.Time{start, start.Add(-time.Hour)} {
		_, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "dd", "Bitte Foto nachreichen.", past)
		if rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.Contains(err.Error(), "Frist") {
			t.Errorf("deadline %v: %v, want EINVALID about the Frist", past, err)
		}
	}
	if _, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "dd", "Bitte Foto nachreichen.", time.Time{}); err != nil {
		t.Fatal(err)
	}
	must(t, f.w.Drain(ctx))
	if got, want := timerDue(t, f, "dd", "deadline"), start.AddDate(0, 0, 14); !got.Equal(want) {
		t.Errorf("default deadline %v, want %v", got, want)
	}
	if got, want := timerDue(t, f, "dd", "reminder"), start.AddDate(0, 0, 7); !got.Equal(want) {
		t.Errorf("default reminder %v, want %v", got, want)
	}
	if due := f.mb.mailDue(t, "dd", "request"); len(due) != 1 || !due[0].Equal(start.AddDate(0, 0, 14)) {
		t.Errorf("mailbox request due %v", due)
	}

	// The citizen answers; the caseworker asks again with a short deadline.
	f.now = start.Add(24 * time.Hour)
	must(t, f.w.CitizenAnswered(ctx, darmstadt, "dd", "citizen-1"))
	must(t, f.w.Drain(ctx))
	second := f.now.Add(48 * time.Hour)
	if _, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "dd", "Das Foto ist unscharf.", second); err != nil {
		t.Fatal(err)
	}
	must(t, f.w.Drain(ctx))
	if got := timerDue(t, f, "dd", "deadline"); !got.Equal(second) {
		t.Errorf("second deadline %v, want %v", got, second)
	}
	if got, want := timerDue(t, f, "dd", "reminder"), f.now.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("second reminder %v, want %v", got, want)
	}
	if c := f.caseOf(t, "dd"); !c.DueAt.Equal(second) {
		t.Errorf("case due %v, want %v", c.DueAt, second)
	}
}

// TestUniversalUpgrade: a tenant whose universal process predates this
// build gets the new version once; a running case keeps the old version
// (fixed P14D, whatever the caseworker's deadline) while a new case runs
// the new one.
func TestUniversalUpgrade(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { testUniversalUpgrade(t, d) })
	}
}

func testUniversalUpgrade(t *testing.T, dialect string) {
	ctx := context.Background()
	f := newFixtureOn(t, dialect, nil)
	f.submit(t, "first", "99001", nil) // deploys the universal process for Darmstadt
	// A deployment from a build with fixed timers.
	src := strings.NewReplacer(
		`<timeDate>${empty requestDeadline ? addDuration(now(), 'P14D') : requestDeadline}</timeDate>`, `<timeDuration>P14D</timeDuration>`,
		`<timeDate>${halfway(empty requestDeadline ? addDuration(now(), 'P14D') : requestDeadline)}</timeDate>`, `<timeDuration>P7D</timeDuration>`,
	).Replace(string(process.UniversalBPMN()))
	if !strings.Contains(src, "<timeDuration>P14D</timeDuration>") || !strings.Contains(src, "<timeDuration>P7D</timeDuration>") {
		t.Fatal("the old model could not be made from the universal process")
	}
	rec, _, err := f.w.Runner.Deploy(ctx, darmstadt, process.UniversalKey, []byte(src), process.UniversalKey, worker.UniversalActions())
	must(t, err)
	f.submit(t, "old", "99001", nil)
	deadline := f.now.Add(72 * time.Hour)
	if _, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "old", "Bitte Foto nachreichen.", deadline); err != nil {
		t.Fatal(err)
	}
	must(t, f.w.Drain(ctx))

	must(t, f.w.EnsureUniversal(ctx, darmstadt))
	latest, err := f.w.Store.Definition(ctx, darmstadt, process.UniversalKey, 0)
	must(t, err)
	if latest.Version != rec.Version+1 || string(latest.Source) != string(process.UniversalBPMN()) {
		t.Fatalf("after EnsureUniversal: v%d, want v%d with this build's model", latest.Version, rec.Version+1)
	}
	must(t, f.w.EnsureUniversal(ctx, darmstadt))
	if again, _ := f.w.Store.Definition(ctx, darmstadt, process.UniversalKey, 0); again.Version != latest.Version {
		t.Errorf("EnsureUniversal deployed again: v%d", again.Version)
	}

	// The running case keeps its version and its fixed 14 days.
	legacy, err := f.w.Store.Instance(ctx, darmstadt, "old")
	must(t, err)
	if due := timerDue(t, f, "old", "deadline"); legacy.DefinitionVersion != rec.Version || !due.Equal(f.now.AddDate(0, 0, 14)) {
		t.Errorf("old case: v%d deadline %v, want v%d with P14D", legacy.DefinitionVersion, due, rec.Version)
	}
	f.now = deadline
	must(t, f.w.Drain(ctx))
	if c := f.caseOf(t, "old"); c.Status != casework.StatusWaiting {
		t.Errorf("old case at the caseworker's deadline: %s, want still waiting (old model)", c.Status)
	}
	// A new case runs the new version.
	f.submit(t, "new", "99001", nil)
	n, err := f.w.Store.Instance(ctx, darmstadt, "new")
	must(t, err)
	if n.DefinitionVersion != latest.Version {
		t.Errorf("new case on v%d, want v%d", n.DefinitionVersion, latest.Version)
	}
	second := f.now.Add(72 * time.Hour)
	if _, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "new", "Bitte Foto nachreichen.", second); err != nil {
		t.Fatal(err)
	}
	must(t, f.w.Drain(ctx))
	if due := timerDue(t, f, "new", "deadline"); !due.Equal(second) {
		t.Errorf("new case deadline %v, want %v", due, second)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
