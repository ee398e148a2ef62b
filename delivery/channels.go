// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"bytes"
	"encoding/json"
	"net/http"

	"rathaus"
)

// channel returns the channel of a route, built once per route
// configuration (the FIT-Connect sender keeps its token and checked keys).
func (s *Service) channel(r *Route) (Channel, error) {
	key := r.ID + "\x00" + r.Channel + "\x00" + string(r.Config)
	s.chMu.Lock()
	ch, ok := s.channels[r.ID]
	s.chMu.Unlock()
	if ok && ch.key == key {
		return ch.ch, nil
	}
	c, err := s.buildChannel(r)
	if err != nil {
		return nil, err
	}
	s.chMu.Lock()
	if s.channels == nil {
		s.channels = map[string]cachedChannel{}
	}
	s.channels[r.ID] = cachedChannel{key: key, ch: c}
	s.chMu.Unlock()
	return c, nil
}

type cachedChannel struct {
	key string
	ch  Channel
}

// buildChannel builds the channel of a route from its configuration.
func (s *Service) buildChannel(r *Route) (Channel, error) {
	if f := s.opts.Channels[r.Channel]; f != nil {
		return f(r)
	}
	switch r.Channel {
	case ChannelWebhook:
		var c WebhookConfig
		if err := decodeConfig(r, &c); err != nil {
			return nil, err
		}
		return NewWebhook(c, s.opts.HTTPClient)
	case ChannelEmail:
		var c EmailConfig
		if err := decodeConfig(r, &c); err != nil {
			return nil, err
		}
		return NewEmail(c)
	case ChannelExport:
		var c ExportConfig
		if err := decodeConfig(r, &c); err != nil {
			return nil, err
		}
		return NewExport(c)
	case ChannelFITConnect:
		var c FITConnectConfig
		if err := decodeConfig(r, &c); err != nil {
			return nil, err
		}
		return NewFITConnect(c, s.opts.FITConnectRoots, s.opts.HTTPClient)
	}
	return nil, rathaus.Errorf(rathaus.EINVALID, "route %s: field channel: unknown channel %q (fitconnect, webhook, email, export)", r.ID, r.Channel)
}

// decodeConfig reads a route's JSON configuration strictly.
func decodeConfig(r *Route, v any) error {
	dec := json.NewDecoder(bytes.NewReader(r.Config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "route %s: field config: %v", r.ID, err)
	}
	return nil
}

// httpError turns a non-2xx answer into an error: permanent for client
// errors that retrying cannot fix, retryable otherwise.
func httpError(what string, resp *http.Response, body []byte) error {
	if len(body) > 300 {
		body = body[:300]
	}
	err := rathaus.Errorf(rathaus.EUNAVAILABLE, "%s: HTTP %d %s", what, resp.StatusCode, bytes.TrimSpace(body))
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return err
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return Permanent(rathaus.Errorf(rathaus.EINVALID, "%s", err.Message))
	}
	return err
}
