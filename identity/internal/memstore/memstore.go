// SPDX-License-Identifier: EUPL-1.2

// Package memstore is a small in-memory identity.Store for the tests of the
// identity packages, until they run against sqlstore on both dialects.
package memstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"

	"rathaus"
	"rathaus/identity"
)

// Store is an in-memory identity.Store. The zero value is not usable; call New.
type Store struct {
	mu       sync.Mutex
	Now      func() time.Time
	users    map[string]identity.User
	grants   map[string][]identity.Grant
	sessions map[string]identity.Session
}

// New returns an empty store.
func New() *Store {
	return &Store{Now: time.Now, users: map[string]identity.User{}, grants: map[string][]identity.Grant{}, sessions: map[string]identity.Session{}}
}

// UpsertUser implements identity.Store.
func (s *Store) UpsertUser(_ context.Context, u identity.User) (*identity.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, old := range s.users {
		if old.Issuer == u.Issuer && old.Subject == u.Subject {
			old.Name, old.Profile = u.Name, u.Profile
			s.users[id] = old
			return &old, nil
		}
	}
	b := make([]byte, 16)
	rand.Read(b)
	u.ID = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	u.CreatedAt = s.Now().UTC()
	s.users[u.ID] = u
	return &u, nil
}

// User implements identity.Store.
func (s *Store) User(_ context.Context, id string) (*identity.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Benutzer nicht gefunden.")
	}
	return &u, nil
}

// SetGrants implements identity.Store.
func (s *Store) SetGrants(_ context.Context, userID string, gs []identity.Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[userID] = slices.Clone(gs)
	return nil
}

// Grants implements identity.Store.
func (s *Store) Grants(_ context.Context, userID string) ([]identity.Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.grants[userID]), nil
}

// CreateSession implements identity.Store.
func (s *Store) CreateSession(_ context.Context, se identity.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.sessions[se.ID]; dup {
		return rathaus.Errorf(rathaus.ECONFLICT, "Sitzung existiert bereits.")
	}
	s.sessions[se.ID] = se
	return nil
}

// Session implements identity.Store.
func (s *Store) Session(_ context.Context, id string) (*identity.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[id]
	if !ok || !s.Now().Before(se.ExpiresAt) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Sitzung nicht gefunden.")
	}
	return &se, nil
}

// UpdateSession implements identity.Store.
func (s *Store) UpdateSession(_ context.Context, se identity.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.sessions[se.ID]
	if !ok {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Sitzung nicht gefunden.")
	}
	old.Tenant, old.Lang = se.Tenant, se.Lang
	s.sessions[se.ID] = old
	return nil
}

// DeleteSession implements identity.Store.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
	return nil
}

// SessionCount returns the number of stored sessions (expired included).
func (s *Store) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
