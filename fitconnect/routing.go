// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
)

// Route is one result of the Routing API 2.0.0 (GET /routes): a
// destination and its signed addressing information. Only the fields a
// sender needs are decoded; Raw keeps the whole object (names, addresses,
// contact data) for display.
type Route struct {
	DestinationID        string          `json:"destinationId"`
	DestinationSignature string          `json:"destinationSignature"`
	DestinationName      string          `json:"destinationName,omitempty"`
	Raw                  json.RawMessage `json:"-"`
}

// RouteList is the answer of GET /routes.
type RouteList struct {
	Count      int     `json:"count"`
	Offset     int     `json:"offset"`
	TotalCount int     `json:"totalCount"`
	Routes     []Route `json:"routes"`
}

// DestinationClaims is the payload of a destinationSignature, issued by
// the Self-Service-Portal.
type DestinationClaims struct {
	SubmissionHost string          `json:"submissionHost"`
	Issuer         string          `json:"iss"`
	Services       []SignedService `json:"services"`
	DestinationID  string          `json:"destinationId"`
	IssuedAt       int64           `json:"iat"`
	JTI            string          `json:"jti"`
}

// SignedService lists the areas and services a destination is signed for.
type SignedService struct {
	GebietIDs   []string `json:"gebietIDs"`
	LeistungIDs []string `json:"leistungIDs"`
}

// Router is a client of the FIT-Connect Routing API. Set UserAgent: the
// Routing API refuses requests without one.
type Router struct {
	BaseURL    string // e.g. https://routing-api-testing.fit-connect.fitko.dev/v1
	HTTPClient *http.Client
	UserAgent  string
	// SignatureKeys verify destinationSignature (the SSP's JWKS). Routes
	// whose signature does not verify are refused.
	SignatureKeys *jose.JSONWebKeySet
}

var (
	reRoutingLeika = regexp.MustCompile(`^99\d{12}$`)
	reRoutingARS   = regexp.MustCompile(`^(\d{2}|\d{3}|\d{5}|\d{9}|\d{12})$`)
)

// Routes finds the destinations for a LeiKa key (14 digits, starting 99)
// in the area with the given ARS and verifies each destinationSignature:
// PS512, typ jwt, a key of r.SignatureKeys, the route's destinationId, and
// the LeiKa key among the signed services. A 429 answer is EUNAVAILABLE
// naming the RateLimit-Reset.
func (r *Router) Routes(ctx context.Context, leikaKey, ars string) (*RouteList, error) {
	if !reRoutingLeika.MatchString(leikaKey) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "routing: leikaKey must be 99 followed by 12 digits, is %q", leikaKey)
	}
	if !reRoutingARS.MatchString(ars) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "routing: ars must have 2, 3, 5, 9 or 12 digits, is %q", ars)
	}
	u := strings.TrimRight(r.BaseURL, "/") + "/routes?" + url.Values{"leikaKey": {leikaKey}, "ars": {ars}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "routing URL")
	}
	ua := r.UserAgent
	if ua == "" {
		ua = "rathaus-fitconnect/1"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "application/json")
	hc := r.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "routing API unreachable")
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if res.StatusCode == http.StatusTooManyRequests {
		return nil, rathaus.Errorf(rathaus.EUNAVAILABLE, "routing API rate limit reached; retry after %s s", res.Header.Get("RateLimit-Reset"))
	}
	if res.StatusCode != http.StatusOK {
		return nil, apiError("routing GET /routes", res, body)
	}
	var raw struct {
		RouteList
		Routes []json.RawMessage `json:"routes"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "routing: answer is not a route list: %v", err)
	}
	list := raw.RouteList
	list.Routes = nil
	for i, rr := range raw.Routes {
		var rt Route
		if err := json.Unmarshal(rr, &rt); err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "routing: routes[%d]: %v", i, err)
		}
		rt.Raw = rr
		if _, err := VerifyDestinationSignature(rt.DestinationSignature, r.SignatureKeys, rt.DestinationID, LeikaURNPrefix+leikaKey); err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "routing: routes[%d] (destination %s): %s", i, rt.DestinationID, rathaus.ErrorMessage(err))
		}
		list.Routes = append(list.Routes, rt)
	}
	return &list, nil
}

// VerifyDestinationSignature verifies a destinationSignature JWS from the
// Routing API against keys: PS512 only, typ jwt, kid of a key in keys (RSA
// ≥ 4096), destinationId equal to destinationID and, when service is not
// empty, service (a LeiKa URN) among the signed leistungIDs.
func VerifyDestinationSignature(token string, keys *jose.JSONWebKeySet, destinationID, service string) (*DestinationClaims, error) {
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{SignatureAlgorithm})
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: %v", err)
	}
	if len(obj.Signatures) != 1 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: want exactly one signature")
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "jwt") {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: typ must be jwt, is %q", typ)
	}
	if keys == nil || h.KeyID == "" || len(keys.Key(h.KeyID)) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: unknown signing key %q", h.KeyID)
	}
	k := keys.Key(h.KeyID)[0]
	pub, ok := rsaPublic(&k)
	if !ok || pub.N.BitLen() < MinRSABits {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: key %s must be RSA with at least %d bits", h.KeyID, MinRSABits)
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: bad signature (key %s)", h.KeyID)
	}
	var c DestinationClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: claims: %v", err)
	}
	if c.DestinationID != destinationID {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: signed for destination %q, not %q", c.DestinationID, destinationID)
	}
	if service != "" && !slices.ContainsFunc(c.Services, func(s SignedService) bool {
		return slices.Contains(s.LeistungIDs, service)
	}) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destinationSignature: service %s is not signed for this destination", service)
	}
	return &c, nil
}
