// SPDX-License-Identifier: EUPL-1.2

package demoidp

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"rathaus/identity"
)

// Lifetimes of the provider's short-lived objects.
const (
	authRequestTTL = 10 * time.Minute
	accessTokenTTL = 5 * time.Minute
	idTokenTTL     = 5 * time.Minute
)

var errNotFound = errors.New("demoidp: not found")

// storage is the in-memory op.Storage of the demo provider.
type storage struct {
	mu       sync.Mutex
	now      func() time.Time
	users    map[string]*User // by Subject
	clients  map[string]*client
	requests map[string]*authRequest // by id
	codes    map[string]string       // code → request id
	tokens   map[string]*accessToken // by id
	key      *rsa.PrivateKey
	keyID    string
}

// authRequest implements op.AuthRequest.
type authRequest struct {
	id            string
	created       time.Time
	clientID      string
	redirectURI   string
	scopes        []string
	state         string
	nonce         string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	minLoA        identity.LoA // lowest level the RP accepts (from acr_values)

	// set by a successful login
	subject  string
	acr      string
	authTime time.Time
	done     bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return a.acr }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

type accessToken struct {
	id       string
	clientID string
	subject  string
	scopes   []string
	expires  time.Time
}

// client implements op.Client: a confidential web client using the
// authorization code flow.
type client struct {
	id           string
	secret       string
	redirectURIs []string
	loginURL     string
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType         { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string            { return c.loginURL + "?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return idTokenTTL }
func (c *client) DevMode() bool                        { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(supportedScopes, scope) }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

var supportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeAddress}

func (s *storage) expire() {
	now := s.now()
	for id, r := range s.requests {
		if now.Sub(r.created) > authRequestTTL {
			delete(s.requests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.requests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// CreateAuthRequest stores a new authorization request. PKCE with S256 is
// required, and only the code flow is offered.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_type=code is supported")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	a := &authRequest{
		id:           randomID(),
		created:      s.now(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		scopes:       slices.Clone(req.Scopes),
		state:        req.State,
		nonce:        req.Nonce,
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{
			Challenge: req.CodeChallenge,
			Method:    req.CodeChallengeMethod,
		},
	}
	for _, v := range req.ACRValues {
		if l := identity.ParseLoA(v); l != identity.LoANone && (a.minLoA == identity.LoANone || l < a.minLoA) {
			a.minLoA = l
		}
	}
	s.requests[a.id] = a
	cp := *a
	return &cp, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	a, ok := s.requests[id]
	if !ok {
		return nil, errNotFound
	}
	cp := *a // a copy: login may change the stored request concurrently
	return &cp, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	a, ok := s.requests[s.codes[code]]
	if !ok {
		return nil, errNotFound
	}
	cp := *a
	return &cp, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return errNotFound
	}
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest removes the request and its code: a code is single use.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// errLoATooLow is returned by login when the account cannot reach the
// level of assurance the relying party asked for.
var errLoATooLow = errors.New("demoidp: level of assurance too low")

// login marks request id as authenticated by user; it fails if the request
// is unknown, expired or already done, or if the user's LoA is below what
// the relying party asked for in acr_values.
func (s *storage) login(id string, u *User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	a, ok := s.requests[id]
	if !ok || a.done {
		return errNotFound
	}
	if u.LoA < a.minLoA {
		return errLoATooLow
	}
	a.subject, a.acr, a.authTime, a.done = u.Subject, LoAURI(u.LoA), s.now().UTC(), true
	return nil
}

// checkPassword returns the user for subject if password matches.
func (s *storage) checkPassword(subject, password string) (*User, bool) {
	s.mu.Lock()
	u, ok := s.users[subject]
	s.mu.Unlock()
	if !ok {
		subtle.ConstantTimeCompare([]byte(password), []byte(password+"x"))
		return nil, false
	}
	return u, subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) == 1
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	var clientID string
	if a, ok := req.(*authRequest); ok {
		clientID = a.clientID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &accessToken{id: randomID(), clientID: clientID, subject: req.GetSubject(), scopes: slices.Clone(req.GetScopes()), expires: s.now().Add(accessTokenTTL)}
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("no refresh tokens")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenOrID]; ok && t.clientID == clientID {
		delete(s.tokens, tokenOrID)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{s.keyID, s.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{s.keyID, s.key}}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, errNotFound
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1 {
		return errors.New("demoidp: invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the op library; claims come from
// SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(info, req.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	valid := ok && s.now().Before(t.expires) && t.subject == subject
	s.mu.Unlock()
	if !valid {
		return errors.New("demoidp: token invalid or expired")
	}
	return s.setUserinfo(info, t.subject, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	valid := ok && s.now().Before(t.expires) && t.subject == subject && t.clientID == clientID
	s.mu.Unlock()
	if !valid {
		return errors.New("demoidp: token invalid or expired")
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(info, t.subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Active, resp.ClientID, resp.Scope = true, t.clientID, t.scopes
	return nil
}

// setUserinfo fills the BundID-like claims of subject for scopes.
func (s *storage) setUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	s.mu.Lock()
	u, ok := s.users[subject]
	s.mu.Unlock()
	if !ok {
		return errNotFound
	}
	p := u.Profile
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeOpenID:
			info.Subject = u.Subject
			if len(u.Roles) > 0 {
				info.AppendClaims("roles", slices.Clone(u.Roles))
			}
		case oidc.ScopeProfile:
			info.Name = u.Name
			info.GivenName = p.GivenName
			info.FamilyName = p.FamilyName
			info.Birthdate = p.BirthDate
			info.Locale = oidc.NewLocale(germanTag)
			if p.Nationality != "" {
				info.AppendClaims("nationality", p.Nationality)
			}
			if p.BirthPlace != "" {
				info.AppendClaims("place_of_birth", p.BirthPlace)
			}
			setAddress(info, p)
		case oidc.ScopeAddress:
			setAddress(info, p)
		case oidc.ScopeEmail:
			info.Email = p.Email
			info.EmailVerified = oidc.Bool(p.Email != "")
		case oidc.ScopePhone:
			info.PhoneNumber = p.Phone
		}
	}
	if slices.Contains(scopes, oidc.ScopeProfile) && !slices.Contains(scopes, oidc.ScopePhone) && p.Phone != "" {
		info.PhoneNumber = p.Phone // BundID sends the phone number with the profile
	}
	return nil
}

func setAddress(info *oidc.UserInfo, p identity.Profile) {
	if p.Street == "" && p.PostalCode == "" && p.City == "" && p.Country == "" {
		return
	}
	info.Address = &oidc.UserInfoAddress{StreetAddress: p.Street, PostalCode: p.PostalCode, Locality: p.City, Country: p.Country}
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("demoidp: JWT profile not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("demoidp: JWT profile not supported")
}

func (s *storage) Health(context.Context) error { return nil }
