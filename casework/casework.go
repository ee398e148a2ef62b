// SPDX-License-Identifier: EUPL-1.2

// Package casework is the caseworker's side of an application: the case
// (one per submitted application, advanced by its process instance), the
// inbox per office and role with filters, sorting and paging, claiming and
// assigning, the case history (steps, automated decisions with their
// explanation, notes, decisions, forwards) and the automated rules per
// service.
//
// The package is storage-agnostic: Store is implemented by
// sqlstore.CaseStore; the durable wiring with jobs lives in
// casework/worker.
package casework

import (
	"context"
	"strings"
	"time"

	"rathaus"
)

// Case states as shown in the inbox.
const (
	StatusNew        = "neu"            // received, nobody works on it
	StatusInProgress = "in_bearbeitung" // claimed or a task is open
	StatusWaiting    = "nachforderung"  // waiting for the citizen
	StatusDecided    = "entschieden"    // decision taken, notice on its way
	StatusClosed     = "abgeschlossen"  // notice delivered, process ended
)

// Statuses lists the states in process order.
var Statuses = []string{StatusNew, StatusInProgress, StatusWaiting, StatusDecided, StatusClosed}

// Decisions.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
	DecisionManual  = "manual"
)

// Case is one application on the desk. ID is the application id; the
// process instance has the same id.
type Case struct {
	Tenant     string    `json:"tenant"`
	ID         string    `json:"id"`
	Reference  string    `json:"reference"`
	ServiceKey string    `json:"service_key"`
	Title      string    `json:"title"`
	Office     string    `json:"office"` // office id within the tenant, "" = the tenant's default
	Role       string    `json:"role"`   // lane of the open task, e.g. "Sachbearbeitung"
	Status     string    `json:"status"`
	Assignee   string    `json:"assignee"` // user id, "" = unassigned
	Applicant  string    `json:"applicant"`
	Decision   string    `json:"decision"`
	DueAt      time.Time `json:"due_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Overdue reports whether the case is open and past its deadline.
func (c *Case) Overdue(now time.Time) bool {
	return !c.DueAt.IsZero() && c.Status != StatusClosed && c.DueAt.Before(now)
}

// History kinds.
const (
	KindStep     = "step"     // process step (task created, action done, …)
	KindRule     = "rule"     // automated decision with its explanation
	KindDecision = "decision" // a caseworker's decision (with reason)
	KindNote     = "note"     // internal note
	KindAssign   = "assign"   // claimed, assigned, forwarded
	KindRequest  = "request"  // information requested from the citizen
	KindNotice   = "notice"   // notice generated / sent
	KindRegister = "register" // register call
)

// Entry is one line of a case history. Key, if set, makes appending
// idempotent (a replayed job does not add the entry twice).
type Entry struct {
	Tenant string    `json:"tenant"`
	CaseID string    `json:"case_id"`
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text"`
	Key    string    `json:"key,omitempty"`
}

// Sort orders of the inbox.
const (
	SortCreated   = "created"
	SortDue       = "due"
	SortUpdated   = "updated"
	SortReference = "reference"
)

// Filter selects inbox cases. Root is the tenant subtree the caseworker may
// see (required); the other fields narrow it.
type Filter struct {
	Root       string // ARS of the subtree root (a grant's tenant)
	Office     string
	Role       string
	ServiceKey string
	Status     string    // one of Statuses, "open" (not closed), or "" for all
	Assignee   string    // user id; "-" = unassigned
	Overdue    bool      // only open cases past their deadline
	DueBefore  time.Time // only cases with a deadline at or before (zero: any)
	Now        time.Time
	Sort       string // one of the Sort constants (default created)
	Desc       bool
	Page       int // 1-based
	PageSize   int // default 50, at most 200
}

// Normalize fills defaults and checks the values.
func (f *Filter) Normalize() error {
	if f.Page <= 0 {
		f.Page = 1
	}
	if f.PageSize <= 0 {
		f.PageSize = 50
	}
	if f.PageSize > 200 {
		f.PageSize = 200
	}
	switch f.Sort {
	case "":
		f.Sort = SortCreated
	case SortCreated, SortDue, SortUpdated, SortReference:
	default:
		return rathaus.Errorf(rathaus.EINVALID, "field sort: unknown order %q (created, due, updated, reference)", f.Sort)
	}
	switch f.Status {
	case "", "open", StatusNew, StatusInProgress, StatusWaiting, StatusDecided, StatusClosed:
	default:
		return rathaus.Errorf(rathaus.EINVALID, "field status: unknown status %q", f.Status)
	}
	if f.Now.IsZero() {
		f.Now = time.Now().UTC()
	}
	return nil
}

// SubtreePrefix returns the ARS prefix shared by every tenant in the subtree
// of root: the key parts above the first all-zero level ("064110000000" →
// "06411"; Bund "000000000000" → "").
func SubtreePrefix(root string) string {
	for _, c := range []int{0, 2, 3, 5, 9, 12} {
		if c <= len(root) && strings.Trim(root[c:], "0") == "" {
			return root[:c]
		}
	}
	return root
}

// Page is one page of inbox results.
type Page struct {
	Cases []Case
	Total int
	// More is set when there are more than Total matches (stores may stop
	// counting at a limit).
	More bool
}

// Store keeps cases and their history. Every method is tenant-scoped
// (Inbox by subtree).
type Store interface {
	// PutCase creates or replaces a case.
	PutCase(ctx context.Context, c *Case) error
	// Case returns one case; ENOTFOUND if unknown in the tenant.
	Case(ctx context.Context, tenant, id string) (*Case, error)
	// Inbox returns a page of cases matching f.
	Inbox(ctx context.Context, f Filter) (Page, error)
	// Append adds entries to case histories (Seq and At are filled);
	// an entry whose Key exists already for the case is skipped.
	Append(ctx context.Context, es ...Entry) error
	// History returns the history of a case, oldest first.
	History(ctx context.Context, tenant, id string) ([]Entry, error)
}

// ErrNotFound returns an ENOTFOUND error with a safe message.
func ErrNotFound(msg string) error { return rathaus.Errorf(rathaus.ENOTFOUND, "%s", msg) }
