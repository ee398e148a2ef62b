// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"rathaus"
)

// Submission states (fitconnect.md §2).
const (
	StateIncomplete = "incomplete"
	StateSubmitted  = "submitted"
	StateForwarded  = "forwarded"
	StateAccepted   = "accepted"
	StateRejected   = "rejected"
	StateDeleted    = "deleted"
)

// Client roles and the OAuth2 scopes they may obtain (API v2).
const (
	RoleSender     = "sender"
	RoleSubscriber = "subscriber"

	ScopeSendSubmissions       = "send-submissions"
	ScopeSubscribeDestinations = "subscribe-destinations"
	ScopeManageDestinations    = "manage-destinations"
)

// PublicService is an administrative service a destination accepts.
type PublicService struct {
	Identifier        string             `json:"identifier"`
	Name              string             `json:"name,omitempty"`
	SubmissionSchemas []SubmissionSchema `json:"submissionSchemas,omitempty"`
	Regions           []string           `json:"regions,omitempty"`
}

// CallbackConfig is where and with which secret callbacks are sent.
type CallbackConfig struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

// Destination is the delivery point (Zustellpunkt) of a specialist
// application. It belongs to a tenant (ARS).
type Destination struct {
	Tenant           string
	ID               string
	Status           string // "active" or "inactive"
	Services         []PublicService
	MetadataVersions []string
	EncryptionKid    string
	Keys             []Key // public keys: encryption (wrapKey) and signature verification (verify)
	Callback         *CallbackConfig
	CreatedAt        time.Time
}

// Key returns the public key with kid, or nil.
func (d *Destination) Key(kid string) *Key {
	for i := range d.Keys {
		if d.Keys[i].KeyID == kid {
			return &d.Keys[i]
		}
	}
	return nil
}

// APIClient is an OAuth2 client of the delivery service. Client ids are
// unique across tenants because the token endpoint knows no tenant; the
// client's tenant scopes everything it may see.
type APIClient struct {
	Tenant         string
	ID             string
	SecretHash     []byte   // SHA-256 of the secret (high-entropy, random)
	Role           string   // RoleSender or RoleSubscriber
	DestinationIDs []string // subscriber: the destinations it is connected to
}

// Submission is one submission as the delivery service keeps it: only
// ciphertext, never plaintext.
type Submission struct {
	Tenant               string
	ID                   string
	CaseID               string
	DestinationID        string
	SenderClientID       string
	PublicService        PublicService
	Region               string
	AnnouncedAttachments []string
	EncryptedMetadata    string
	EncryptedData        string
	State                string
	Callback             *CallbackConfig // the sender's callback, if any
	CreatedAt            time.Time
	SubmittedAt          time.Time
}

// DeliveryStore keeps destinations, API clients, submissions, encrypted
// attachments and event logs. Every method except ClientByID and
// DueSubmissions is scoped by the tenant ARS. Methods return ENOTFOUND for
// missing records and ECONFLICT for duplicates. Implementations must be
// safe for concurrent use.
type DeliveryStore interface {
	// PutDestination creates or replaces a destination.
	PutDestination(ctx context.Context, d *Destination) error
	// Destination returns one destination of the tenant.
	Destination(ctx context.Context, ars, id string) (*Destination, error)
	// CreateClient adds an API client; ECONFLICT if the id exists.
	CreateClient(ctx context.Context, c *APIClient) error
	// ClientByID finds a client by its globally unique id.
	ClientByID(ctx context.Context, id string) (*APIClient, error)
	// CreateSubmission adds a new submission; ECONFLICT if the id exists.
	CreateSubmission(ctx context.Context, s *Submission) error
	// Submission returns one submission of the tenant.
	Submission(ctx context.Context, ars, id string) (*Submission, error)
	// SubmissionByCase returns the submission of a case of the tenant.
	SubmissionByCase(ctx context.Context, ars, caseID string) (*Submission, error)
	// UpdateSubmission replaces a submission.
	UpdateSubmission(ctx context.Context, s *Submission) error
	// PutAttachment stores (or replaces) the JWE of an attachment.
	PutAttachment(ctx context.Context, ars, submissionID, attachmentID, jwe string) error
	// Attachment returns the JWE of an attachment.
	Attachment(ctx context.Context, ars, submissionID, attachmentID string) (string, error)
	// AttachmentIDs lists the ids of the uploaded attachments.
	AttachmentIDs(ctx context.Context, ars, submissionID string) ([]string, error)
	// DeleteContent drops the encrypted metadata, data and attachments.
	DeleteContent(ctx context.Context, ars, submissionID string) error
	// ListSubmissions pages through the submissions of a destination in one
	// of the states, oldest first, and returns the total count.
	ListSubmissions(ctx context.Context, ars, destinationID string, states []string, offset, limit int) ([]*Submission, int, error)
	// AppendEvent appends a SET to the event log of a case.
	AppendEvent(ctx context.Context, ars, caseID, set string) error
	// UpdateSubmissionEvent replaces a submission and appends a SET to the
	// event log of its case at once: a reader sees both or neither (a
	// subscriber must never find a submission submitted whose
	// submit-submission event is not there yet).
	UpdateSubmissionEvent(ctx context.Context, s *Submission, set string) error
	// Events pages through the event log of a case, oldest first, and
	// returns the total count.
	Events(ctx context.Context, ars, caseID string, offset, limit int) ([]string, int, error)
	// DueSubmissions returns the submissions of all tenants in state whose
	// deadline reference time (CreatedAt for incomplete, SubmittedAt
	// otherwise) is at or before t. For the deadline sweep only.
	DueSubmissions(ctx context.Context, state string, t time.Time) ([]*Submission, error)
}

// MemStore is an in-memory DeliveryStore for tests and single-node demos.
// Everything is lost on restart.
type MemStore struct {
	mu           sync.Mutex
	destinations map[string]*Destination
	clients      map[string]*APIClient
	submissions  map[string]*Submission
	cases        map[string]string // ars/caseID → submission id
	attachments  map[string]map[string]string
	events       map[string][]string
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{
		destinations: map[string]*Destination{}, clients: map[string]*APIClient{},
		submissions: map[string]*Submission{}, cases: map[string]string{},
		attachments: map[string]map[string]string{}, events: map[string][]string{},
	}
}

var _ DeliveryStore = (*MemStore)(nil)

func k2(ars, id string) string { return ars + "/" + id }

func copyDest(d *Destination) *Destination {
	c := *d
	c.Services = slices.Clone(d.Services)
	c.MetadataVersions = slices.Clone(d.MetadataVersions)
	c.Keys = slices.Clone(d.Keys)
	if d.Callback != nil {
		cb := *d.Callback
		c.Callback = &cb
	}
	return &c
}

func copySub(s *Submission) *Submission {
	c := *s
	c.AnnouncedAttachments = slices.Clone(s.AnnouncedAttachments)
	if s.Callback != nil {
		cb := *s.Callback
		c.Callback = &cb
	}
	return &c
}

// PutDestination implements DeliveryStore.
func (m *MemStore) PutDestination(_ context.Context, d *Destination) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.destinations[k2(d.Tenant, d.ID)] = copyDest(d)
	return nil
}

// Destination implements DeliveryStore.
func (m *MemStore) Destination(_ context.Context, ars, id string) (*Destination, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.destinations[k2(ars, id)]
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "destination %s not found", id)
	}
	return copyDest(d), nil
}

// CreateClient implements DeliveryStore.
func (m *MemStore) CreateClient(_ context.Context, c *APIClient) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.clients[c.ID]; dup {
		return rathaus.Errorf(rathaus.ECONFLICT, "client %s exists", c.ID)
	}
	cc := *c
	cc.DestinationIDs = slices.Clone(c.DestinationIDs)
	m.clients[c.ID] = &cc
	return nil
}

// ClientByID implements DeliveryStore.
func (m *MemStore) ClientByID(_ context.Context, id string) (*APIClient, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.clients[id]
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "client not found")
	}
	cc := *c
	cc.DestinationIDs = slices.Clone(c.DestinationIDs)
	return &cc, nil
}

// CreateSubmission implements DeliveryStore.
func (m *MemStore) CreateSubmission(_ context.Context, s *Submission) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := k2(s.Tenant, s.ID)
	if _, dup := m.submissions[key]; dup {
		return rathaus.Errorf(rathaus.ECONFLICT, "submission %s exists", s.ID)
	}
	m.submissions[key] = copySub(s)
	m.cases[k2(s.Tenant, s.CaseID)] = s.ID
	return nil
}

// Submission implements DeliveryStore.
func (m *MemStore) Submission(_ context.Context, ars, id string) (*Submission, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.submissions[k2(ars, id)]
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", id)
	}
	return copySub(s), nil
}

// SubmissionByCase implements DeliveryStore.
func (m *MemStore) SubmissionByCase(ctx context.Context, ars, caseID string) (*Submission, error) {
	m.mu.Lock()
	id, ok := m.cases[k2(ars, caseID)]
	m.mu.Unlock()
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "case %s not found", caseID)
	}
	return m.Submission(ctx, ars, id)
}

// UpdateSubmission implements DeliveryStore.
func (m *MemStore) UpdateSubmission(_ context.Context, s *Submission) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := k2(s.Tenant, s.ID)
	if _, ok := m.submissions[key]; !ok {
		return rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", s.ID)
	}
	m.submissions[key] = copySub(s)
	return nil
}

// UpdateSubmissionEvent implements DeliveryStore.
func (m *MemStore) UpdateSubmissionEvent(_ context.Context, s *Submission, set string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key, ckey := k2(s.Tenant, s.ID), k2(s.Tenant, s.CaseID)
	if _, ok := m.submissions[key]; !ok {
		return rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", s.ID)
	}
	if m.cases[ckey] != s.ID {
		return rathaus.Errorf(rathaus.ENOTFOUND, "case %s not found", s.CaseID)
	}
	m.submissions[key] = copySub(s)
	m.events[ckey] = append(m.events[ckey], set)
	return nil
}

// PutAttachment implements DeliveryStore.
func (m *MemStore) PutAttachment(_ context.Context, ars, submissionID, attachmentID, jwe string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := k2(ars, submissionID)
	if _, ok := m.submissions[key]; !ok {
		return rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", submissionID)
	}
	if m.attachments[key] == nil {
		m.attachments[key] = map[string]string{}
	}
	m.attachments[key][attachmentID] = jwe
	return nil
}

// Attachment implements DeliveryStore.
func (m *MemStore) Attachment(_ context.Context, ars, submissionID, attachmentID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	jwe, ok := m.attachments[k2(ars, submissionID)][attachmentID]
	if !ok {
		return "", rathaus.Errorf(rathaus.ENOTFOUND, "attachment %s not found", attachmentID)
	}
	return jwe, nil
}

// AttachmentIDs implements DeliveryStore.
func (m *MemStore) AttachmentIDs(_ context.Context, ars, submissionID string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id := range m.attachments[k2(ars, submissionID)] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// DeleteContent implements DeliveryStore.
func (m *MemStore) DeleteContent(_ context.Context, ars, submissionID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := k2(ars, submissionID)
	if s, ok := m.submissions[key]; ok {
		s.EncryptedData, s.EncryptedMetadata = "", ""
	}
	delete(m.attachments, key)
	return nil
}

// ListSubmissions implements DeliveryStore.
func (m *MemStore) ListSubmissions(_ context.Context, ars, destinationID string, states []string, offset, limit int) ([]*Submission, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []*Submission
	for _, s := range m.submissions {
		if s.Tenant == ars && s.DestinationID == destinationID && slices.Contains(states, s.State) {
			all = append(all, s)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].SubmittedAt.Equal(all[j].SubmittedAt) {
			return all[i].SubmittedAt.Before(all[j].SubmittedAt)
		}
		return all[i].ID < all[j].ID
	})
	total := len(all)
	var page []*Submission
	for i := offset; i < total && len(page) < limit; i++ {
		page = append(page, copySub(all[i]))
	}
	return page, total, nil
}

// AppendEvent implements DeliveryStore.
func (m *MemStore) AppendEvent(_ context.Context, ars, caseID, set string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := k2(ars, caseID)
	if _, ok := m.cases[key]; !ok {
		return rathaus.Errorf(rathaus.ENOTFOUND, "case %s not found", caseID)
	}
	m.events[key] = append(m.events[key], set)
	return nil
}

// Events implements DeliveryStore.
func (m *MemStore) Events(_ context.Context, ars, caseID string, offset, limit int) ([]string, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := k2(ars, caseID)
	if _, ok := m.cases[key]; !ok {
		return nil, 0, rathaus.Errorf(rathaus.ENOTFOUND, "case %s not found", caseID)
	}
	all := m.events[key]
	if offset > len(all) {
		offset = len(all)
	}
	end := min(offset+limit, len(all))
	return slices.Clone(all[offset:end]), len(all), nil
}

// DueSubmissions implements DeliveryStore.
func (m *MemStore) DueSubmissions(_ context.Context, state string, t time.Time) ([]*Submission, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*Submission
	for _, s := range m.submissions {
		if s.State != state {
			continue
		}
		ref := s.SubmittedAt
		if state == StateIncomplete {
			ref = s.CreatedAt
		}
		if !ref.After(t) {
			due = append(due, copySub(s))
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].ID < due[j].ID })
	return due, nil
}
