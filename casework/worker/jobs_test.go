// SPDX-License-Identifier: EUPL-1.2

package worker_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/jobs"
	"rathaus/process"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// timed waits one second on a timer, then calls the register.
const timed = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:rathaus="urn:rathaus:bpmn" id="d" targetNamespace="urn:test">
  <process id="timed" isExecutable="true">
    <startEvent id="s"/>
    <intermediateCatchEvent id="wait"><timerEventDefinition><timeDuration>PT1S</timeDuration></timerEventDefinition></intermediateCatchEvent>
    <serviceTask id="reg" name="Register abfragen" rathaus:action="call_register"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
    <sequenceFlow id="f2" sourceRef="wait" targetRef="reg"/>
    <sequenceFlow id="f3" sourceRef="reg" targetRef="e"/>
  </process>
</definitions>`

// TestJobsCarryTheProcess runs processes only through River: process.start
// jobs enqueued with the applications, process.effect jobs for actions and
// a process.timer job scheduled at the timer's due time (jobs.At).
func TestJobsCarryTheProcess(t *testing.T) {
	ctx := context.Background()
	db := sqltest.Open(t, sqlstore.SQLite)
	q, err := jobs.New(ctx, db, jobs.Options{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	apps := &worker.MemApplications{}
	w, err := worker.New(worker.Options{DB: db, Queue: q, Applications: apps})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Runner.Deploy(ctx, darmstadt, worker.ServiceKey("timed"), []byte(timed), "timed", nil); err != nil {
		t.Fatal(err)
	}
	if err := w.EnsureUniversal(ctx, "000000000000"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"t1", "t2"} {
		apps.Add(&worker.Application{Tenant: darmstadt, ID: id, Reference: "DA-" + id, ServiceKey: "timed", SubmittedAt: time.Now().UTC()})
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			return q.Enqueue(ctx, tx, worker.JobStart, map[string]string{"tenant": darmstadt, "application_id": id, "service_key": "timed"})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	started := time.Now()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range []string{"t1", "t2"} {
		for {
			inst, err := w.Store.Instance(ctx, darmstadt, id)
			if err == nil && inst.Status == process.StatusCompleted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not complete through the jobs: %+v %v", id, inst, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if d := time.Since(started); d < time.Second {
		t.Errorf("completed after %v, before the timer was due", d)
	}
	if c, _ := w.Cases.Case(ctx, darmstadt, "t1"); c.Status != casework.StatusClosed {
		t.Errorf("case %+v", c)
	}
	if p, _ := w.Store.PendingEffects(ctx, 10); len(p) != 0 {
		t.Errorf("pending effects: %+v", p)
	}
}

// delivering calls deliver, then ends.
const delivering = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:rathaus="urn:rathaus:bpmn" id="d" targetNamespace="urn:test">
  <process id="delivering" isExecutable="true">
    <startEvent id="s"/>
    <serviceTask id="send" name="An das Fachverfahren" rathaus:action="deliver"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="send"/>
    <sequenceFlow id="f2" sourceRef="send" targetRef="e"/>
  </process>
</definitions>`

// TestDeliverEnqueuesDelivery: the deliver action enqueues exactly one
// delivery.send job in the step's transaction, even when run twice.
func TestDeliverEnqueuesDelivery(t *testing.T) {
	ctx := context.Background()
	db := sqltest.Open(t, sqlstore.SQLite)
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	apps := &worker.MemApplications{}
	w, err := worker.New(worker.Options{DB: db, Queue: q, Applications: apps})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Runner.Deploy(ctx, darmstadt, worker.ServiceKey("d1"), []byte(delivering), "delivering", nil); err != nil {
		t.Fatal(err)
	}
	apps.Add(&worker.Application{Tenant: darmstadt, ID: "a1", Reference: "DA-a1", ServiceKey: "d1"})
	if _, err := w.StartCase(ctx, darmstadt, "a1"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second drain finds the effect done
		if err := w.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	var args string
	if err := db.SQL().QueryRow(`SELECT count(*), COALESCE(MAX(json(args)), '') FROM river_job WHERE kind = ?`, worker.JobDelivery).Scan(&n, &args); err != nil {
		t.Fatal(err)
	}
	if n != 1 || !strings.Contains(args, `"application_id":"a1"`) {
		t.Errorf("%d delivery.send jobs (%s), want 1 for a1", n, args)
	}
	if c, _ := w.Cases.Case(ctx, darmstadt, "a1"); c.Status != casework.StatusClosed {
		t.Errorf("case %+v", c)
	}
}
