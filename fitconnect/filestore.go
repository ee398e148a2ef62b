// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"rathaus"
)

// FileStore is an INTERIM DeliveryStore: a MemStore whose whole state is
// written to one JSON file (atomically, mode 0600) after every change. It
// lets `rathaus fitconnect destination create` and `rathaus fitconnect
// serve` share destinations and clients until the SQL store in sqlstore
// implements DeliveryStore. It rewrites the whole file on each write, so it
// is for demos and small single-node setups only; one process at a time.
type FileStore struct {
	*MemStore
	path string
	wmu  sync.Mutex
}

type memSnapshot struct {
	Destinations []*Destination               `json:"destinations"`
	Clients      []*APIClient                 `json:"clients"`
	Submissions  []*Submission                `json:"submissions"`
	Attachments  map[string]map[string]string `json:"attachments"`
	Events       map[string][]string          `json:"events"`
	Cases        map[string]string            `json:"cases"`
}

// OpenFileStore loads the store from path, or starts empty if the file
// does not exist.
func OpenFileStore(path string) (*FileStore, error) {
	s := &FileStore{MemStore: NewMemStore(), path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "fitconnect store %s: cannot read", path)
	}
	var snap memSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect store %s: not valid JSON: %v", path, err)
	}
	m := s.MemStore
	for _, d := range snap.Destinations {
		m.destinations[k2(d.Tenant, d.ID)] = d
	}
	for _, c := range snap.Clients {
		m.clients[c.ID] = c
	}
	for _, x := range snap.Submissions {
		m.submissions[k2(x.Tenant, x.ID)] = x
	}
	for k, v := range snap.Attachments {
		m.attachments[k] = v
	}
	for k, v := range snap.Events {
		m.events[k] = v
	}
	for k, v := range snap.Cases {
		m.cases[k] = v
	}
	return s, nil
}

func (s *FileStore) save() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	m := s.MemStore
	m.mu.Lock()
	snap := memSnapshot{Attachments: m.attachments, Events: m.events, Cases: m.cases}
	for _, d := range m.destinations {
		snap.Destinations = append(snap.Destinations, d)
	}
	for _, c := range m.clients {
		snap.Clients = append(snap.Clients, c)
	}
	for _, x := range m.submissions {
		snap.Submissions = append(snap.Submissions, x)
	}
	b, err := json.Marshal(snap)
	m.mu.Unlock()
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "fitconnect store: encode")
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "fitconnect store: cannot create directory")
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "fitconnect store: cannot write")
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "fitconnect store: cannot replace")
	}
	return nil
}

func (s *FileStore) then(err error) error {
	if err != nil {
		return err
	}
	return s.save()
}

// PutDestination implements DeliveryStore.
func (s *FileStore) PutDestination(ctx context.Context, d *Destination) error {
	return s.then(s.MemStore.PutDestination(ctx, d))
}

// CreateClient implements DeliveryStore.
func (s *FileStore) CreateClient(ctx context.Context, c *APIClient) error {
	return s.then(s.MemStore.CreateClient(ctx, c))
}

// CreateSubmission implements DeliveryStore.
func (s *FileStore) CreateSubmission(ctx context.Context, x *Submission) error {
	return s.then(s.MemStore.CreateSubmission(ctx, x))
}

// UpdateSubmission implements DeliveryStore.
func (s *FileStore) UpdateSubmission(ctx context.Context, x *Submission) error {
	return s.then(s.MemStore.UpdateSubmission(ctx, x))
}

// PutAttachment implements DeliveryStore.
func (s *FileStore) PutAttachment(ctx context.Context, ars, submissionID, attachmentID, jwe string) error {
	return s.then(s.MemStore.PutAttachment(ctx, ars, submissionID, attachmentID, jwe))
}

// DeleteContent implements DeliveryStore.
func (s *FileStore) DeleteContent(ctx context.Context, ars, submissionID string) error {
	return s.then(s.MemStore.DeleteContent(ctx, ars, submissionID))
}

// AppendEvent implements DeliveryStore.
func (s *FileStore) AppendEvent(ctx context.Context, ars, caseID, set string) error {
	return s.then(s.MemStore.AppendEvent(ctx, ars, caseID, set))
}

var _ DeliveryStore = (*FileStore)(nil)
