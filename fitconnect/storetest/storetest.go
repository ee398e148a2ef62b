// SPDX-License-Identifier: EUPL-1.2

// Package storetest is the conformance suite of fitconnect.DeliveryStore.
// Every implementation (MemStore, FileStore, the SQL store to come) runs
// it: storetest.Run(t, func(t *testing.T) fitconnect.DeliveryStore { … }).
package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"rathaus"
	"rathaus/fitconnect"
)

const (
	tenantA = "064110000000"
	tenantB = "091620000000"
)

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := rathaus.ErrorCode(err); got != want {
		t.Errorf("error code %q (%v), want %q", got, err, want)
	}
}

func submission(tenant, dest string, state string, at time.Time) *fitconnect.Submission {
	return &fitconnect.Submission{Tenant: tenant, ID: uuid.NewString(), CaseID: uuid.NewString(), DestinationID: dest,
		SenderClientID: "sender", PublicService: fitconnect.PublicService{Identifier: "urn:de:fim:leika:leistung:99108008003000"},
		AnnouncedAttachments: []string{uuid.NewString()}, State: state, CreatedAt: at, SubmittedAt: at,
		Callback: &fitconnect.CallbackConfig{URL: "https://sender.example/cb", Secret: "0123456789abcdef0123456789abcdef"}}
}

// Run runs the suite; newStore returns a fresh, empty store per subtest.
func Run(t *testing.T, newStore func(t *testing.T) fitconnect.DeliveryStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

	t.Run("DestinationsAreTenantScoped", func(t *testing.T) {
		s := newStore(t)
		d := &fitconnect.Destination{Tenant: tenantA, ID: uuid.NewString(), Status: "active", EncryptionKid: "enc-key-0001",
			Services: []fitconnect.PublicService{{Identifier: "urn:de:fim:leika:leistung:99108008003000"}}, MetadataVersions: []string{"1.0.0"},
			Callback: &fitconnect.CallbackConfig{URL: "https://app.example/cb", Secret: "s"}, CreatedAt: t0}
		if err := s.PutDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
		got, err := s.Destination(ctx, tenantA, d.ID)
		if err != nil || got.EncryptionKid != "enc-key-0001" || got.Callback.Secret != "s" || got.Services[0].Identifier != d.Services[0].Identifier {
			t.Errorf("Destination = %+v, %v", got, err)
		}
		_, err = s.Destination(ctx, tenantB, d.ID)
		code(t, err, rathaus.ENOTFOUND)
		got.Status = "inactive"
		if err := s.PutDestination(ctx, got); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.Destination(ctx, tenantA, d.ID); again.Status != "inactive" {
			t.Errorf("PutDestination did not replace: %s", again.Status)
		}
	})

	t.Run("Clients", func(t *testing.T) {
		s := newStore(t)
		c := &fitconnect.APIClient{Tenant: tenantA, ID: uuid.NewString(), SecretHash: []byte{1, 2, 3}, Role: fitconnect.RoleSubscriber, DestinationIDs: []string{"d1"}}
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		code(t, s.CreateClient(ctx, c), rathaus.ECONFLICT)
		got, err := s.ClientByID(ctx, c.ID)
		if err != nil || got.Tenant != tenantA || !slices.Equal(got.SecretHash, c.SecretHash) || got.DestinationIDs[0] != "d1" {
			t.Errorf("ClientByID = %+v, %v", got, err)
		}
		_, err = s.ClientByID(ctx, "unknown")
		code(t, err, rathaus.ENOTFOUND)
	})

	t.Run("SubmissionsAttachmentsEvents", func(t *testing.T) {
		s := newStore(t)
		x := submission(tenantA, "d1", fitconnect.StateIncomplete, t0)
		if err := s.CreateSubmission(ctx, x); err != nil {
			t.Fatal(err)
		}
		code(t, s.CreateSubmission(ctx, x), rathaus.ECONFLICT)
		if got, err := s.SubmissionByCase(ctx, tenantA, x.CaseID); err != nil || got.ID != x.ID {
			t.Errorf("SubmissionByCase = %+v, %v", got, err)
		}
		_, err := s.Submission(ctx, tenantB, x.ID)
		code(t, err, rathaus.ENOTFOUND)
		_, err = s.SubmissionByCase(ctx, tenantB, x.CaseID)
		code(t, err, rathaus.ENOTFOUND)

		aid := x.AnnouncedAttachments[0]
		if err := s.PutAttachment(ctx, tenantA, x.ID, aid, "a.b.c.d.e"); err != nil {
			t.Fatal(err)
		}
		code(t, s.PutAttachment(ctx, tenantB, x.ID, aid, "x"), rathaus.ENOTFOUND)
		if jwe, err := s.Attachment(ctx, tenantA, x.ID, aid); err != nil || jwe != "a.b.c.d.e" {
			t.Errorf("Attachment = %q, %v", jwe, err)
		}
		_, err = s.Attachment(ctx, tenantB, x.ID, aid)
		code(t, err, rathaus.ENOTFOUND)
		if ids, err := s.AttachmentIDs(ctx, tenantA, x.ID); err != nil || !slices.Equal(ids, []string{aid}) {
			t.Errorf("AttachmentIDs = %v, %v", ids, err)
		}

		x.State, x.EncryptedMetadata, x.EncryptedData = fitconnect.StateSubmitted, "m.m.m.m.m", "d.d.d.d.d"
		if err := s.UpdateSubmission(ctx, x); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Submission(ctx, tenantA, x.ID)
		if got.State != fitconnect.StateSubmitted || got.EncryptedData != "d.d.d.d.d" || got.Callback == nil || got.Callback.URL != x.Callback.URL {
			t.Errorf("after update: %+v", got)
		}
		if err := s.DeleteContent(ctx, tenantA, x.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Submission(ctx, tenantA, x.ID)
		if got.EncryptedData != "" || got.EncryptedMetadata != "" || got.State != fitconnect.StateSubmitted {
			t.Errorf("after DeleteContent: %+v", got)
		}
		if _, err := s.Attachment(ctx, tenantA, x.ID, aid); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
			t.Errorf("attachment after DeleteContent: %v", err)
		}

		for i, set := range []string{"e1", "e2", "e3"} {
			if err := s.AppendEvent(ctx, tenantA, x.CaseID, set); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		code(t, s.AppendEvent(ctx, tenantB, x.CaseID, "e"), rathaus.ENOTFOUND)
		page, total, err := s.Events(ctx, tenantA, x.CaseID, 1, 5)
		if err != nil || total != 3 || !slices.Equal(page, []string{"e2", "e3"}) {
			t.Errorf("Events = %v, %d, %v", page, total, err)
		}
		_, _, err = s.Events(ctx, tenantB, x.CaseID, 0, 5)
		code(t, err, rathaus.ENOTFOUND)

		// State and event together.
		x.State = fitconnect.StateForwarded
		if err := s.UpdateSubmissionEvent(ctx, x, "e4"); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Submission(ctx, tenantA, x.ID)
		page, total, err = s.Events(ctx, tenantA, x.CaseID, 3, 5)
		if got.State != fitconnect.StateForwarded || err != nil || total != 4 || !slices.Equal(page, []string{"e4"}) {
			t.Errorf("after UpdateSubmissionEvent: state %s, events %v of %d, %v", got.State, page, total, err)
		}
		other := *x
		other.Tenant, other.State = tenantB, fitconnect.StateDeleted
		code(t, s.UpdateSubmissionEvent(ctx, &other, "e5"), rathaus.ENOTFOUND)
		got, _ = s.Submission(ctx, tenantA, x.ID)
		if _, total, _ := s.Events(ctx, tenantA, x.CaseID, 0, 5); got.State != fitconnect.StateForwarded || total != 4 {
			t.Errorf("UpdateSubmissionEvent of another tenant changed state %s / events %d", got.State, total)
		}
	})

	t.Run("ListAndDue", func(t *testing.T) {
		s := newStore(t)
		var submitted []string
		for i := range 3 {
			x := submission(tenantA, "d1", fitconnect.StateSubmitted, t0.Add(time.Duration(i)*time.Hour))
			s.CreateSubmission(ctx, x)
			submitted = append(submitted, x.ID)
		}
		s.CreateSubmission(ctx, submission(tenantA, "d1", fitconnect.StateAccepted, t0))
		s.CreateSubmission(ctx, submission(tenantA, "d2", fitconnect.StateSubmitted, t0))
		s.CreateSubmission(ctx, submission(tenantB, "d1", fitconnect.StateSubmitted, t0))
		old := submission(tenantB, "d9", fitconnect.StateIncomplete, t0.Add(-48*time.Hour))
		s.CreateSubmission(ctx, old)

		page, total, err := s.ListSubmissions(ctx, tenantA, "d1", []string{fitconnect.StateSubmitted, fitconnect.StateForwarded}, 1, 1)
		if err != nil || total != 3 || len(page) != 1 || page[0].ID != submitted[1] {
			t.Errorf("ListSubmissions = %v, %d, %v", page, total, err)
		}
		due, err := s.DueSubmissions(ctx, fitconnect.StateSubmitted, t0.Add(90*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range due {
			ids = append(ids, d.ID)
		}
		if len(ids) != 4 || !slices.Contains(ids, submitted[1]) || slices.Contains(ids, submitted[2]) {
			t.Errorf("DueSubmissions(submitted) = %d %v", len(ids), ids)
		}
		due, _ = s.DueSubmissions(ctx, fitconnect.StateIncomplete, t0.Add(-24*time.Hour))
		if len(due) != 1 || due[0].ID != old.ID || due[0].Tenant != tenantB {
			t.Errorf("DueSubmissions(incomplete) = %+v", due)
		}
	})
}
