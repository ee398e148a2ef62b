// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"rathaus"
	"rathaus/fitconnect"
)

// callbackVerifiers keeps one verifier per route (each remembers the
// callbacks it saw, to refuse replays).
type callbackVerifiers struct {
	mu sync.Mutex
	m  map[string]*fitconnect.CallbackVerifier
}

// FITConnectCallback takes a callback of a delivery service for the
// FIT-Connect route routeID (its URL is FITConnectConfig.CallbackURL):
// it verifies the HMAC-SHA512 with the route's callback secret (5-minute
// window, replays refused) and asks for the decision on every delivered
// submission the callback names. Unknown routes and bad signatures are
// EUNAUTHORIZED.
func (s *Service) FITConnectCallback(ctx context.Context, routeID string, h http.Header, body []byte) error {
	var tenantARS string
	err := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT tenant FROM delivery_route WHERE id = ? AND channel = ?`), routeID, ChannelFITConnect).Scan(&tenantARS)
	if err != nil {
		return rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: unknown route")
	}
	r, err := s.Route(ctx, tenantARS, routeID)
	if err != nil {
		return rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: unknown route")
	}
	var cfg FITConnectConfig
	if err := json.Unmarshal(r.Config, &cfg); err != nil || cfg.CallbackSecret == "" {
		return rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: route takes no callbacks")
	}
	s.cb.mu.Lock()
	if s.cb.m == nil {
		s.cb.m = map[string]*fitconnect.CallbackVerifier{}
	}
	v := s.cb.m[routeID]
	if v == nil || string(v.Secret) != cfg.CallbackSecret {
		v = &fitconnect.CallbackVerifier{Secret: []byte(cfg.CallbackSecret), Now: s.opts.Now}
		s.cb.m[routeID] = v
	}
	s.cb.mu.Unlock()
	cb, err := v.Verify(h, body)
	if err != nil {
		return err
	}
	ids := append([]string(nil), cb.SubmissionIDs...)
	for _, sub := range cb.Submissions {
		ids = append(ids, sub.SubmissionID)
	}
	for _, id := range ids {
		ds, err := s.query(ctx, `SELECT `+deliveryCols+` FROM delivery WHERE route_id = ? AND remote_id = ? AND status = ?`, routeID, id, StatusDelivered)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := s.FollowOne(ctx, d); err != nil {
				return err
			}
		}
	}
	return nil
}
