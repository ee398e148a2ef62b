// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"crypto/rsa"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
)

// EventPrefix starts every FIT-Connect event URI.
const EventPrefix = "https://schema.fitko.de/fit-connect/events/"

// Event URIs (fitconnect.md §7).
const (
	EventCreateSubmission  = EventPrefix + "create-submission"
	EventSubmitSubmission  = EventPrefix + "submit-submission"
	EventNotifySubmission  = EventPrefix + "notify-submission"
	EventForwardSubmission = EventPrefix + "forward-submission"
	EventAcceptSubmission  = EventPrefix + "accept-submission"
	EventRejectSubmission  = EventPrefix + "reject-submission"
	EventDeleteSubmission  = EventPrefix + "delete-submission"
	EventCreateReply       = EventPrefix + "create-reply"
	EventSubmitReply       = EventPrefix + "submit-reply"
	EventAcceptReply       = EventPrefix + "accept-reply"
	EventRejectReply       = EventPrefix + "reject-reply"
)

var knownEvents = map[string]bool{
	EventCreateSubmission: true, EventSubmitSubmission: true, EventNotifySubmission: true,
	EventForwardSubmission: true, EventAcceptSubmission: true, EventRejectSubmission: true,
	EventDeleteSubmission: true, EventCreateReply: true, EventSubmitReply: true,
	EventAcceptReply: true, EventRejectReply: true,
}

// SETPayloadSchema is the $schema put into SETs that carry a payload. The
// live TEST system accepted 1.2.2 in 2026 and rejected 1.0.0 (fitconnect.md
// §7); subscribers should copy the schema of the submit-submission SET.
const SETPayloadSchema = "https://schema.fitko.de/fit-connect/set-payload/1.2.2/set-payload.schema.json"

// SETType is the JWS typ header of every security event token.
const SETType = "secevent+jwt"

// ProblemPrefix starts the type URI of every problem in a reject event.
const ProblemPrefix = "https://schema.fitko.de/fit-connect/events/problems/"

// Problem is an RFC 7807 problem: in reject-submission events and as the
// application/problem+json error body of the Submission API.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title,omitempty"`
	Status   int    `json:"status,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// AuthenticationTags are the JWE authentication tags of one submission: of
// the metadata, the data and each attachment by attachment id.
type AuthenticationTags struct {
	Metadata    string            `json:"metadata"`
	Data        string            `json:"data,omitempty"`
	Attachments map[string]string `json:"attachments,omitempty"`
}

// Equal reports whether t and u carry the same tags.
func (t AuthenticationTags) Equal(u AuthenticationTags) bool {
	return t.Metadata == u.Metadata && t.Data == u.Data && maps.Equal(t.Attachments, u.Attachments) &&
		(len(t.Attachments) == len(u.Attachments))
}

// Diff names the first part whose tag differs ("" if none).
func (t AuthenticationTags) Diff(u AuthenticationTags) string {
	switch {
	case t.Metadata != u.Metadata:
		return "metadata"
	case t.Data != u.Data:
		return "data"
	}
	for _, id := range slices.Sorted(maps.Keys(t.Attachments)) {
		if u.Attachments[id] != t.Attachments[id] {
			return "attachment:" + id
		}
	}
	for id := range u.Attachments {
		if _, ok := t.Attachments[id]; !ok {
			return "attachment:" + id
		}
	}
	return ""
}

// EventPayload is the payload of the one event of a SET.
type EventPayload struct {
	AuthenticationTags *AuthenticationTags `json:"authenticationTags,omitempty"`
	Problems           []Problem           `json:"problems,omitempty"`
}

func (p EventPayload) empty() bool { return p.AuthenticationTags == nil && len(p.Problems) == 0 }

// SET is a security event token (RFC 8417) of the FIT-Connect event log: one
// event about one submission of one case.
type SET struct {
	Schema   string    // $schema of the payload; empty for events without payload
	ID       string    // jti, a fresh UUID
	Issuer   string    // delivery service URL, or the destination id for subscriber events
	IssuedAt time.Time // iat
	Subject  string    // "submission:<uuid>"
	Txn      string    // "case:<uuid>"
	Event    string    // event URI
	Payload  EventPayload
}

type setJSON struct {
	Schema string                     `json:"$schema,omitempty"`
	JTI    string                     `json:"jti"`
	Iss    string                     `json:"iss"`
	Iat    int64                      `json:"iat"`
	Sub    string                     `json:"sub"`
	Txn    string                     `json:"txn"`
	Events map[string]json.RawMessage `json:"events"`
}

// MarshalJSON encodes the claims.
func (s SET) MarshalJSON() ([]byte, error) {
	p, err := json.Marshal(s.Payload)
	if err != nil {
		return nil, err
	}
	schema := s.Schema
	if s.Payload.empty() {
		schema = "" // an event without payload must not carry $schema
	}
	return json.Marshal(setJSON{Schema: schema, JTI: s.ID, Iss: s.Issuer, Iat: s.IssuedAt.Unix(),
		Sub: s.Subject, Txn: s.Txn, Events: map[string]json.RawMessage{s.Event: p}})
}

// SignSET signs the claims with the RSA private key as a compact JWS with
// alg PS512, typ secevent+jwt and the key's kid. Missing jti and iat are not
// filled in; the required claims must all be set.
func SignSET(claims SET, key *jose.JSONWebKey) (string, error) {
	if key == nil {
		return "", rathaus.Errorf(rathaus.EINVALID, "set: no signing key")
	}
	priv, ok := key.Key.(*rsa.PrivateKey)
	if !ok {
		return "", rathaus.Errorf(rathaus.EINVALID, "set: signing key %s is not an RSA private key", key.KeyID)
	}
	if priv.N.BitLen() < MinRSABits {
		return "", rathaus.Errorf(rathaus.EINVALID, "set: signing key %s has %d bits, at least %d required", key.KeyID, priv.N.BitLen(), MinRSABits)
	}
	if key.KeyID == "" {
		return "", rathaus.Errorf(rathaus.EINVALID, "set: signing key has no kid")
	}
	if err := checkClaims(claims); err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "set: encode claims")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: SignatureAlgorithm, Key: priv},
		(&jose.SignerOptions{}).WithType(SETType).WithHeader(jose.HeaderKey("kid"), key.KeyID))
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "set: signer")
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "set: sign")
	}
	return obj.CompactSerialize()
}

func checkClaims(s SET) error {
	missing := []string{}
	if s.ID == "" {
		missing = append(missing, "jti")
	}
	if s.Issuer == "" {
		missing = append(missing, "iss")
	}
	if s.IssuedAt.IsZero() {
		missing = append(missing, "iat")
	}
	if s.Subject == "" {
		missing = append(missing, "sub")
	}
	if s.Txn == "" {
		missing = append(missing, "txn")
	}
	if s.Event == "" {
		missing = append(missing, "events")
	}
	if len(missing) > 0 {
		return rathaus.Errorf(rathaus.EINVALID, "set: missing claims: %s", strings.Join(missing, ", "))
	}
	if !knownEvents[s.Event] {
		return rathaus.Errorf(rathaus.EINVALID, "set: unknown event %q", s.Event)
	}
	if !strings.HasPrefix(s.Subject, "submission:") && !strings.HasPrefix(s.Subject, "reply:") {
		return rathaus.Errorf(rathaus.EINVALID, "set: sub must be submission:<id> or reply:<id>, is %q", s.Subject)
	}
	if !strings.HasPrefix(s.Txn, "case:") {
		return rathaus.Errorf(rathaus.EINVALID, "set: txn must be case:<id>, is %q", s.Txn)
	}
	return nil
}

// VerifyOptions configures VerifySET. Empty fields are not checked.
type VerifyOptions struct {
	Issuer  string        // required iss
	Subject string        // required sub, e.g. "submission:<id>"
	Txn     string        // required txn, e.g. "case:<id>"
	MaxAge  time.Duration // maximum age of iat; 0: no limit
	Now     time.Time     // zero: time.Now()
	Leeway  time.Duration // allowed clock skew for iat in the future; 0: one minute
}

// VerifySET verifies a compact SET against the keys of jwks: alg PS512 only,
// typ secevent+jwt, a kid that names an RSA key of ≥ 4096 bits in jwks, a
// valid signature, all required claims (jti iss iat sub txn events), exactly
// one known event, and the expectations of opts. Errors are EINVALID.
func VerifySET(token string, jwks *jose.JSONWebKeySet, opts VerifyOptions) (*SET, error) {
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{SignatureAlgorithm})
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: %v", err)
	}
	if len(obj.Signatures) != 1 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: want exactly one signature")
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != SETType {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: typ must be %s, is %q", SETType, typ)
	}
	if h.KeyID == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: header has no kid")
	}
	if jwks == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: no keys to verify kid %s", h.KeyID)
	}
	keys := jwks.Key(h.KeyID)
	if len(keys) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: unknown signing key %q", h.KeyID)
	}
	pub, ok := rsaPublic(&keys[0])
	if !ok {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: key %s is not RSA", h.KeyID)
	}
	if pub.N.BitLen() < MinRSABits {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: key %s has %d bits, at least %d required", h.KeyID, pub.N.BitLen(), MinRSABits)
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: bad signature (key %s)", h.KeyID)
	}
	var raw setJSON
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: claims: %v", err)
	}
	if len(raw.Events) != 1 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: want exactly one event, have %d", len(raw.Events))
	}
	s := &SET{Schema: raw.Schema, ID: raw.JTI, Issuer: raw.Iss, Subject: raw.Sub, Txn: raw.Txn}
	if raw.Iat > 0 {
		s.IssuedAt = time.Unix(raw.Iat, 0).UTC()
	}
	for ev, p := range raw.Events {
		s.Event = ev
		if len(p) > 0 && string(p) != "null" {
			if err := json.Unmarshal(p, &s.Payload); err != nil {
				return nil, rathaus.Errorf(rathaus.EINVALID, "set: payload of %s: %v", ev, err)
			}
		}
	}
	if err := checkClaims(*s); err != nil {
		return nil, err
	}
	switch {
	case opts.Issuer != "" && s.Issuer != opts.Issuer:
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: iss is %q, want %q", s.Issuer, opts.Issuer)
	case opts.Subject != "" && s.Subject != opts.Subject:
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: sub is %q, want %q", s.Subject, opts.Subject)
	case opts.Txn != "" && s.Txn != opts.Txn:
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: txn is %q, want %q", s.Txn, opts.Txn)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := opts.Leeway
	if leeway == 0 {
		leeway = time.Minute
	}
	if s.IssuedAt.After(now.Add(leeway)) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: iat %s lies in the future", s.IssuedAt.Format(time.RFC3339))
	}
	if opts.MaxAge > 0 && now.Sub(s.IssuedAt) > opts.MaxAge {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: too old (iat %s, max age %s)", s.IssuedAt.Format(time.RFC3339), opts.MaxAge)
	}
	return s, nil
}

// CheckAuthenticationTags reports whether the SET's authenticationTags
// equal want (the tags of the JWEs the caller sent or received).
func (s *SET) CheckAuthenticationTags(want AuthenticationTags) error {
	if s.Payload.AuthenticationTags == nil {
		return rathaus.Errorf(rathaus.EINVALID, "set %s: event carries no authenticationTags", s.ID)
	}
	if d := s.Payload.AuthenticationTags.Diff(want); d != "" {
		return rathaus.Errorf(rathaus.EINVALID, "set %s: authentication tag of %s does not match", s.ID, d)
	}
	return nil
}
