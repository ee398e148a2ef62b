// SPDX-License-Identifier: EUPL-1.2

package mailbox

import (
	"context"
	"time"

	"rathaus/casework"
	"rathaus/sqlstore"
)

// StateReceived is the state of an application whose case has not been
// created yet (the process starts in the background).
const StateReceived = "eingegangen"

// Step is one thing that happened to an application, as the citizen sees
// it (internal notes, assignments and rule explanations are left out).
type Step struct {
	At   time.Time
	Kind string // casework history kind, or "submitted"
	Text string
}

// Status is what the citizen's status page shows of one application.
type Status struct {
	Tenant, ApplicationID, Reference, ServiceKey, Title string
	// State is the case status (casework.Status*), or StateReceived.
	State                  string
	Closed                 bool
	Decision               string // casework.DecisionApprove / DecisionReject, or ""
	SubmittedAt, UpdatedAt time.Time
	Steps                  []Step
	// Expected is what the authority asked for and the citizen has not
	// answered yet ("" when nothing is expected), Request its message and
	// DueAt its deadline.
	Expected string
	Request  *Message
	DueAt    *time.Time
	// Messages is the application's mailbox thread, oldest first.
	Messages []Message
	Unread   int
}

// HistorySource returns the history of a case (sqlstore.CaseStore).
type HistorySource interface {
	History(ctx context.Context, tenant, id string) ([]casework.Entry, error)
}

// citizenKinds are the history kinds a citizen sees.
var citizenKinds = map[string]bool{casework.KindStep: true, casework.KindRequest: true, casework.KindNotice: true}

// Applications returns the citizen's applications (all municipalities),
// newest first, with state and open request but without steps.
func (s *Service) Applications(ctx context.Context, userID string) ([]Status, error) {
	_, apps, err := s.Overview(ctx, userID)
	return apps, err
}

// Overview returns the citizen's messages (newest first) and applications
// (as Applications) with each message opened once.
func (s *Service) Overview(ctx context.Context, userID string) ([]Message, []Status, error) {
	apps, err := s.store.CitizenApplications(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := s.Messages(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	byApp := map[string][]Message{}
	for i := len(msgs) - 1; i >= 0; i-- { // oldest first
		k := msgs[i].Tenant + "/" + msgs[i].ApplicationID
		byApp[k] = append(byApp[k], msgs[i])
	}
	out := make([]Status, 0, len(apps))
	for _, a := range apps {
		st := baseStatus(a)
		st.Messages = byApp[a.Tenant+"/"+a.ID]
		expect(&st)
		out = append(out, st)
	}
	return msgs, out, nil
}

// ApplicationStatus returns the status of application id if userID
// submitted it; ENOTFOUND otherwise.
func (s *Service) ApplicationStatus(ctx context.Context, userID, id string) (*Status, error) {
	a, err := s.store.CitizenApplicationOf(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	st := baseStatus(*a)
	if a.Status != "" {
		var hs HistorySource = s.opts.DB.Cases()
		hist, err := hs.History(ctx, a.Tenant, a.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range hist {
			switch {
			case citizenKinds[e.Kind]:
				st.Steps = append(st.Steps, Step{At: e.At, Kind: e.Kind, Text: e.Text})
			case e.Kind == casework.KindDecision:
				st.Steps = append(st.Steps, Step{At: e.At, Kind: e.Kind, Text: "Entscheidung getroffen"})
			}
		}
	}
	if len(st.Steps) == 0 { // no case yet: the process starts in the background
		st.Steps = []Step{{At: a.SubmittedAt, Kind: "submitted", Text: "Antrag eingereicht (" + a.Reference + ")"}}
	}
	thread, err := s.Thread(ctx, a.Tenant, a.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range thread {
		if m.UserID == userID {
			st.Messages = append(st.Messages, m)
		}
	}
	expect(&st)
	return &st, nil
}

func baseStatus(a sqlstore.CitizenApplication) Status {
	st := Status{Tenant: a.Tenant, ApplicationID: a.ID, Reference: a.Reference, ServiceKey: a.ServiceKey, Title: a.Title,
		State: a.Status, Decision: a.Decision, SubmittedAt: a.SubmittedAt, UpdatedAt: a.UpdatedAt}
	if st.State == "" {
		st.State = StateReceived
	}
	st.Closed = st.State == casework.StatusClosed
	return st
}

// expect finds the latest request not answered yet (while the case is
// open) and counts unread messages.
func expect(st *Status) {
	st.Unread = 0
	var open *Message
	for i := range st.Messages {
		m := &st.Messages[i]
		if m.Unread() {
			st.Unread++
		}
		switch {
		case m.Kind == KindRequest:
			open = m
		case m.FromCitizen && open != nil && !m.CreatedAt.Before(open.CreatedAt):
			open = nil
		}
	}
	if open == nil || st.Closed {
		return
	}
	st.Request, st.Expected, st.DueAt = open, open.Body, open.DueAt
}
