// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"context"
	"database/sql"
	"encoding/json"

	"rathaus"
)

// IsolationFixture creates, for the web tenant-isolation test, a disabled
// webhook route in ars and a dead delivery of application id over it whose
// error contains secret. It returns the route id.
func (s *Service) IsolationFixture(ctx context.Context, ars, id, secret string) (string, error) {
	cfg, _ := json.Marshal(WebhookConfig{URL: "https://fachverfahren.invalid/hook", Secrets: []string{"isolation-fixture-secret"}})
	r := &Route{Tenant: ars, ServiceKey: AnyService, Channel: ChannelWebhook, Name: "isolation", Config: cfg}
	if err := s.PutRoute(ctx, r, "test"); err != nil {
		return "", err
	}
	now := s.now().UnixMicro()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO delivery (tenant, application_id, route_id, route_tenant, channel, service_key, status, attempts, next_at, last_error, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`), ars, id, r.ID, ars, r.Channel, AnyService, StatusDead, now, secret, now, now)
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "fixture")
		}
		return s.logTx(ctx, tx, ars, id, r.ID, 1, StatusDead, secret, s.now())
	})
	return r.ID, err
}
