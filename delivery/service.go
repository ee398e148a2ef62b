// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"rathaus"
	"rathaus/audit"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/tenant"
)

// Options configure a Service.
type Options struct {
	// Source loads applications (required for sending).
	Source Source
	// Sealer seals route configurations (required).
	Sealer Sealer
	// Queue enqueues retries and fan-out jobs (required for sending).
	Queue *jobs.Queue
	// Channels overrides or adds channel constructors by channel name.
	Channels map[string]func(*Route) (Channel, error)
	// HTTPClient is used by the webhook and FIT-Connect channels; nil
	// means a client with a 30 s timeout.
	HTTPClient *http.Client
	// FITConnectRoots anchor the x5c chains of destination keys; a route
	// may add its own (FITConnectConfig.TrustRootsPEM).
	FITConnectRoots *x509.CertPool
	// MaxAttempts before a delivery is dead-lettered (default 8).
	MaxAttempts int
	// BaseBackoff is the delay after the first failure (default 10 s); it
	// doubles per attempt up to MaxBackoff (default 1 h), with jitter (the
	// delay is drawn from [d/2, d)).
	BaseBackoff, MaxBackoff time.Duration
	// Lease is how long an attempt may take before the sweep assumes it
	// was lost (default 2 min); AttemptTimeout bounds the channel call
	// (default Lease/2).
	Lease, AttemptTimeout time.Duration
	// SweepGrace is how overdue a pending delivery must be before the
	// sweep enqueues it again (its job was lost); default Lease.
	SweepGrace time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service runs deliveries over a sqlstore.DB.
type Service struct {
	db   *sqlstore.DB
	opts Options
	cb   callbackVerifiers

	chMu     sync.Mutex
	channels map[string]cachedChannel // by route id
}

// New returns a Service.
func New(db *sqlstore.DB, opts Options) (*Service, error) {
	if db == nil || opts.Sealer == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "delivery: New needs a database and a sealer")
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 10 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Hour
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.AttemptTimeout <= 0 || opts.AttemptTimeout > opts.Lease {
		opts.AttemptTimeout = opts.Lease / 2
	}
	if opts.SweepGrace <= 0 {
		opts.SweepGrace = opts.Lease
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, opts: opts}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// Register registers the handlers of JobSend and JobSweep on q. Add
// Periodic to the queue's options so the sweep runs.
func (s *Service) Register(q *jobs.Queue) error {
	if err := q.Register(JobSend, func(ctx context.Context, raw json.RawMessage) error {
		var a SendArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return rathaus.Wrap(rathaus.EINVALID, err, "delivery.send: bad args")
		}
		if a.RouteID == "" {
			return s.FanOut(ctx, a.Tenant, a.ApplicationID, a.ServiceKey)
		}
		return s.Attempt(ctx, a.Tenant, a.ApplicationID, a.RouteID)
	}); err != nil {
		return err
	}
	return q.Register(JobSweep, func(ctx context.Context, _ json.RawMessage) error {
		_, err := s.Sweep(ctx)
		return err
	})
}

// Periodic is the periodic sweep job for jobs.Options.Periodic.
func Periodic(every time.Duration) jobs.Periodic {
	return jobs.Periodic{Kind: JobSweep, Every: every, RunOnStart: true}
}

// ---- routes ----

// PutRoute creates (empty ID: a new UUID) or replaces a route. The config
// is checked by the channel's constructor.
func (s *Service) PutRoute(ctx context.Context, r *Route, actor string) error {
	if !tenant.ValidARS(r.Tenant) {
		return rathaus.Errorf(rathaus.EINVALID, "route: field tenant: %q is no ARS", r.Tenant)
	}
	if r.ServiceKey == "" {
		return rathaus.Errorf(rathaus.EINVALID, "route: field service: empty (LeiKa key or *)")
	}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	if _, err := s.channel(r); err != nil {
		return err
	}
	sealed, err := s.opts.Sealer.Seal(ctx, r.Tenant, r.Config, []byte("delivery-route/"+r.ID))
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM delivery_route WHERE tenant = ? AND id = ?`), r.Tenant, r.ID); err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "route")
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO delivery_route (tenant, id, service_key, channel, name, config, enabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), r.Tenant, r.ID, r.ServiceKey, r.Channel, r.Name, sealed, b2i(r.Enabled), r.CreatedAt.UnixMicro()); err != nil {
			if strings.Contains(strings.ToLower(err.Error()), "unique") {
				return rathaus.Errorf(rathaus.ECONFLICT, "route %s exists in another tenant", r.ID)
			}
			return rathaus.Wrap(rathaus.EINTERNAL, err, "route")
		}
		_, err := s.db.AppendAudit(ctx, tx, audit.Entry{Tenant: r.Tenant, Actor: actor, Action: "delivery.route.put",
			Object: "delivery-route/" + r.ID, Details: map[string]string{"channel": r.Channel, "service": r.ServiceKey}})
		return err
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

const routeCols = `tenant, id, service_key, channel, name, config, enabled, created_at`

func (s *Service) scanRoutes(ctx context.Context, rows *sql.Rows) ([]*Route, error) {
	defer rows.Close()
	var out []*Route
	for rows.Next() {
		var r Route
		var sealed []byte
		var enabled int
		var created int64
		if err := rows.Scan(&r.Tenant, &r.ID, &r.ServiceKey, &r.Channel, &r.Name, &sealed, &enabled, &created); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "routes")
		}
		cfg, err := s.opts.Sealer.Open(ctx, r.Tenant, sealed, []byte("delivery-route/"+r.ID))
		if err != nil {
			return nil, err
		}
		r.Config, r.Enabled, r.CreatedAt = cfg, enabled == 1, time.UnixMicro(created).UTC()
		out = append(out, &r)
	}
	return out, rows.Err()
}

// Route returns one route of a tenant.
func (s *Service) Route(ctx context.Context, ars, id string) (*Route, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+routeCols+` FROM delivery_route WHERE tenant = ? AND id = ?`), ars, id)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "route")
	}
	rs, err := s.scanRoutes(ctx, rows)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Zustellweg nicht gefunden / route not found")
	}
	return rs[0], nil
}

// Routes lists the routes configured at exactly ars.
func (s *Service) Routes(ctx context.Context, ars string) ([]*Route, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+routeCols+` FROM delivery_route WHERE tenant = ? ORDER BY service_key, id`), ars)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "routes")
	}
	return s.scanRoutes(ctx, rows)
}

// Resolve returns the enabled routes that apply to an application of
// service in tenant ars: those of the nearest tenant of its lineage that
// has any for the service; at that tenant, routes for the service itself
// win over AnyService routes.
func (s *Service) Resolve(ctx context.Context, ars, service string) ([]*Route, error) {
	lineage := tenant.Lineage(ars)
	if len(lineage) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "delivery: %q is no ARS", ars)
	}
	args := []any{service, AnyService}
	for _, a := range lineage {
		args = append(args, a)
	}
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+routeCols+` FROM delivery_route
		WHERE enabled = 1 AND service_key IN (?, ?) AND tenant IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(lineage)), ", ")+`) ORDER BY id`), args...)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "routes")
	}
	all, err := s.scanRoutes(ctx, rows)
	if err != nil {
		return nil, err
	}
	for _, a := range lineage {
		var specific, any []*Route
		for _, r := range all {
			switch {
			case r.Tenant != a:
			case r.ServiceKey == service:
				specific = append(specific, r)
			default:
				any = append(any, r)
			}
		}
		if len(specific) > 0 {
			return specific, nil
		}
		if len(any) > 0 {
			return any, nil
		}
	}
	return nil, nil
}

// ---- fan-out and attempts ----

// FanOut creates one delivery per route of the application (idempotent:
// existing deliveries stay as they are) and enqueues their first attempt.
func (s *Service) FanOut(ctx context.Context, ars, applicationID, service string) error {
	routes, err := s.Resolve(ctx, ars, service)
	if err != nil || len(routes) == 0 {
		return err
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range routes {
			res, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO delivery (tenant, application_id, route_id, route_tenant, channel, service_key, status, next_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
				ars, applicationID, r.ID, r.Tenant, r.Channel, service, StatusPending, now.UnixMicro(), now.UnixMicro(), now.UnixMicro())
			if err != nil {
				return rathaus.Wrap(rathaus.EINTERNAL, err, "delivery")
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if err := s.logTx(ctx, tx, ars, applicationID, r.ID, 0, "queued", r.Channel+" "+r.Name, now); err != nil {
				return err
			}
			if err := s.opts.Queue.Enqueue(ctx, tx, JobSend, SendArgs{Tenant: ars, ApplicationID: applicationID, ServiceKey: service, RouteID: r.ID}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) logTx(ctx context.Context, tx *sql.Tx, ars, app, route string, attempt int, status, msg string, at time.Time) error {
	_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO delivery_log (tenant, application_id, route_id, seq, at, attempt, status, message)
		VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM delivery_log WHERE tenant = ? AND application_id = ? AND route_id = ?), ?, ?, ?, ?)`),
		ars, app, route, ars, app, route, at.UnixMicro(), attempt, status, msg)
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "delivery log")
	}
	return nil
}

const deliveryCols = `tenant, application_id, route_id, route_tenant, channel, service_key, status, attempts, next_at, lease_until, last_error, remote_id, state, created_at, updated_at`

func scanDelivery(sc interface{ Scan(...any) error }) (*Delivery, error) {
	var d Delivery
	var next, lease, created, updated int64
	var state []byte
	if err := sc.Scan(&d.Tenant, &d.ApplicationID, &d.RouteID, &d.RouteTenant, &d.Channel, &d.ServiceKey, &d.Status, &d.Attempts,
		&next, &lease, &d.LastError, &d.RemoteID, &state, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAt, d.LeaseUntil = time.UnixMicro(next).UTC(), time.UnixMicro(lease).UTC()
	d.CreatedAt, d.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	if len(state) > 0 {
		d.State = state
	}
	return &d, nil
}

// Delivery returns one delivery.
func (s *Service) Delivery(ctx context.Context, ars, applicationID, routeID string) (*Delivery, error) {
	d, err := scanDelivery(s.db.SQL().QueryRowContext(ctx, s.db.Rebind(`SELECT `+deliveryCols+` FROM delivery WHERE tenant = ? AND application_id = ? AND route_id = ?`), ars, applicationID, routeID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Zustellung nicht gefunden / delivery not found")
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "delivery")
	}
	return d, nil
}

// Attempt makes one attempt of a pending delivery whose lease is free; it
// does nothing for deliveries that are done, dead or being tried
// elsewhere. Channel failures are recorded (retry or dead letter), not
// returned.
func (s *Service) Attempt(ctx context.Context, ars, applicationID, routeID string) error {
	now := s.now()
	var d *Delivery
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE delivery SET attempts = attempts + 1, lease_until = ?, updated_at = ?
			WHERE tenant = ? AND application_id = ? AND route_id = ? AND status = ? AND lease_until < ? AND next_at <= ?`),
			now.Add(s.opts.Lease).UnixMicro(), now.UnixMicro(), ars, applicationID, routeID, StatusPending, now.UnixMicro(), now.UnixMicro())
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "claim delivery")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		d, err = scanDelivery(tx.QueryRowContext(ctx, s.db.Rebind(`SELECT `+deliveryCols+` FROM delivery WHERE tenant = ? AND application_id = ? AND route_id = ?`), ars, applicationID, routeID))
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "claim delivery")
		}
		return nil
	})
	if err != nil || d == nil {
		return err
	}
	res, derr := s.try(ctx, d)
	return s.finish(ctx, d, res, derr)
}

// try runs the channel once.
func (s *Service) try(ctx context.Context, d *Delivery) (*Result, error) {
	if s.opts.Source == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "delivery: no source configured")
	}
	r, err := s.Route(ctx, d.RouteTenant, d.RouteID)
	if err != nil {
		return nil, Permanent(err)
	}
	ch, err := s.channel(r)
	if err != nil {
		return nil, Permanent(err)
	}
	app, err := s.opts.Source.Load(ctx, d.Tenant, d.ApplicationID)
	if err != nil {
		if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
			err = Permanent(err)
		}
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, s.opts.AttemptTimeout)
	defer cancel()
	return ch.Deliver(actx, s.attempt(d, r, app))
}

func (s *Service) attempt(d *Delivery, r *Route, app *Application) *Attempt {
	return &Attempt{Delivery: d, Route: r, App: app, SaveState: func(ctx context.Context, st json.RawMessage) error {
		d.State = st
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE delivery SET state = ?, updated_at = ? WHERE tenant = ? AND application_id = ? AND route_id = ?`),
				[]byte(st), s.now().UnixMicro(), d.Tenant, d.ApplicationID, d.RouteID)
			if err != nil {
				return rathaus.Wrap(rathaus.EINTERNAL, err, "delivery state")
			}
			return nil
		})
	}}
}

// backoff is the delay after attempt n (1-based) with jitter.
func (s *Service) backoff(n int) time.Duration {
	d := s.opts.BaseBackoff
	for i := 1; i < n && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opts.MaxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// finish records the outcome of an attempt.
func (s *Service) finish(ctx context.Context, d *Delivery, res *Result, derr error) error {
	now := s.now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		status, msg, next := StatusPending, safeMessage(derr), now
		logStatus := "retry"
		switch {
		case derr == nil:
			status, msg = StatusDelivered, ""
			if res != nil && res.Status != "" {
				status = res.Status
			}
			if res != nil {
				msg = logText(res.Message)
				if res.RemoteID != "" {
					d.RemoteID = res.RemoteID
				}
				if res.State != nil {
					d.State = res.State
				}
			}
			logStatus = status
		case IsPermanent(derr) || d.Attempts >= s.opts.MaxAttempts:
			status, logStatus = StatusDead, StatusDead
		default:
			next = now.Add(s.backoff(d.Attempts))
		}
		lastErr := msg
		if derr == nil && status != StatusRejected {
			lastErr = ""
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE delivery SET status = ?, next_at = ?, lease_until = 0, last_error = ?, remote_id = ?, state = ?, updated_at = ?
			WHERE tenant = ? AND application_id = ? AND route_id = ?`),
			status, next.UnixMicro(), lastErr, d.RemoteID, nullBytes(d.State), now.UnixMicro(), d.Tenant, d.ApplicationID, d.RouteID); err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "delivery outcome")
		}
		if err := s.logTx(ctx, tx, d.Tenant, d.ApplicationID, d.RouteID, d.Attempts, logStatus, msg, now); err != nil {
			return err
		}
		if status == StatusPending {
			return s.opts.Queue.Enqueue(ctx, tx, JobSend, SendArgs{Tenant: d.Tenant, ApplicationID: d.ApplicationID, ServiceKey: d.ServiceKey, RouteID: d.RouteID}, jobs.At(next))
		}
		d.Status = status
		return s.auditTx(ctx, tx, d, "system", "delivery."+status, msg)
	})
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (s *Service) auditTx(ctx context.Context, tx *sql.Tx, d *Delivery, actor, action, msg string) error {
	det := map[string]string{"route": d.RouteID, "channel": d.Channel, "attempts": itoa(d.Attempts)}
	if msg != "" && len(msg) < 300 {
		det["reason"] = msg
	}
	_, err := s.db.AppendAudit(ctx, tx, audit.Entry{Tenant: d.Tenant, Actor: actor, Action: action, Object: "application/" + d.ApplicationID, Details: det})
	return err
}

// ---- sweep, follow, re-drive, queries ----

// Sweep re-enqueues pending deliveries that are overdue by more than a
// lease with a free lease (their attempt or its job was lost in a crash)
// and asks Follower channels for the decision on delivered ones. It
// returns the number of deliveries it re-enqueued.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+deliveryCols+` FROM delivery
		WHERE status = ? AND next_at <= ? AND lease_until < ? ORDER BY next_at LIMIT 500`),
		StatusPending, now.Add(-s.opts.SweepGrace).UnixMicro(), now.UnixMicro())
	if err != nil {
		return 0, rathaus.Wrap(rathaus.EINTERNAL, err, "sweep")
	}
	var due []*Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return 0, rathaus.Wrap(rathaus.EINTERNAL, err, "sweep")
		}
		due = append(due, d)
	}
	rows.Close()
	// Deliveries whose lease expired (a crash mid-attempt) are due at once.
	lrows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+deliveryCols+` FROM delivery
		WHERE status = ? AND lease_until > 0 AND lease_until < ? LIMIT 500`), StatusPending, now.UnixMicro())
	if err != nil {
		return 0, rathaus.Wrap(rathaus.EINTERNAL, err, "sweep")
	}
	for lrows.Next() {
		d, err := scanDelivery(lrows)
		if err != nil {
			lrows.Close()
			return 0, rathaus.Wrap(rathaus.EINTERNAL, err, "sweep")
		}
		if !slices.ContainsFunc(due, func(x *Delivery) bool { return x.ApplicationID == d.ApplicationID && x.RouteID == d.RouteID }) {
			due = append(due, d)
		}
	}
	lrows.Close()
	if len(due) > 0 {
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			for _, d := range due {
				if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE delivery SET next_at = ?, lease_until = 0 WHERE tenant = ? AND application_id = ? AND route_id = ? AND status = ? AND lease_until < ?`),
					now.UnixMicro(), d.Tenant, d.ApplicationID, d.RouteID, StatusPending, now.UnixMicro()); err != nil {
					return rathaus.Wrap(rathaus.EINTERNAL, err, "sweep")
				}
				if err := s.opts.Queue.Enqueue(ctx, tx, JobSend, SendArgs{Tenant: d.Tenant, ApplicationID: d.ApplicationID, ServiceKey: d.ServiceKey, RouteID: d.RouteID}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(due), s.Follow(ctx)
}

// Follow asks Follower channels for the decision on delivered deliveries
// (up to 200 per call, least recently asked first) and records accepted or
// rejected ones.
func (s *Service) Follow(ctx context.Context) error {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+deliveryCols+` FROM delivery WHERE status = ? AND channel = ? ORDER BY updated_at LIMIT 200`),
		StatusDelivered, ChannelFITConnect)
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "follow")
	}
	var open []*Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return rathaus.Wrap(rathaus.EINTERNAL, err, "follow")
		}
		open = append(open, d)
	}
	rows.Close()
	for _, d := range open {
		_ = s.FollowOne(ctx, d) // undecided or unreachable: again at the next sweep
	}
	return nil
}

// FollowOne asks the channel of a delivered delivery for the decision.
func (s *Service) FollowOne(ctx context.Context, d *Delivery) error {
	r, err := s.Route(ctx, d.RouteTenant, d.RouteID)
	if err != nil {
		return err
	}
	ch, err := s.channel(r)
	if err != nil {
		return err
	}
	f, ok := ch.(Follower)
	if !ok {
		return nil
	}
	res, err := f.Follow(ctx, s.attempt(d, r, nil))
	now := s.now()
	if err != nil || res == nil || res.Status == "" || res.Status == StatusDelivered {
		// Undecided: to the back of the queue (updated_at orders Follow).
		s.db.InTx(ctx, func(tx *sql.Tx) error {
			_, uerr := tx.ExecContext(ctx, s.db.Rebind(`UPDATE delivery SET updated_at = ? WHERE tenant = ? AND application_id = ? AND route_id = ? AND status = ?`),
				now.UnixMicro(), d.Tenant, d.ApplicationID, d.RouteID, StatusDelivered)
			return uerr
		})
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		lastErr := ""
		if res.Status == StatusRejected {
			lastErr = res.Message
		}
		x, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE delivery SET status = ?, last_error = ?, updated_at = ? WHERE tenant = ? AND application_id = ? AND route_id = ? AND status = ?`),
			res.Status, lastErr, now.UnixMicro(), d.Tenant, d.ApplicationID, d.RouteID, StatusDelivered)
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "follow")
		}
		if n, _ := x.RowsAffected(); n == 0 {
			return nil
		}
		if err := s.logTx(ctx, tx, d.Tenant, d.ApplicationID, d.RouteID, d.Attempts, res.Status, res.Message, now); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, d, "system", "delivery."+res.Status, res.Message)
	})
}

// Redrive sends a dead or rejected delivery again (the application is
// read anew, so a corrected route configuration applies; the citizen is
// not asked again). A rejected FIT-Connect delivery becomes a new
// submission.
func (s *Service) Redrive(ctx context.Context, ars, applicationID, routeID, actor string) error {
	now := s.now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		d, err := scanDelivery(tx.QueryRowContext(ctx, s.db.Rebind(`SELECT `+deliveryCols+` FROM delivery WHERE tenant = ? AND application_id = ? AND route_id = ?`), ars, applicationID, routeID))
		if errors.Is(err, sql.ErrNoRows) {
			return rathaus.Errorf(rathaus.ENOTFOUND, "Zustellung nicht gefunden / delivery not found")
		}
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "redrive")
		}
		if d.Status != StatusDead && d.Status != StatusRejected {
			return rathaus.Errorf(rathaus.ECONFLICT, "Zustellung ist %s, nicht erneut zustellbar / delivery is %s, cannot be re-driven", d.Status, d.Status)
		}
		state := nullBytes(d.State)
		if d.Status == StatusRejected {
			state = nil
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE delivery SET status = ?, attempts = 0, next_at = ?, lease_until = 0, state = ?, updated_at = ?
			WHERE tenant = ? AND application_id = ? AND route_id = ?`), StatusPending, now.UnixMicro(), state, now.UnixMicro(), ars, applicationID, routeID); err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "redrive")
		}
		if err := s.logTx(ctx, tx, ars, applicationID, routeID, 0, "redrive", "by "+actor, now); err != nil {
			return err
		}
		if err := s.auditTx(ctx, tx, d, actor, "delivery.redrive", ""); err != nil {
			return err
		}
		return s.opts.Queue.Enqueue(ctx, tx, JobSend, SendArgs{Tenant: ars, ApplicationID: applicationID, ServiceKey: d.ServiceKey, RouteID: routeID})
	})
}

// Deliveries lists the deliveries of an application.
func (s *Service) Deliveries(ctx context.Context, ars, applicationID string) ([]*Delivery, error) {
	return s.query(ctx, `SELECT `+deliveryCols+` FROM delivery WHERE tenant = ? AND application_id = ? ORDER BY created_at, route_id`, ars, applicationID)
}

// Failed lists the dead and rejected deliveries of the tenant subtree
// rooted at root, newest first (the operator's dead-letter view).
func (s *Service) Failed(ctx context.Context, root string, limit int) ([]*Delivery, error) {
	if limit <= 0 {
		limit = 200
	}
	// The LIKE prefix (root without trailing zeros) also matches tenants
	// outside the subtree (root 061234560010 → 06123456001…: the
	// municipalities …011 to …019); those are filtered out, and further
	// pages are read until limit rows of the subtree are found, so a busy
	// neighbour cannot hide the root's failures.
	prefix := strings.TrimRight(root, "0")
	batch := limit * 4
	var out []*Delivery
	for offset := 0; len(out) < limit; offset += batch {
		page, err := s.query(ctx, `SELECT `+deliveryCols+` FROM delivery WHERE status IN (?, ?) AND tenant LIKE ?
			ORDER BY updated_at DESC, tenant, application_id, route_id LIMIT ? OFFSET ?`,
			StatusDead, StatusRejected, prefix+"%", batch, offset)
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			if tenant.InSubtree(root, d.Tenant) && len(out) < limit {
				out = append(out, d)
			}
		}
		if len(page) < batch {
			break
		}
	}
	return out, nil
}

func (s *Service) query(ctx context.Context, q string, args ...any) ([]*Delivery, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "deliveries")
	}
	defer rows.Close()
	var out []*Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "deliveries")
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Log returns the delivery log of an application (all routes), oldest
// first: part of the case history.
func (s *Service) Log(ctx context.Context, ars, applicationID string) ([]LogEntry, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT tenant, application_id, route_id, seq, at, attempt, status, message
		FROM delivery_log WHERE tenant = ? AND application_id = ? ORDER BY at, route_id, seq`), ars, applicationID)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "delivery log")
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var e LogEntry
		var at int64
		if err := rows.Scan(&e.Tenant, &e.ApplicationID, &e.RouteID, &e.Seq, &at, &e.Attempt, &e.Status, &e.Message); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "delivery log")
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
