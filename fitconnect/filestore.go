// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"rathaus"
)

// FileStore is an INTERIM DeliveryStore: a MemStore whose whole state is
// written to one JSON file (atomically, mode 0600) after every change. It
// lets `rathaus fitconnect destination create` and `rathaus fitconnect
// serve` share destinations and clients until the SQL store in sqlstore
// implements DeliveryStore. It rewrites the whole file on each write, so it
// is for demos and small single-node setups only. A change of the file by
// another process (say `destination create` while `serve` runs) is picked
// up before the next read or write; two processes writing at the same
// instant can still lose one write.
type FileStore struct {
	*MemStore
	path    string
	wmu     sync.Mutex
	seen    time.Time // modification time of the file as last read or written
	seenLen int64     // and its size
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
	if err := s.refresh(); err != nil {
		return nil, err
	}
	return s, nil
}

// refresh reloads the file if another process changed it. Callers hold wmu
// or are the constructor.
func (s *FileStore) refresh() error {
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "fitconnect store %s: cannot stat", s.path)
	}
	if fi.ModTime().Equal(s.seen) && fi.Size() == s.seenLen {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "fitconnect store %s: cannot read", s.path)
	}
	var snap memSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "fitconnect store %s: not valid JSON: %v", s.path, err)
	}
	m := NewMemStore()
	for _, d := range snap.Destinations {
		m.destinations[k2(d.Tenant, d.ID)] = d
	}
	for _, c := range snap.Clients {
		m.clients[c.ID] = c
	}
	for _, x := range snap.Submissions {
		m.submissions[k2(x.Tenant, x.ID)] = x
	}
	maps.Copy(m.attachments, snap.Attachments)
	maps.Copy(m.events, snap.Events)
	maps.Copy(m.cases, snap.Cases)
	cur := s.MemStore
	cur.mu.Lock()
	cur.destinations, cur.clients, cur.submissions = m.destinations, m.clients, m.submissions
	cur.attachments, cur.events, cur.cases = m.attachments, m.events, m.cases
	cur.mu.Unlock()
	s.seen, s.seenLen = fi.ModTime(), fi.Size()
	return nil
}

// read refreshes before a read.
func (s *FileStore) read() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.refresh()
}

// write refreshes, applies op and saves, all under the write lock.
func (s *FileStore) write(op func() error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.refresh(); err != nil {
		return err
	}
	if err := op(); err != nil {
		return err
	}
	return s.save()
}

// save writes the whole state; the caller holds wmu.
func (s *FileStore) save() error {
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
	if fi, err := os.Stat(s.path); err == nil {
		s.seen, s.seenLen = fi.ModTime(), fi.Size()
	}
	return nil
}

// PutDestination implements DeliveryStore.
func (s *FileStore) PutDestination(ctx context.Context, d *Destination) error {
	return s.write(func() error { return s.MemStore.PutDestination(ctx, d) })
}

// CreateClient implements DeliveryStore.
func (s *FileStore) CreateClient(ctx context.Context, c *APIClient) error {
	return s.write(func() error { return s.MemStore.CreateClient(ctx, c) })
}

// CreateSubmission implements DeliveryStore.
func (s *FileStore) CreateSubmission(ctx context.Context, x *Submission) error {
	return s.write(func() error { return s.MemStore.CreateSubmission(ctx, x) })
}

// UpdateSubmission implements DeliveryStore.
func (s *FileStore) UpdateSubmission(ctx context.Context, x *Submission) error {
	return s.write(func() error { return s.MemStore.UpdateSubmission(ctx, x) })
}

// PutAttachment implements DeliveryStore.
func (s *FileStore) PutAttachment(ctx context.Context, ars, submissionID, attachmentID, jwe string) error {
	return s.write(func() error { return s.MemStore.PutAttachment(ctx, ars, submissionID, attachmentID, jwe) })
}

// DeleteContent implements DeliveryStore.
func (s *FileStore) DeleteContent(ctx context.Context, ars, submissionID string) error {
	return s.write(func() error { return s.MemStore.DeleteContent(ctx, ars, submissionID) })
}

// AppendEvent implements DeliveryStore.
func (s *FileStore) AppendEvent(ctx context.Context, ars, caseID, set string) error {
	return s.write(func() error { return s.MemStore.AppendEvent(ctx, ars, caseID, set) })
}

// UpdateSubmissionEvent implements DeliveryStore (one write of the file).
func (s *FileStore) UpdateSubmissionEvent(ctx context.Context, x *Submission, set string) error {
	return s.write(func() error { return s.MemStore.UpdateSubmissionEvent(ctx, x, set) })
}

// Destination implements DeliveryStore.
func (s *FileStore) Destination(ctx context.Context, ars, id string) (*Destination, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.MemStore.Destination(ctx, ars, id)
}

// ClientByID implements DeliveryStore.
func (s *FileStore) ClientByID(ctx context.Context, id string) (*APIClient, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.MemStore.ClientByID(ctx, id)
}

// Submission implements DeliveryStore.
func (s *FileStore) Submission(ctx context.Context, ars, id string) (*Submission, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.MemStore.Submission(ctx, ars, id)
}

// SubmissionByCase implements DeliveryStore.
func (s *FileStore) SubmissionByCase(ctx context.Context, ars, caseID string) (*Submission, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.MemStore.SubmissionByCase(ctx, ars, caseID)
}

// Attachment implements DeliveryStore.
func (s *FileStore) Attachment(ctx context.Context, ars, submissionID, attachmentID string) (string, error) {
	if err := s.read(); err != nil {
		return "", err
	}
	return s.MemStore.Attachment(ctx, ars, submissionID, attachmentID)
}

// AttachmentIDs implements DeliveryStore.
func (s *FileStore) AttachmentIDs(ctx context.Context, ars, submissionID string) ([]string, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.MemStore.AttachmentIDs(ctx, ars, submissionID)
}

// ListSubmissions implements DeliveryStore.
func (s *FileStore) ListSubmissions(ctx context.Context, ars, destinationID string, states []string, offset, limit int) ([]*Submission, int, error) {
	if err := s.read(); err != nil {
		return nil, 0, err
	}
	return s.MemStore.ListSubmissions(ctx, ars, destinationID, states, offset, limit)
}

// Events implements DeliveryStore.
func (s *FileStore) Events(ctx context.Context, ars, caseID string, offset, limit int) ([]string, int, error) {
	if err := s.read(); err != nil {
		return nil, 0, err
	}
	return s.MemStore.Events(ctx, ars, caseID, offset, limit)
}

// DueSubmissions implements DeliveryStore.
func (s *FileStore) DueSubmissions(ctx context.Context, state string, t time.Time) ([]*Submission, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.MemStore.DueSubmissions(ctx, state, t)
}

var _ DeliveryStore = (*FileStore)(nil)
