// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"rathaus"
)

// Deadlines of the delivery service (fitconnect.md §2).
const (
	IncompleteDeadline = 24 * time.Hour
	SubmittedDeadline  = 14 * 24 * time.Hour
)

// ProblemNotPickedUp is the problem type of the delivery service's
// reject-submission event after the 14-day deadline. FITKO publishes no
// name for it; this one is ours.
const ProblemNotPickedUp = ProblemPrefix + "submission-not-picked-up"

// ServiceConfig configures a DeliveryService.
type ServiceConfig struct {
	// BaseURL is the public URL of the service, the iss of its SETs and the
	// base of the token URL (BaseURL + "/token"). Required.
	BaseURL string
	// SigningKey is the RSA ≥ 4096 private key (with kid) that signs the
	// service's SETs; its public half is served at /.well-known/jwks.json.
	SigningKey *jose.JSONWebKey
	// TrustRoots anchor the x5c chains of destination keys. Required.
	TrustRoots *x509.CertPool
	// HTTPClient sends callbacks; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// TokenTTL is the lifetime of access tokens; 0 means 30 minutes.
	TokenTTL time.Duration
	// MaxBodyBytes limits uploads (attachments, submission bodies); 0
	// means 64 MiB.
	MaxBodyBytes int64
	// AllowHTTPCallbacks permits http:// callback URLs (development only;
	// the spec allows https only).
	AllowHTTPCallbacks bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf logs failed callbacks; nil means log.Printf.
	Logf func(format string, args ...any)
}

// DeliveryService is the delivery service (Zustelldienst): the Submission
// API for senders and subscribers, the OAuth2 token endpoint, the event log
// and the callbacks. It is an http.Handler. Access tokens live in the
// process (a restart makes clients fetch new ones); everything else lives
// in the DeliveryStore.
type DeliveryService struct {
	store DeliveryStore
	cfg   ServiceConfig
	mux   *http.ServeMux

	mu     sync.Mutex
	tokens map[[32]byte]*principal
	wg     sync.WaitGroup
	// locks serialize the state transitions of one submission (striped by
	// id) within this process; a multi-node store must add its own
	// conditional updates.
	locks [64]sync.Mutex
}

// lock locks the stripe of a submission id and returns the unlock.
func (s *DeliveryService) lock(submissionID string) func() {
	h := fnv.New32a()
	h.Write([]byte(submissionID))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

type principal struct {
	client  *APIClient
	scopes  []string
	expires time.Time
}

func (p *principal) has(scope string) bool { return slices.Contains(p.scopes, scope) }

func (p *principal) connected(destinationID string) bool {
	return p.client.Role == RoleSubscriber && slices.Contains(p.client.DestinationIDs, destinationID)
}

// NewDeliveryService returns the service over store.
func NewDeliveryService(store DeliveryStore, cfg ServiceConfig) (*DeliveryService, error) {
	if store == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: no store")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: base URL must be an absolute http(s) URL, is %q", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.SigningKey == nil || cfg.SigningKey.KeyID == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: a signing key with kid is required")
	}
	if pub, ok := rsaPublic(cfg.SigningKey); !ok || cfg.SigningKey.IsPublic() || pub.N.BitLen() < MinRSABits {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: the signing key must be an RSA private key of at least %d bits", MinRSABits)
	}
	if cfg.TrustRoots == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: trust roots for destination keys are required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 30 * time.Minute
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	s := &DeliveryService{store: store, cfg: cfg, mux: http.NewServeMux(), tokens: map[[32]byte]*principal{}}
	s.routes()
	return s, nil
}

// TokenURL returns the URL of the token endpoint.
func (s *DeliveryService) TokenURL() string { return s.cfg.BaseURL + "/token" }

// JWKS returns the public keys of the service's SETs.
func (s *DeliveryService) JWKS() jose.JSONWebKeySet {
	pub := s.cfg.SigningKey.Public()
	pub.Algorithm, pub.Use = string(SignatureAlgorithm), "sig"
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}
}

// Close waits for callbacks in flight.
func (s *DeliveryService) Close() { s.wg.Wait() }

// ServeHTTP implements http.Handler.
func (s *DeliveryService) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *DeliveryService) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if code := rathaus.ErrorCode(err); code == rathaus.EINTERNAL {
				s.cfg.Logf("fitconnect: %s %s: %v", r.Method, r.URL.Path, err)
			}
			writeProblem(w, r, err)
		}
	})
}

func (s *DeliveryService) routes() {
	s.handle("POST /token", s.token)
	s.handle("GET /.well-known/jwks.json", s.jwks)
	for _, v := range []string{"/v1", "/v2"} {
		s.handle("GET "+v+"/destinations/{id}", s.getDestination)
		s.handle("GET "+v+"/destinations/{id}/keys/{kid}", s.getKey)
		s.handle("GET "+v+"/destinations", s.listDestinations)
		s.handle("POST "+v+"/destinations/{id}/keys", s.postKey)
		s.handle("PATCH "+v+"/destinations/{id}", s.patchDestination)
		s.handle("GET "+v+"/destinations/{id}/submissions", s.listSubmissions)
		s.handle("GET "+v+"/submissions", s.listSubmissions)
		s.handle("POST "+v+"/submissions", s.announce)
		s.handle("PUT "+v+"/submissions/{id}/attachments/{aid}", s.uploadAttachment)
		s.handle("PUT "+v+"/submissions/{id}", s.submit)
		s.handle("GET "+v+"/submissions/{id}", s.getSubmission)
		s.handle("GET "+v+"/submissions/{id}/attachments/{aid}", s.getAttachment)
		s.handle("GET "+v+"/cases/{caseId}/events", s.getEvents)
		s.handle("POST "+v+"/cases/{caseId}/events", s.postEvent)
	}
	s.handle("/", func(w http.ResponseWriter, r *http.Request) error {
		return rathaus.Errorf(rathaus.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func validARS(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DestinationSpec describes a destination to create.
type DestinationSpec struct {
	Tenant           string          // ARS of the owning tenant
	Services         []PublicService // at least one, identifier a URN
	EncryptionKey    *Key            // public, checked with CheckKey(UseEncryption)
	SigningKey       *Key            // public, checked with CheckKey(UseSignature)
	Callback         *CallbackConfig // optional; secret required with a URL
	MetadataVersions []string        // default ["1.0.0"]
}

// CreateDestination checks the spec (keys against the trust roots) and
// stores a new active destination.
func (s *DeliveryService) CreateDestination(ctx context.Context, spec DestinationSpec) (*Destination, error) {
	if !validARS(spec.Tenant) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: tenant must be a 12-digit ARS, is %q", spec.Tenant)
	}
	if len(spec.Services) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: at least one service is required")
	}
	for i, ps := range spec.Services {
		if !reURN.MatchString(ps.Identifier) {
			return nil, rathaus.Errorf(rathaus.EINVALID, "destination: services[%d].identifier must be a URN such as %s<key>, is %q", i, LeikaURNPrefix, ps.Identifier)
		}
	}
	check := KeyCheck{Roots: s.cfg.TrustRoots, Now: s.cfg.Now()}
	if spec.EncryptionKey == nil || spec.SigningKey == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: encryption key and signing key are required")
	}
	if err := CheckKey(spec.EncryptionKey, UseEncryption, check); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: encryption key: %s", rathaus.ErrorMessage(err))
	}
	if err := CheckKey(spec.SigningKey, UseSignature, check); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: signing key: %s", rathaus.ErrorMessage(err))
	}
	if spec.EncryptionKey.KeyID == spec.SigningKey.KeyID {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: encryption and signing key need different kids")
	}
	if err := s.checkCallback(spec.Callback); err != nil {
		return nil, err
	}
	versions := spec.MetadataVersions
	if len(versions) == 0 {
		versions = []string{"1.0.0"}
	}
	d := &Destination{
		Tenant: spec.Tenant, ID: uuid.NewString(), Status: "active", Services: spec.Services,
		MetadataVersions: versions, EncryptionKid: spec.EncryptionKey.KeyID,
		Keys:     []Key{*spec.EncryptionKey.Public(), *spec.SigningKey.Public()},
		Callback: spec.Callback, CreatedAt: s.cfg.Now().UTC(),
	}
	if err := s.store.PutDestination(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// AddDestinationKey publishes another public key of a destination of the
// tenant: an encryption key (key_ops wrapKey) or a signature key (key_ops
// verify), checked like at creation. It does not switch encryptionKid.
func (s *DeliveryService) AddDestinationKey(ctx context.Context, ars, destinationID string, key *Key) (*Destination, error) {
	d, err := s.store.Destination(ctx, ars, destinationID)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: key missing")
	}
	use := UseEncryption
	if slices.Contains(key.KeyOps, "verify") {
		use = UseSignature
	}
	if err := CheckKey(key, use, KeyCheck{Roots: s.cfg.TrustRoots, Now: s.cfg.Now()}); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination: key: %s", rathaus.ErrorMessage(err))
	}
	if d.Key(key.KeyID) != nil {
		return nil, rathaus.Errorf(rathaus.ECONFLICT, "destination %s already has a key %s", d.ID, key.KeyID)
	}
	d.Keys = append(d.Keys, *key.Public())
	if err := s.store.PutDestination(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// DestinationUpdate changes a destination; nil fields stay as they are.
type DestinationUpdate struct {
	EncryptionKid *string         `json:"encryptionKid,omitempty"`
	Callback      *CallbackConfig `json:"callback,omitempty"`
	Status        *string         `json:"status,omitempty"` // "active" or "inactive"
}

// UpdateDestination switches the encryption key to a published encryption
// key, replaces the callback, or (de)activates a destination of the tenant.
func (s *DeliveryService) UpdateDestination(ctx context.Context, ars, destinationID string, u DestinationUpdate) (*Destination, error) {
	d, err := s.store.Destination(ctx, ars, destinationID)
	if err != nil {
		return nil, err
	}
	if u.EncryptionKid != nil {
		k := d.Key(*u.EncryptionKid)
		if k == nil || !slices.Contains(k.KeyOps, "wrapKey") {
			return nil, rathaus.Errorf(rathaus.EINVALID, "destination: %q is not a published encryption key of %s", *u.EncryptionKid, d.ID)
		}
		d.EncryptionKid = k.KeyID
	}
	if u.Callback != nil {
		if err := s.checkCallback(u.Callback); err != nil {
			return nil, err
		}
		d.Callback = u.Callback
	}
	if u.Status != nil {
		if *u.Status != "active" && *u.Status != "inactive" {
			return nil, rathaus.Errorf(rathaus.EINVALID, "destination: status must be active or inactive")
		}
		d.Status = *u.Status
	}
	if err := s.store.PutDestination(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// RotateEncryptionKey adds a new encryption key to a destination of the
// tenant (checked like at creation) and makes it the encryptionKid. The
// old keys stay published, so submissions already encrypted to them remain
// readable by a subscriber holding both private keys.
func (s *DeliveryService) RotateEncryptionKey(ctx context.Context, ars, destinationID string, key *Key) (*Destination, error) {
	if _, err := s.AddDestinationKey(ctx, ars, destinationID, key); err != nil {
		return nil, err
	}
	kid := key.KeyID
	return s.UpdateDestination(ctx, ars, destinationID, DestinationUpdate{EncryptionKid: &kid})
}

// manageDestination authorizes a destination-management request.
func (s *DeliveryService) manageDestination(r *http.Request) (*principal, string, error) {
	p, err := s.auth(r, ScopeManageDestinations)
	if err != nil {
		return nil, "", err
	}
	id := r.PathValue("id")
	if !p.connected(id) {
		return nil, "", rathaus.Errorf(rathaus.EFORBIDDEN, "client is not connected to destination %s", id)
	}
	return p, id, nil
}

func (s *DeliveryService) postKey(w http.ResponseWriter, r *http.Request) error {
	p, id, err := s.manageDestination(r)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" && mt != "application/jwk+json" {
		return &statusError{status: http.StatusUnsupportedMediaType, name: "unsupported-media-type", msg: "Content-Type must be application/json"}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		return &statusError{status: http.StatusRequestEntityTooLarge, name: "payload-too-large", msg: "key too large"}
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return err
	}
	if _, err := s.AddDestinationKey(r.Context(), p.client.Tenant, id, k); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, k.Public())
}

func (s *DeliveryService) patchDestination(w http.ResponseWriter, r *http.Request) error {
	p, id, err := s.manageDestination(r)
	if err != nil {
		return err
	}
	var u DestinationUpdate
	if err := decodeJSON(w, r, 64<<10, &u); err != nil {
		return err
	}
	d, err := s.UpdateDestination(r.Context(), p.client.Tenant, id, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, destinationDoc{d.ID, d.Status, d.EncryptionKid, d.Services, d.MetadataVersions})
}

func (s *DeliveryService) listDestinations(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, ScopeManageDestinations)
	if err != nil {
		return err
	}
	docs := []destinationDoc{}
	for _, id := range p.client.DestinationIDs {
		d, err := s.store.Destination(r.Context(), p.client.Tenant, id)
		if err != nil {
			return err
		}
		docs = append(docs, destinationDoc{d.ID, d.Status, d.EncryptionKid, d.Services, d.MetadataVersions})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"count": len(docs), "offset": 0, "totalCount": len(docs), "destinations": docs})
}

func (s *DeliveryService) checkCallback(cb *CallbackConfig) error {
	if cb == nil {
		return nil
	}
	u, err := url.Parse(cb.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(s.cfg.AllowHTTPCallbacks && u.Scheme == "http")) {
		return rathaus.Errorf(rathaus.EINVALID, "callback: url must be an absolute https URL, is %q", cb.URL)
	}
	if len(cb.Secret) < 32 {
		return rathaus.Errorf(rathaus.EINVALID, "callback: secret must have at least 32 characters")
	}
	return nil
}

// CreateClient registers an API client of the tenant with role RoleSender
// or RoleSubscriber (connected to destinationIDs of the same tenant) and
// returns its id and secret. The secret is shown only here.
func (s *DeliveryService) CreateClient(ctx context.Context, tenant, role string, destinationIDs ...string) (id, secret string, err error) {
	if !validARS(tenant) {
		return "", "", rathaus.Errorf(rathaus.EINVALID, "client: tenant must be a 12-digit ARS, is %q", tenant)
	}
	switch role {
	case RoleSender:
	case RoleSubscriber:
		if len(destinationIDs) == 0 {
			return "", "", rathaus.Errorf(rathaus.EINVALID, "client: a subscriber needs a destination")
		}
		for _, d := range destinationIDs {
			if _, err := s.store.Destination(ctx, tenant, d); err != nil {
				return "", "", err
			}
		}
	default:
		return "", "", rathaus.Errorf(rathaus.EINVALID, "client: role must be sender or subscriber, is %q", role)
	}
	id, secret = uuid.NewString(), randomToken()
	h := sha256.Sum256([]byte(secret))
	c := &APIClient{Tenant: tenant, ID: id, SecretHash: h[:], Role: role, DestinationIDs: destinationIDs}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return "", "", err
	}
	return id, secret, nil
}

func allowedScopes(role string) []string {
	if role == RoleSender {
		return []string{ScopeSendSubmissions}
	}
	return []string{ScopeSubscribeDestinations, ScopeManageDestinations}
}

// oauthError answers a token request error as problem+json that also
// carries the RFC 6749 members error and error_description.
func oauthError(w http.ResponseWriter, status int, code, desc string) error {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(map[string]any{
		"type": APIProblemPrefix + "oauth-" + code, "title": desc, "status": status,
		"error": code, "error_description": desc,
	})
}

func (s *DeliveryService) token(w http.ResponseWriter, r *http.Request) error {
	if _, _, basic := r.BasicAuth(); basic {
		return oauthError(w, http.StatusUnauthorized, "invalid_client", "use client_secret_post: send client_id and client_secret in the form body")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return oauthError(w, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		return oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	c, err := s.store.ClientByID(r.Context(), id)
	h := sha256.Sum256([]byte(secret))
	if err != nil || id == "" || subtle.ConstantTimeCompare(h[:], c.SecretHash) != 1 {
		if err != nil && rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
			return err
		}
		return oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
	}
	allowed := allowedScopes(c.Role)
	scopes := allowed
	if sc := strings.Fields(r.PostForm.Get("scope")); len(sc) > 0 {
		for _, x := range sc {
			if !slices.Contains(allowed, x) {
				return oauthError(w, http.StatusBadRequest, "invalid_scope", "scope "+x+" is not allowed for a "+c.Role)
			}
		}
		scopes = sc
	}
	tok := randomToken()
	now := s.cfg.Now()
	s.mu.Lock()
	for k, p := range s.tokens {
		if now.After(p.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[sha256.Sum256([]byte(tok))] = &principal{client: c, scopes: scopes, expires: now.Add(s.cfg.TokenTTL)}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer",
		"expires_in": int(s.cfg.TokenTTL / time.Second), "scope": strings.Join(scopes, " "),
	})
}

// auth returns the caller of a bearer-token request; with scope set, the
// token must carry it.
func (s *DeliveryService) auth(r *http.Request, scope string) (*principal, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "bearer token required")
	}
	s.mu.Lock()
	p := s.tokens[sha256.Sum256([]byte(tok))]
	s.mu.Unlock()
	if p == nil {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "unknown access token")
	}
	if s.cfg.Now().After(p.expires) {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "access token expired")
	}
	if scope != "" && !p.has(scope) {
		return nil, rathaus.Errorf(rathaus.EFORBIDDEN, "access token lacks scope %s", scope)
	}
	return p, nil
}

func (s *DeliveryService) jwks(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "max-age=300")
	return writeJSON(w, http.StatusOK, s.JWKS())
}

type destinationDoc struct {
	DestinationID    string          `json:"destinationId"`
	Status           string          `json:"status"`
	EncryptionKid    string          `json:"encryptionKid"`
	PublicServices   []PublicService `json:"publicServices"`
	MetadataVersions []string        `json:"metadataVersions"`
}

func (s *DeliveryService) getDestination(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, "")
	if err != nil {
		return err
	}
	d, err := s.store.Destination(r.Context(), p.client.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, destinationDoc{d.ID, d.Status, d.EncryptionKid, d.Services, d.MetadataVersions})
}

func (s *DeliveryService) getKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, "")
	if err != nil {
		return err
	}
	d, err := s.store.Destination(r.Context(), p.client.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	k := d.Key(r.PathValue("kid"))
	if k == nil {
		return rathaus.Errorf(rathaus.ENOTFOUND, "key %s not found", r.PathValue("kid"))
	}
	return writeJSON(w, http.StatusOK, k)
}

func paging(r *http.Request) (offset, limit int, err error) {
	offset, limit = 0, 100
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, rathaus.Errorf(rathaus.EINVALID, "offset must be a number ≥ 0")
		}
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, rathaus.Errorf(rathaus.EINVALID, "limit must be a number from 1 to 500")
		}
	}
	return offset, limit, nil
}

func (s *DeliveryService) listSubmissions(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, ScopeSubscribeDestinations)
	if err != nil {
		return err
	}
	dest := r.PathValue("id")
	if dest == "" {
		dest = r.URL.Query().Get("destinationId")
	}
	if dest == "" {
		return rathaus.Errorf(rathaus.EINVALID, "destinationId is required")
	}
	if !p.connected(dest) {
		return rathaus.Errorf(rathaus.EFORBIDDEN, "client is not connected to destination %s", dest)
	}
	offset, limit, err := paging(r)
	if err != nil {
		return err
	}
	subs, total, err := s.store.ListSubmissions(r.Context(), p.client.Tenant, dest, []string{StateSubmitted, StateForwarded}, offset, limit)
	if err != nil {
		return err
	}
	list := make([]SubmissionID, 0, len(subs))
	for _, x := range subs {
		list = append(list, SubmissionID{x.DestinationID, x.ID, x.CaseID})
	}
	return writeJSON(w, http.StatusOK, SubmissionList{Offset: offset, Count: len(list), TotalCount: total, Submissions: list})
}

// SubmissionList is one page of submissions waiting for pickup.
type SubmissionList struct {
	Offset      int            `json:"offset"`
	Count       int            `json:"count"`
	TotalCount  int            `json:"totalCount"`
	Submissions []SubmissionID `json:"submissions"`
}

type announceRequest struct {
	DestinationID        string          `json:"destinationId"`
	AnnouncedAttachments []string        `json:"announcedAttachments"`
	PublicService        *PublicService  `json:"publicService"`
	ServiceType          *PublicService  `json:"serviceType"` // v1 name
	Region               string          `json:"region,omitempty"`
	Callback             *CallbackConfig `json:"callback,omitempty"`
}

func decodeJSON(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return &statusError{status: http.StatusUnsupportedMediaType, name: "unsupported-media-type", msg: "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &statusError{status: http.StatusRequestEntityTooLarge, name: "payload-too-large", msg: "request body too large"}
		}
		return rathaus.Errorf(rathaus.EINVALID, "body is not valid JSON: %v", err)
	}
	return nil
}

func (s *DeliveryService) announce(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, ScopeSendSubmissions)
	if err != nil {
		return err
	}
	var req announceRequest
	if err := decodeJSON(w, r, 1<<20, &req); err != nil {
		return err
	}
	svc := req.PublicService
	if svc == nil {
		svc = req.ServiceType
	}
	if req.DestinationID == "" || svc == nil || svc.Identifier == "" {
		return rathaus.Errorf(rathaus.EINVALID, "destinationId and publicService.identifier are required")
	}
	seen := map[string]bool{}
	for i, id := range req.AnnouncedAttachments {
		if uuid.Validate(id) != nil || len(id) != 36 {
			return rathaus.Errorf(rathaus.EINVALID, "announcedAttachments[%d] must be a UUID, is %q", i, id)
		}
		if seen[id] {
			return rathaus.Errorf(rathaus.EINVALID, "announcedAttachments[%d]: duplicate %s", i, id)
		}
		seen[id] = true
	}
	if err := s.checkCallback(req.Callback); err != nil {
		return err
	}
	d, err := s.store.Destination(r.Context(), p.client.Tenant, req.DestinationID)
	if err != nil {
		return err
	}
	if d.Status != "active" {
		return unprocessable("destination-inactive", "destination %s is not active", d.ID)
	}
	i := slices.IndexFunc(d.Services, func(x PublicService) bool { return x.Identifier == svc.Identifier })
	if i < 0 {
		return unprocessable("service-not-offered", "destination %s does not offer service %s", d.ID, svc.Identifier)
	}
	now := s.cfg.Now().UTC()
	sub := &Submission{
		Tenant: p.client.Tenant, ID: uuid.NewString(), CaseID: uuid.NewString(), DestinationID: d.ID,
		SenderClientID: p.client.ID, PublicService: PublicService{Identifier: svc.Identifier, Name: svc.Name},
		Region: req.Region, AnnouncedAttachments: req.AnnouncedAttachments, State: StateIncomplete,
		Callback: req.Callback, CreatedAt: now,
	}
	if sub.AnnouncedAttachments == nil {
		sub.AnnouncedAttachments = []string{}
	}
	if err := s.store.CreateSubmission(r.Context(), sub); err != nil {
		return err
	}
	if err := s.appendServiceEvent(r.Context(), sub, EventCreateSubmission, EventPayload{}); err != nil {
		return err
	}
	w.Header().Set("Location", "/v2/submissions/"+sub.ID)
	return writeJSON(w, http.StatusCreated, SubmissionID{d.ID, sub.ID, sub.CaseID})
}

func (s *DeliveryService) appendServiceEvent(ctx context.Context, sub *Submission, event string, payload EventPayload) error {
	set, err := s.serviceEvent(sub, event, payload)
	if err != nil {
		return err
	}
	return s.store.AppendEvent(ctx, sub.Tenant, sub.CaseID, set)
}

// updateWithEvent stores sub and appends the service's event to its case
// in one step: readers see the new state only together with its event.
func (s *DeliveryService) updateWithEvent(ctx context.Context, sub *Submission, event string, payload EventPayload) error {
	set, err := s.serviceEvent(sub, event, payload)
	if err != nil {
		return err
	}
	return s.store.UpdateSubmissionEvent(ctx, sub, set)
}

// serviceEvent signs an event of the service about sub.
func (s *DeliveryService) serviceEvent(sub *Submission, event string, payload EventPayload) (string, error) {
	return SignSET(SET{
		Schema: SETPayloadSchema, ID: uuid.NewString(), Issuer: s.cfg.BaseURL, IssuedAt: s.cfg.Now(),
		Subject: "submission:" + sub.ID, Txn: "case:" + sub.CaseID, Event: event, Payload: payload,
	}, s.cfg.SigningKey)
}

// ownSubmission loads a submission the sender p created.
func (s *DeliveryService) ownSubmission(ctx context.Context, p *principal, id string) (*Submission, error) {
	sub, err := s.store.Submission(ctx, p.client.Tenant, id)
	if err != nil {
		return nil, err
	}
	if sub.SenderClientID != p.client.ID {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", id)
	}
	return sub, nil
}

// checkJWE parses a compact JWE header of an uploaded part: algorithms of
// the profile, a kid of the destination, a cty.
func checkJWE(part, token string, d *Destination) error {
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{KeyAlgorithm}, []jose.ContentEncryption{ContentEncryption})
	if err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "%s: not a compact JWE with RSA-OAEP-256/A256GCM: %v", part, err)
	}
	if k := d.Key(obj.Header.KeyID); k == nil || !slices.Contains(k.KeyOps, "wrapKey") {
		return unprocessable("unknown-key", "%s: encrypted for key %q, which is not an encryption key of the destination", part, obj.Header.KeyID)
	}
	if cty, _ := obj.Header.ExtraHeaders[jose.HeaderContentType].(string); cty == "" {
		return unprocessable("missing-content-type", "%s: JWE header has no cty", part)
	}
	if _, zip := obj.Header.ExtraHeaders[jose.HeaderKey("zip")]; zip {
		return unprocessable("compression-not-allowed", "%s: JWE compression (zip) is not allowed", part)
	}
	return nil
}

func (s *DeliveryService) uploadAttachment(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, ScopeSendSubmissions)
	if err != nil {
		return err
	}
	defer s.lock(r.PathValue("id"))()
	sub, err := s.ownSubmission(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	aid := r.PathValue("aid")
	if !slices.Contains(sub.AnnouncedAttachments, aid) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "attachment %s was not announced for submission %s", aid, sub.ID)
	}
	if sub.State != StateIncomplete {
		return rathaus.Errorf(rathaus.ECONFLICT, "submission %s is %s, attachments can only be added while incomplete", sub.ID, sub.State)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != ContentTypeJOSE {
		return &statusError{status: http.StatusUnsupportedMediaType, name: "unsupported-media-type", msg: "Content-Type must be application/jose"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return &statusError{status: http.StatusRequestEntityTooLarge, name: "payload-too-large", msg: fmt.Sprintf("attachment larger than %d bytes", s.cfg.MaxBodyBytes)}
	}
	d, err := s.store.Destination(r.Context(), sub.Tenant, sub.DestinationID)
	if err != nil {
		return err
	}
	token := string(bytes.TrimSpace(body))
	if err := checkJWE("attachment "+aid, token, d); err != nil {
		return err
	}
	if err := s.store.PutAttachment(r.Context(), sub.Tenant, sub.ID, aid, token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type submitRequest struct {
	EncryptedMetadata string `json:"encryptedMetadata"`
	EncryptedData     string `json:"encryptedData"`
}

func (s *DeliveryService) submit(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, ScopeSendSubmissions)
	if err != nil {
		return err
	}
	defer s.lock(r.PathValue("id"))()
	sub, err := s.ownSubmission(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if sub.State != StateIncomplete {
		return rathaus.Errorf(rathaus.ECONFLICT, "submission %s is already %s", sub.ID, sub.State)
	}
	var req submitRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.EncryptedMetadata == "" || req.EncryptedData == "" {
		return rathaus.Errorf(rathaus.EINVALID, "encryptedMetadata and encryptedData are required")
	}
	d, err := s.store.Destination(r.Context(), sub.Tenant, sub.DestinationID)
	if err != nil {
		return err
	}
	if err := checkJWE("encryptedMetadata", req.EncryptedMetadata, d); err != nil {
		return err
	}
	if err := checkJWE("encryptedData", req.EncryptedData, d); err != nil {
		return err
	}
	have, err := s.store.AttachmentIDs(r.Context(), sub.Tenant, sub.ID)
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range sub.AnnouncedAttachments {
		if !slices.Contains(have, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return unprocessable("missing-attachments", "announced attachments not uploaded: %s", strings.Join(missing, ", "))
	}
	sub.EncryptedMetadata, sub.EncryptedData = req.EncryptedMetadata, req.EncryptedData
	sub.State, sub.SubmittedAt = StateSubmitted, s.cfg.Now().UTC()
	tags, err := s.tags(r.Context(), sub)
	if err != nil {
		return err
	}
	// The submission becomes visible to the subscriber together with its
	// submit-submission event (else a subscriber polling in between finds
	// it without the event and fails to verify it).
	if err := s.updateWithEvent(r.Context(), sub, EventSubmitSubmission, EventPayload{AuthenticationTags: &tags}); err != nil {
		return err
	}
	if d.Callback != nil {
		s.sendCallback(*d.Callback, CallbackNewSubmissions, sub)
	}
	return writeJSON(w, http.StatusOK, SubmissionID{d.ID, sub.ID, sub.CaseID})
}

// tags computes the authentication tags of a submission's stored JWEs.
func (s *DeliveryService) tags(ctx context.Context, sub *Submission) (AuthenticationTags, error) {
	var t AuthenticationTags
	var err error
	if t.Metadata, err = AuthTag(sub.EncryptedMetadata); err != nil {
		return t, err
	}
	if t.Data, err = AuthTag(sub.EncryptedData); err != nil {
		return t, err
	}
	if len(sub.AnnouncedAttachments) > 0 {
		t.Attachments = map[string]string{}
	}
	for _, id := range sub.AnnouncedAttachments {
		jwe, err := s.store.Attachment(ctx, sub.Tenant, sub.ID, id)
		if err != nil {
			return t, err
		}
		if t.Attachments[id], err = AuthTag(jwe); err != nil {
			return t, err
		}
	}
	return t, nil
}

// subscribedSubmission loads a submission of a destination p is
// connected to.
func (s *DeliveryService) subscribedSubmission(ctx context.Context, p *principal, id string) (*Submission, error) {
	sub, err := s.store.Submission(ctx, p.client.Tenant, id)
	if err != nil {
		return nil, err
	}
	if !p.connected(sub.DestinationID) {
		return nil, rathaus.Errorf(rathaus.EFORBIDDEN, "client is not connected to destination %s", sub.DestinationID)
	}
	if sub.State != StateSubmitted && sub.State != StateForwarded {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "submission %s is not waiting for pickup (state %s)", sub.ID, sub.State)
	}
	return sub, nil
}

// SubmissionDoc is the subscriber's view of a submission.
type SubmissionDoc struct {
	DestinationID     string          `json:"destinationId"`
	SubmissionID      string          `json:"submissionId"`
	CaseID            string          `json:"caseId"`
	PublicService     PublicService   `json:"publicService"`
	ServiceType       PublicService   `json:"serviceType"`
	Region            string          `json:"region,omitempty"`
	Attachments       []string        `json:"attachments"`
	EncryptedMetadata string          `json:"encryptedMetadata"`
	EncryptedData     string          `json:"encryptedData"`
	Callback          *CallbackConfig `json:"callback,omitempty"`
}

func (s *DeliveryService) getSubmission(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, ScopeSubscribeDestinations)
	if err != nil {
		return err
	}
	sub, err := s.subscribedSubmission(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SubmissionDoc{
		DestinationID: sub.DestinationID, SubmissionID: sub.ID, CaseID: sub.CaseID,
		PublicService: sub.PublicService, ServiceType: sub.PublicService, Region: sub.Region,
		Attachments: sub.AnnouncedAttachments, EncryptedMetadata: sub.EncryptedMetadata, EncryptedData: sub.EncryptedData,
	})
}

func (s *DeliveryService) getAttachment(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth(r, ScopeSubscribeDestinations)
	if err != nil {
		return err
	}
	sub, err := s.subscribedSubmission(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	jwe, err := s.store.Attachment(r.Context(), sub.Tenant, sub.ID, r.PathValue("aid"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ContentTypeJOSE)
	_, err = io.WriteString(w, jwe)
	return err
}

// EventLog is one page of the event log of a case.
type EventLog struct {
	Offset     int      `json:"offset"`
	Count      int      `json:"count"`
	TotalCount int      `json:"totalCount"`
	EventLog   []string `json:"eventLog"`
}

func (s *DeliveryService) caseSubmission(r *http.Request) (*principal, *Submission, error) {
	p, err := s.auth(r, "")
	if err != nil {
		return nil, nil, err
	}
	sub, err := s.store.SubmissionByCase(r.Context(), p.client.Tenant, r.PathValue("caseId"))
	if err != nil {
		return nil, nil, err
	}
	switch {
	case p.client.Role == RoleSender && p.has(ScopeSendSubmissions) && sub.SenderClientID == p.client.ID:
	case p.has(ScopeSubscribeDestinations) && p.connected(sub.DestinationID):
	default:
		return nil, nil, rathaus.Errorf(rathaus.ENOTFOUND, "case %s not found", r.PathValue("caseId"))
	}
	return p, sub, nil
}

func (s *DeliveryService) getEvents(w http.ResponseWriter, r *http.Request) error {
	_, sub, err := s.caseSubmission(r)
	if err != nil {
		return err
	}
	offset, limit, err := paging(r)
	if err != nil {
		return err
	}
	sets, total, err := s.store.Events(r.Context(), sub.Tenant, sub.CaseID, offset, limit)
	if err != nil {
		return err
	}
	if sets == nil {
		sets = []string{}
	}
	return writeJSON(w, http.StatusOK, EventLog{Offset: offset, Count: len(sets), TotalCount: total, EventLog: sets})
}

func (s *DeliveryService) postEvent(w http.ResponseWriter, r *http.Request) error {
	p, sub, err := s.caseSubmission(r)
	if err != nil {
		return err
	}
	if !p.connected(sub.DestinationID) || !p.has(ScopeSubscribeDestinations) {
		return rathaus.Errorf(rathaus.EFORBIDDEN, "only the destination's subscriber may post events")
	}
	defer s.lock(sub.ID)()
	if sub, err = s.store.Submission(r.Context(), sub.Tenant, sub.ID); err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != ContentTypeJOSE {
		return &statusError{status: http.StatusUnsupportedMediaType, name: "unsupported-media-type", msg: "Content-Type must be application/jose"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return &statusError{status: http.StatusRequestEntityTooLarge, name: "payload-too-large", msg: "event too large"}
	}
	d, err := s.store.Destination(r.Context(), sub.Tenant, sub.DestinationID)
	if err != nil {
		return err
	}
	var keys jose.JSONWebKeySet
	for _, k := range d.Keys {
		if slices.Contains(k.KeyOps, "verify") {
			keys.Keys = append(keys.Keys, k.JSONWebKey)
		}
	}
	token := string(bytes.TrimSpace(body))
	set, err := VerifySET(token, &keys, VerifyOptions{
		Issuer: d.ID, Subject: "submission:" + sub.ID, Txn: "case:" + sub.CaseID,
		MaxAge: time.Hour, Now: s.cfg.Now(),
	})
	if err != nil {
		return unprocessable("invalid-event", "%s", rathaus.ErrorMessage(err))
	}
	if sub.State != StateSubmitted && sub.State != StateForwarded {
		return rathaus.Errorf(rathaus.ECONFLICT, "submission %s is %s and takes no more events", sub.ID, sub.State)
	}
	switch set.Event {
	case EventAcceptSubmission:
		tags, err := s.tags(r.Context(), sub)
		if err != nil {
			return err
		}
		if err := set.CheckAuthenticationTags(tags); err != nil {
			return unprocessable("incorrect-authentication-tags", "%s", rathaus.ErrorMessage(err))
		}
		sub.State = StateAccepted
	case EventRejectSubmission:
		if len(set.Payload.Problems) == 0 {
			return unprocessable("invalid-event", "reject-submission needs at least one problem")
		}
		sub.State = StateRejected
	default:
		return unprocessable("invalid-event", "subscribers may post accept-submission or reject-submission, not %s", set.Event)
	}
	if err := s.store.AppendEvent(r.Context(), sub.Tenant, sub.CaseID, token); err != nil {
		return err
	}
	if err := s.store.UpdateSubmission(r.Context(), sub); err != nil {
		return err
	}
	// The sender keeps the content until accepted; the delivery service
	// needs no ciphertext once the case is decided.
	if err := s.store.DeleteContent(r.Context(), sub.Tenant, sub.ID); err != nil {
		return err
	}
	if sub.Callback != nil {
		s.sendCallback(*sub.Callback, CallbackNewEvents, sub)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sendCallback posts a signed callback in the background. A failed
// callback never fails the delivery; it is logged and polling remains.
func (s *DeliveryService) sendCallback(cb CallbackConfig, typ string, sub *Submission) {
	body, _ := json.Marshal(CallbackBody{Type: typ, SubmissionIDs: []string{sub.ID},
		Submissions: []SubmissionID{{sub.DestinationID, sub.ID, sub.CaseID}}})
	ts := s.cfg.Now().Unix()
	mac := SignCallback([]byte(cb.Secret), ts, body)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		req, err := http.NewRequest(http.MethodPost, cb.URL, bytes.NewReader(body))
		if err != nil {
			s.cfg.Logf("fitconnect: callback %s: %v", cb.URL, err)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderCallbackAuthentication, mac)
		req.Header.Set(HeaderCallbackTimestamp, strconv.FormatInt(ts, 10))
		res, err := s.cfg.HTTPClient.Do(req)
		if err != nil {
			s.cfg.Logf("fitconnect: callback %s: %v", cb.URL, err)
			return
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			s.cfg.Logf("fitconnect: callback %s: HTTP %d", cb.URL, res.StatusCode)
		}
	}()
}

// ExpireReport lists what ExpireDeadlines did.
type ExpireReport struct {
	Deleted  []string // incomplete submissions deleted after 1 day
	Rejected []string // submitted submissions rejected after 14 days
}

// ExpireDeadlines applies the deadlines at time now across all tenants:
// incomplete submissions older than one day are deleted (content dropped,
// delete-submission event), submitted ones not decided within 14 days are
// rejected by the delivery service (reject-submission event, callbacks to
// sender and destination). Run it periodically.
func (s *DeliveryService) ExpireDeadlines(ctx context.Context, now time.Time) (ExpireReport, error) {
	var rep ExpireReport
	stale, err := s.store.DueSubmissions(ctx, StateIncomplete, now.Add(-IncompleteDeadline))
	if err != nil {
		return rep, err
	}
	for _, due := range stale {
		ok, err := s.expireIncomplete(ctx, due)
		if err != nil {
			return rep, err
		}
		if ok {
			rep.Deleted = append(rep.Deleted, due.ID)
		}
	}
	overdue, err := s.store.DueSubmissions(ctx, StateSubmitted, now.Add(-SubmittedDeadline))
	if err != nil {
		return rep, err
	}
	for _, due := range overdue {
		ok, err := s.rejectOverdue(ctx, due)
		if err != nil {
			return rep, err
		}
		if ok {
			rep.Rejected = append(rep.Rejected, due.ID)
		}
	}
	return rep, nil
}

// expireIncomplete deletes one incomplete submission if it still is.
func (s *DeliveryService) expireIncomplete(ctx context.Context, due *Submission) (bool, error) {
	defer s.lock(due.ID)()
	sub, err := s.store.Submission(ctx, due.Tenant, due.ID)
	if err != nil || sub.State != StateIncomplete {
		return false, err
	}
	if err := s.store.DeleteContent(ctx, sub.Tenant, sub.ID); err != nil {
		return false, err
	}
	sub.State = StateDeleted
	if err := s.updateWithEvent(ctx, sub, EventDeleteSubmission, EventPayload{}); err != nil {
		return false, err
	}
	if sub.Callback != nil {
		s.sendCallback(*sub.Callback, CallbackNewEvents, sub)
	}
	return true, nil
}

// rejectOverdue rejects one submitted submission if it still is submitted.
func (s *DeliveryService) rejectOverdue(ctx context.Context, due *Submission) (bool, error) {
	defer s.lock(due.ID)()
	sub, err := s.store.Submission(ctx, due.Tenant, due.ID)
	if err != nil || sub.State != StateSubmitted {
		return false, err
	}
	sub.State = StateRejected
	if err := s.store.UpdateSubmission(ctx, sub); err != nil {
		return false, err
	}
	if err := s.store.DeleteContent(ctx, sub.Tenant, sub.ID); err != nil {
		return false, err
	}
	problem := Problem{Type: ProblemNotPickedUp, Instance: "submission",
		Title:  "Einreichung nicht abgeholt / Submission not picked up",
		Detail: "Die Einreichung wurde nicht innerhalb von 14 Tagen angenommen. / The submission was not accepted within 14 days."}
	if err := s.appendServiceEvent(ctx, sub, EventRejectSubmission, EventPayload{Problems: []Problem{problem}}); err != nil {
		return false, err
	}
	if sub.Callback != nil {
		s.sendCallback(*sub.Callback, CallbackNewEvents, sub)
	}
	if d, err := s.store.Destination(ctx, sub.Tenant, sub.DestinationID); err == nil && d.Callback != nil {
		s.sendCallback(*d.Callback, CallbackNewEvents, sub)
	}
	return true, nil
}
