// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"rathaus"
	"rathaus/identity"
	"rathaus/tenant"
)

// Identity returns the identity.Store of db.
func (db *DB) Identity() identity.Store { return identityStore{db} }

type identityStore struct{ db *DB }

var (
	_ identity.Store  = identityStore{}
	_ identity.Atomic = identityStore{}
	// identity/session.Toucher (not imported: session's tests use sqlstore).
	_ interface {
		TouchSession(ctx context.Context, id string, expiresAt time.Time) error
	} = identityStore{}
)

// Atomic implements identity.Atomic with DB.Atomic: the identity writes
// and the audit entries (DB.Audit().Append) made with the ctx given to fn
// commit in one transaction. On SQLite fn must use only that ctx for writes
// of this database (the single writer connection is held by the
// transaction).
func (s identityStore) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.Atomic(ctx, func(ctx context.Context, _ *sql.Tx) error { return fn(ctx) })
}

// UpsertUser creates the user for (Issuer, Subject) or updates its name and
// profile. The kind of an existing user is kept.
func (s identityStore) UpsertUser(ctx context.Context, u identity.User) (*identity.User, error) {
	if u.Issuer == "" || u.Subject == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "user: fields Issuer and Subject: must not be empty")
	}
	if u.Kind == "" {
		u.Kind = identity.KindCitizen
	}
	if u.Kind != identity.KindCitizen && u.Kind != identity.KindStaff {
		return nil, rathaus.Errorf(rathaus.EINVALID, "user: field Kind: unknown kind %q", u.Kind)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	prof, _ := json.Marshal(u.Profile)
	now := time.Now().UTC().Truncate(time.Microsecond)
	out := u
	var created int64
	var kind string
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, s.db.Rebind(`INSERT INTO users (id, kind, issuer, subject, name, profile, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (issuer, subject) DO UPDATE SET name = excluded.name, profile = excluded.profile
			RETURNING id, kind, created_at`),
			id.String(), string(u.Kind), u.Issuer, u.Subject, u.Name, string(prof), micros(now)).Scan(&out.ID, &kind, &created)
	})
	if err != nil {
		return nil, err
	}
	out.Kind, out.CreatedAt = identity.Kind(kind), fromMicros(created)
	return &out, nil
}

// User returns a user by ID.
func (s identityStore) User(ctx context.Context, id string) (*identity.User, error) {
	var u identity.User
	var kind, prof string
	var created int64
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT id, kind, issuer, subject, name, profile, created_at FROM users WHERE id = ?`), id).
		Scan(&u.ID, &kind, &u.Issuer, &u.Subject, &u.Name, &prof, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Benutzer nicht gefunden / user not found")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(prof), &u.Profile); err != nil {
		return nil, err
	}
	u.Kind, u.CreatedAt = identity.Kind(kind), fromMicros(created)
	return &u, nil
}

// SetGrants replaces the grants of a user in one transaction.
func (s identityStore) SetGrants(ctx context.Context, userID string, gs []identity.Grant) error {
	for i, g := range gs {
		if !tenant.ValidARS(g.Tenant) {
			return rathaus.Errorf(rathaus.EINVALID, "grant %d: field Tenant: %q is not a 12-digit ARS", i+1, g.Tenant)
		}
		switch g.Role {
		case identity.RoleCaseworker, identity.RoleServiceDesigner, identity.RoleOperator:
		default:
			return rathaus.Errorf(rathaus.EINVALID, "grant %d: field Role: unknown role %q", i+1, g.Role)
		}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM users WHERE id = ?`), userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return rathaus.Errorf(rathaus.ENOTFOUND, "Benutzer nicht gefunden / user not found")
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM grants WHERE user_id = ?`), userID); err != nil {
			return err
		}
		for _, g := range gs {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO grants (tenant, user_id, role) VALUES (?, ?, ?)
				ON CONFLICT (tenant, user_id, role) DO NOTHING`), g.Tenant, userID, string(g.Role)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Grants returns the grants of a user ordered by tenant and role.
func (s identityStore) Grants(ctx context.Context, userID string) ([]identity.Grant, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT tenant, role FROM grants WHERE user_id = ? ORDER BY tenant, role`), userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.Grant
	for rows.Next() {
		g := identity.Grant{UserID: userID}
		var role string
		if err := rows.Scan(&g.Tenant, &role); err != nil {
			return nil, err
		}
		g.Role = identity.Role(role)
		out = append(out, g)
	}
	return out, rows.Err()
}

// sessionKey is what the sessions table stores instead of the session id:
// its SHA-256 in hex. A leaked database or backup then holds no cookie
// value that could be replayed (like the resume tokens of drafts).
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte("rathaus-session\x00" + id))
	return hex.EncodeToString(sum[:])
}

// CreateSession stores a new session. Returns ECONFLICT for a duplicate ID.
func (s identityStore) CreateSession(ctx context.Context, ss identity.Session) error {
	if len(ss.ID) < 16 || ss.UserID == "" {
		return rathaus.Errorf(rathaus.EINVALID, "session: fields ID (at least 16 characters) and UserID are required")
	}
	if ss.ExpiresAt.IsZero() {
		return rathaus.Errorf(rathaus.EINVALID, "session: field ExpiresAt: required")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM sessions WHERE id = ?`), sessionKey(ss.ID)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rathaus.Errorf(rathaus.ECONFLICT, "session exists")
		}
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO sessions (id, user_id, loa, idp, auth_time, expires_at, tenant, lang)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			sessionKey(ss.ID), ss.UserID, int(ss.LoA), ss.IdP, micros(ss.AuthTime), micros(ss.ExpiresAt), ss.Tenant, ss.Lang)
		return err
	})
}

// Session returns an unexpired session or ENOTFOUND.
func (s identityStore) Session(ctx context.Context, id string) (*identity.Session, error) {
	var ss identity.Session
	var loa int
	var auth, exp int64
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT user_id, loa, idp, auth_time, expires_at, tenant, lang
		FROM sessions WHERE id = ? AND expires_at > ?`), sessionKey(id), time.Now().UnixMicro()).
		Scan(&ss.UserID, &loa, &ss.IdP, &auth, &exp, &ss.Tenant, &ss.Lang)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Sitzung abgelaufen / session expired")
	}
	if err != nil {
		return nil, err
	}
	ss.ID = id
	ss.LoA, ss.AuthTime, ss.ExpiresAt = identity.LoA(loa), fromMicros(auth), fromMicros(exp)
	return &ss, nil
}

// UpdateSession changes Tenant and Lang of an unexpired session.
func (s identityStore) UpdateSession(ctx context.Context, ss identity.Session) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE sessions SET tenant = ?, lang = ? WHERE id = ? AND expires_at > ?`),
			ss.Tenant, ss.Lang, sessionKey(ss.ID), time.Now().UnixMicro())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rathaus.Errorf(rathaus.ENOTFOUND, "Sitzung abgelaufen / session expired")
		}
		return nil
	})
}

// TouchSession moves the expiry of an unexpired session to expiresAt (the
// session manager's sliding idle timeout). It never shortens a session and
// never revives an expired one: that returns ENOTFOUND.
func (s identityStore) TouchSession(ctx context.Context, id string, expiresAt time.Time) error {
	if expiresAt.IsZero() {
		return rathaus.Errorf(rathaus.EINVALID, "session: field ExpiresAt: required")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE sessions SET expires_at = ? WHERE id = ? AND expires_at > ? AND expires_at < ?`),
			micros(expiresAt), sessionKey(id), time.Now().UnixMicro(), micros(expiresAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		// Nothing changed: either the session is gone or expired (ENOTFOUND),
		// or it already lasts at least until expiresAt (fine).
		var n int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM sessions WHERE id = ? AND expires_at > ?`),
			sessionKey(id), time.Now().UnixMicro()).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return rathaus.Errorf(rathaus.ENOTFOUND, "Sitzung abgelaufen / session expired")
		}
		return nil
	})
}

// DeleteSession removes a session; a missing one is not an error.
func (s identityStore) DeleteSession(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM sessions WHERE id = ?`), sessionKey(id))
		return err
	})
}

// DeleteExpiredSessions removes sessions that expired before now and returns
// how many (for a periodic clean-up job).
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind(`DELETE FROM sessions WHERE expires_at <= ?`), now.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
