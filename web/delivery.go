// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"rathaus"
	"rathaus/audit"
	"rathaus/delivery"
	"rathaus/identity"
	"rathaus/tenant"
)

// DeliveryService is the backend of the operator's delivery view
// (*delivery.Service implements it).
type DeliveryService interface {
	Failed(ctx context.Context, root string, limit int) ([]*delivery.Delivery, error)
	Deliveries(ctx context.Context, ars, applicationID string) ([]*delivery.Delivery, error)
	Log(ctx context.Context, ars, applicationID string) ([]delivery.LogEntry, error)
	Redrive(ctx context.Context, ars, applicationID, routeID, actor string) error
	FITConnectCallback(ctx context.Context, routeID string, h http.Header, body []byte) error
}

// DeliveryAdmin is the operator's dead-letter view at
// /verwaltung/zustellung: failed (dead or rejected) deliveries of the
// operator's tenant subtrees with their reason, the delivery log of an
// application (readable by caseworkers too: it is part of the case
// history), and re-drive. Add it to Deps.Features.
type DeliveryAdmin struct {
	Service DeliveryService
	// Audit records every view of a delivery's history as
	// "delivery.view" (who, which application and routes), like the desk
	// audits "case.view", and every view of the dead-letter list as
	// "delivery.list" (who, which subtree, which applications). Required:
	// without it these pages answer 503 instead of showing application
	// data unaudited.
	Audit audit.Log
	// Fixture creates, for the tenant-isolation test, a dead delivery of
	// application id in tenant ars whose error contains secret and
	// returns its route id.
	Fixture func(ctx context.Context, ars, id, secret string) (string, error)
}

const deliveryBase = "/verwaltung/zustellung"

type deliveryAdmin struct {
	s *Server
	d *DeliveryAdmin
}

// Register implements Feature.
func (d *DeliveryAdmin) Register(s *Server) {
	h := &deliveryAdmin{s: s, d: d}
	op := Meta{Scope: ScopeStaff, Role: identity.RoleOperator, Personal: true}
	s.Route("GET "+deliveryBase, HandlerFunc(h.list), op)
	withProbe := func(m Meta, method, suffix string) Meta {
		m.Isolation = h.probe(method, suffix)
		m.Example = deliveryBase + "/" + tenant.Bund + "/beispiel"
		return m
	}
	// The delivery log is part of the case history: caseworkers read it.
	cw := Meta{Scope: ScopeStaff, Role: identity.RoleCaseworker, Personal: true}
	s.Route("GET "+deliveryBase+"/{ars}/{app}", HandlerFunc(h.history), withProbe(cw, "", ""))
	s.Route("POST "+deliveryBase+"/{ars}/{app}/{route}/erneut", HandlerFunc(h.redrive), withProbe(op, http.MethodPost, "/erneut"))
	// FIT-Connect callbacks of a delivery service to rathaus as sender
	// (FITConnectConfig.CallbackURL), authenticated by the route's HMAC.
	s.Route("POST /zustellung/fitconnect/{route}", http.HandlerFunc(h.callback), Meta{Scope: ScopePublic, Raw: true,
		Example:         "/zustellung/fitconnect/beispiel",
		NotTenantScoped: "server-to-server callback authenticated by the route's secret; the answer carries no data"})
}

func (h *deliveryAdmin) callback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = h.d.Service.FITConnectCallback(r.Context(), r.PathValue("route"), r.Header, body)
	}
	if err != nil {
		status := http.StatusUnauthorized
		if rathaus.ErrorCode(err) != rathaus.EUNAUTHORIZED && rathaus.ErrorCode(err) != rathaus.EINVALID {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"title": rathaus.ErrorMessage(err), "status": status})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *deliveryAdmin) probe(method, suffix string) func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		if h.d.Fixture == nil {
			return IsolationProbe{}, fmt.Errorf("delivery view: no Fixture")
		}
		id := "isolation-application"
		if _, err := h.d.Fixture(ctx, fx.A, id, "Eigenfehler-"+fx.A); err != nil {
			return IsolationProbe{}, err
		}
		secret := "Geheimfehler-" + fx.B
		route, err := h.d.Fixture(ctx, fx.B, id, secret)
		if err != nil {
			return IsolationProbe{}, err
		}
		path := deliveryBase + "/" + fx.B + "/" + id
		if suffix != "" {
			path += "/" + route + suffix
		}
		return IsolationProbe{Method: method, Path: path, Secrets: []string{secret}}, nil
	}
}

// operatorRoots returns the tenants where the user is an operator.
func operatorRoots(gs []identity.Grant) []string {
	var out []string
	for _, g := range gs {
		if g.Role == identity.RoleOperator && !contains(out, g.Tenant) {
			out = append(out, g.Tenant)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (h *deliveryAdmin) allowed(r *http.Request, ars string, role identity.Role) error {
	p := h.s.principal(r)
	if !tenant.ValidARS(ars) || p == nil || !identity.Allowed(p.Grants, role, ars) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Zustellung nicht gefunden / delivery not found")
	}
	return nil
}

type deliveryRow struct {
	*delivery.Delivery
	Link   string
	Redo   string
	Tenant string
}

type deliveryListData struct {
	Roots []rootOption
	Rows  []deliveryRow
}

func (h *deliveryAdmin) list(w http.ResponseWriter, r *http.Request) error {
	p := h.s.principal(r)
	roots := operatorRoots(p.Grants)
	if len(roots) == 0 {
		return errForbidden
	}
	root := r.URL.Query().Get("ars")
	if root == "" {
		root = roots[0]
	}
	if !tenant.ValidARS(root) || !identity.Allowed(p.Grants, identity.RoleOperator, root) {
		return errForbidden
	}
	failed, err := h.d.Service.Failed(r.Context(), root, 200)
	if err != nil {
		return err
	}
	if err := h.auditList(r, root, failed); err != nil {
		return err
	}
	var data deliveryListData
	for _, ars := range roots {
		data.Roots = append(data.Roots, rootOption{ARS: ars, Name: h.s.tenantName(r.Context(), ars), Selected: ars == root})
	}
	for _, d := range failed {
		base := deliveryBase + "/" + d.Tenant + "/" + url.PathEscape(d.ApplicationID)
		data.Rows = append(data.Rows, deliveryRow{Delivery: d, Link: base, Redo: base + "/" + url.PathEscape(d.RouteID) + "/erneut",
			Tenant: h.s.tenantName(r.Context(), d.Tenant)})
	}
	h.s.render(w, r, http.StatusOK, "delivery", data)
	return nil
}

type deliveryHistoryData struct {
	ARS, ApplicationID string
	Redriven           bool
	Rows               []deliveryRow
	Log                []delivery.LogEntry
}

func (h *deliveryAdmin) history(w http.ResponseWriter, r *http.Request) error {
	ars, app := r.PathValue("ars"), r.PathValue("app")
	if err := h.allowed(r, ars, identity.RoleCaseworker); err != nil {
		return err
	}
	ds, err := h.d.Service.Deliveries(r.Context(), ars, app)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Zustellung nicht gefunden / delivery not found")
	}
	log, err := h.d.Service.Log(r.Context(), ars, app)
	if err != nil {
		return err
	}
	if err := h.auditView(r, ars, app, ds); err != nil {
		return err
	}
	data := deliveryHistoryData{ARS: ars, ApplicationID: app, Log: log, Redriven: r.URL.Query().Get("erneut") == "1"}
	base := deliveryBase + "/" + ars + "/" + url.PathEscape(app)
	operator := identity.Allowed(h.s.principal(r).Grants, identity.RoleOperator, ars)
	for _, d := range ds {
		row := deliveryRow{Delivery: d, Link: base}
		if operator && (d.Status == delivery.StatusDead || d.Status == delivery.StatusRejected) {
			row.Redo = base + "/" + url.PathEscape(d.RouteID) + "/erneut"
		}
		data.Rows = append(data.Rows, row)
	}
	h.s.render(w, r, http.StatusOK, "delivery_history", data)
	return nil
}

// auditView writes the "delivery.view" entry of a history view before
// anything is shown: every read of application delivery data is recorded,
// not throttled (the desk's "case.view" is not throttled either).
func (h *deliveryAdmin) auditView(r *http.Request, ars, app string, ds []*delivery.Delivery) error {
	routes := distinct(ds, func(d *delivery.Delivery) string { return d.RouteID })
	return h.record(r, audit.Entry{Tenant: ars, Action: "delivery.view", Object: "application/" + app,
		Details: map[string]string{"routes": strings.Join(routes, " ")}},
		"Zustellprotokoll derzeit nicht verfügbar / delivery history unavailable")
}

// record appends e (the principal as actor) to the audit log; unavailable
// is the message when that is not possible — nothing is shown then.
func (h *deliveryAdmin) record(r *http.Request, e audit.Entry, unavailable string) error {
	if h.d.Audit == nil {
		return rathaus.Errorf(rathaus.EUNAVAILABLE, "%s (kein Audit-Log / no audit log)", unavailable)
	}
	e.Actor = h.s.principal(r).User.ID
	if _, err := h.d.Audit.Append(r.Context(), e); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "%s", unavailable)
	}
	return nil
}

// auditList writes the "delivery.list" entry of a dead-letter list view
// before it is shown: which subtree, and which applications' failed
// deliveries (with their error texts) the operator saw.
func (h *deliveryAdmin) auditList(r *http.Request, root string, failed []*delivery.Delivery) error {
	apps := distinct(failed, func(d *delivery.Delivery) string { return d.ApplicationID })
	return h.record(r, audit.Entry{Tenant: root, Action: "delivery.list", Object: "deliveries/" + root,
		Details: map[string]string{"applications": strings.Join(apps, " ")}},
		"Zustellfehler derzeit nicht verfügbar / failed deliveries unavailable")
}

// distinct returns key of each delivery, in order, without repeats.
func distinct(ds []*delivery.Delivery, key func(*delivery.Delivery) string) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		if k := key(d); !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func (h *deliveryAdmin) redrive(w http.ResponseWriter, r *http.Request) error {
	ars, app, route := r.PathValue("ars"), r.PathValue("app"), r.PathValue("route")
	if err := h.allowed(r, ars, identity.RoleOperator); err != nil {
		return err
	}
	if err := h.d.Service.Redrive(r.Context(), ars, app, route, h.s.principal(r).User.ID); err != nil {
		return err
	}
	http.Redirect(w, r, deliveryBase+"/"+ars+"/"+url.PathEscape(app)+"?erneut=1", http.StatusSeeOther)
	return nil
}
