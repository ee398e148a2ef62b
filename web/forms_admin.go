// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"rathaus"
	"rathaus/fim"
	"rathaus/form"
	"rathaus/identity"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/tenant"
)

// FormsAdminStore is the form storage behind the designers' forms page
// (*sqlstore.FormStore implements it).
type FormsAdminStore interface {
	FormBindingsIn(ctx context.Context, ars string) ([]sqlstore.FormBinding, error)
	// Binding is a service's effective (nearest) form binding at ars.
	Binding(ctx context.Context, ars, serviceKey string) (*submission.FormRef, error)
	FormVersionsAt(ctx context.Context, ten, id string) ([]sqlstore.FormVersionInfo, error)
	FormIn(ctx context.Context, ars, id, version string) (*form.Model, sqlstore.FormVersionInfo, error)
	AttachForm(ctx context.Context, actor, ten, serviceKey string, m *form.Model) (replaced bool, err error)
	ActivateForm(ctx context.Context, actor, ten, serviceKey, id, version string) error
}

// FormsAdmin is the service designers' forms management at
// /verwaltung/{ars}/formulare: the FIM forms attached to services for a
// tenant and inherited from its ancestors (Einer für Alle), the detail of a
// form version (steps, warnings, rules not recognised, code lists, JSON
// Schema download) and the upload of a new version (XDatenfelder 2/3 with
// its genericode code lists, or a zip of them), parsed by package fim as
// `rathaus import fim` does. Only staff with the designer (or operator)
// role on {ars} get in. Add it to Deps.Features.
type FormsAdmin struct {
	Store FormsAdminStore
	// MaxUploadBytes limits an upload request (default 20 MiB).
	MaxUploadBytes int64
}

const (
	formsPageSize   = 25
	formsZipEntries = 200
)

type formsAdmin struct {
	s *Server
	f *FormsAdmin
	// summaries caches the counts of a stored version for the list, keyed
	// by tenant, id, version and import time (a replaced version has a new
	// import time, so no node shows stale counts and the entries need no
	// expiry of their own).
	summaries *ttlCache[string, formSummary]
}

// formSummary is what the list shows of a version.
type formSummary struct {
	Title, Format                               string
	Fields, Groups, Rules, Recognised, Warnings int
}

// summariesMax bounds the summary cache (it starts over when full).
const summariesMax = 2000

// versionPath stands in URLs for a version that is empty (old XDatenfelder
// 2 exports without one, imported with the CLI).
const versionPath = "-"

func pathVersion(v string) string {
	if v == "" {
		return versionPath
	}
	return v
}

func versionFromPath(v string) string {
	if v == versionPath {
		return ""
	}
	return v
}

func formsBase(ars string) string { return "/verwaltung/" + ars + "/formulare" }

func formLink(ars, id, version string) string {
	return formsBase(ars) + "/" + url.PathEscape(id) + "/" + url.PathEscape(pathVersion(version))
}

func schemaLink(ars, id, version string) string {
	return "/verwaltung/" + ars + "/formularschema/" + url.PathEscape(id) + "/" + url.PathEscape(pathVersion(version))
}

// Register implements Feature.
func (f *FormsAdmin) Register(s *Server) {
	if f.MaxUploadBytes <= 0 {
		f.MaxUploadBytes = 20 << 20
	}
	h := &formsAdmin{s: s, f: f, summaries: newTTLCache[string, formSummary](24*time.Hour, summariesMax)}
	m := Meta{Scope: ScopeStaff, Role: identity.RoleServiceDesigner, Personal: true}
	with := func(method, example string, probe func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error)) Meta {
		c := m
		c.Example, c.Isolation = example, probe
		if method == http.MethodPost {
			c.MaxBodyBytes = f.MaxUploadBytes
		}
		return c
	}
	ex := tenant.Bund
	s.Route("GET /verwaltung/{ars}/formulare", HandlerFunc(h.list), with("", formsBase(ex), h.probe("", false)))
	s.Route("POST /verwaltung/{ars}/formulare", HandlerFunc(h.upload), with(http.MethodPost, formsBase(ex), h.probe(http.MethodPost, false)))
	s.Route("GET /verwaltung/{ars}/formulare/{id}/{version}", HandlerFunc(h.detail), with("", formLink(ex, "S0", "1"), h.probe("", true)))
	s.Route("POST /verwaltung/{ars}/formulare/{id}/{version}/aktivieren", HandlerFunc(h.activate), with("", formLink(ex, "S0", "1")+"/aktivieren", h.probeActivate()))
	s.Route("GET /verwaltung/{ars}/formularschema/{id}/{version}", HandlerFunc(h.schema), with("", schemaLink(ex, "S0", "1"), h.probeSchema()))
}

// isolationForm is the form the isolation probes store in A and B.
func isolationForm(secret string) *form.Model {
	return &form.Model{ID: "S99000001", Version: "1.0", Name: secret, Title: secret, Format: form.FormatXDF3,
		Root: []form.Item{{Kind: form.KindField, ID: "F99000001", Version: "1.0", Name: "name", Label: "Name " + secret,
			Feldart: form.FeldInput, Datentyp: form.TypText, Min: 1, Max: 1}}}
}

// probe attaches a form with a secret title in A and B and gives the
// requesting staff member the designer role on A (so the probe tests the
// tenant check, not only the role), then requests B's list or detail.
func (h *formsAdmin) probe(method string, detail bool) func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		secret := "Geheimformular-" + fx.B
		if err := h.isolationSetup(ctx, fx, secret); err != nil {
			return IsolationProbe{}, err
		}
		p := IsolationProbe{Method: method, Path: formsBase(fx.B), Secrets: []string{secret}}
		if detail {
			p.Path = formLink(fx.B, "S99000001", "1.0")
		}
		if method == http.MethodPost {
			p.Body = "service=isolation-service"
		}
		return p, nil
	}
}

func (h *formsAdmin) probeSchema() func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		secret := "Geheimformular-" + fx.B
		if err := h.isolationSetup(ctx, fx, secret); err != nil {
			return IsolationProbe{}, err
		}
		return IsolationProbe{Path: schemaLink(fx.B, "S99000001", "1.0"), Secrets: []string{secret}}, nil
	}
}

func (h *formsAdmin) probeActivate() func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		secret := "Geheimformular-" + fx.B
		if err := h.isolationSetup(ctx, fx, secret); err != nil {
			return IsolationProbe{}, err
		}
		return IsolationProbe{Method: http.MethodPost, Path: formLink(fx.B, "S99000001", "1.0") + "/aktivieren", Body: "service=isolation-service", Secrets: []string{secret}}, nil
	}
}

func (h *formsAdmin) isolationSetup(ctx context.Context, fx *IsolationFixture, secret string) error {
	if h.f.Store == nil {
		return fmt.Errorf("forms admin: no Store")
	}
	if _, err := h.f.Store.AttachForm(ctx, "isolation-test", fx.A, "isolation-service", isolationForm("Eigenformular-"+fx.A)); err != nil {
		return err
	}
	if _, err := h.f.Store.AttachForm(ctx, "isolation-test", fx.B, "isolation-service", isolationForm(secret)); err != nil {
		return err
	}
	if fx.Principal == nil || fx.Principal.User == nil || fx.Identity == nil {
		return nil
	}
	gs, err := fx.Identity.Grants(ctx, fx.Principal.User.ID)
	if err != nil {
		return err
	}
	if identity.Allowed(gs, identity.RoleServiceDesigner, fx.A) {
		return nil
	}
	gs = append(gs, identity.Grant{UserID: fx.Principal.User.ID, Tenant: fx.A, Role: identity.RoleServiceDesigner})
	return fx.Identity.SetGrants(ctx, fx.Principal.User.ID, gs)
}

// allowed checks the path's ARS and the designer grant on it.
func (h *formsAdmin) allowed(r *http.Request) (string, error) {
	ars := r.PathValue("ars")
	if !tenant.ValidARS(ars) {
		return "", rathaus.Errorf(rathaus.ENOTFOUND, "Diese Verwaltungseinheit gibt es nicht.")
	}
	if !h.s.principal(r).Can(identity.RoleServiceDesigner, ars) {
		return "", errForbidden
	}
	return ars, nil
}

// formVersionView is one version of a form in the list.
type formVersionView struct {
	Version    string
	ImportedAt time.Time
	Active     bool
	Link       string
}

// formRow is one service's form at one tenant of the lineage.
type formRow struct {
	ServiceKey, ServiceName string
	FormID, Title, Format   string
	Inherited               bool
	From                    string // name of the tenant the binding belongs to
	Overridden              bool   // a nearer tenant binds another form
	Versions                []formVersionView
	Fields, Groups          int
	Rules, Recognised       int
	Warnings                int
	Link                    string
	Err                     string // the active version could not be read
}

// formsListPage is the data of forms_admin.html.
type formsListPage struct {
	Tenant           *tenant.Tenant
	Rows             []formRow
	Total            int
	Page, Pages      int
	PrevURL, NextURL string
	Upload           formsUploadForm
}

// formsUploadForm is the upload form with its last input and errors.
type formsUploadForm struct {
	Action  string
	Service string
	Errors  []string
	// ServiceBad marks the service key as the field in error (else the files).
	ServiceBad bool
}

func (h *formsAdmin) list(w http.ResponseWriter, r *http.Request) error {
	ars, err := h.allowed(r)
	if err != nil {
		return err
	}
	page := 1
	if ps := r.URL.Query().Get("seite"); ps != "" {
		page, err = strconv.Atoi(ps)
		if err != nil || page < 1 || page > 10000 {
			return rathaus.Errorf(rathaus.EINVALID, "Parameter seite: %q ist keine Seitenzahl.", ps)
		}
	}
	d, err := h.listPage(r, ars, page)
	if err != nil {
		return err
	}
	h.s.render(w, r, http.StatusOK, "forms_admin", d)
	return nil
}

func (h *formsAdmin) listPage(r *http.Request, ars string, page int) (*formsListPage, error) {
	ctx := r.Context()
	t, err := h.s.deps.Tenants.Tenant(ctx, ars)
	if err != nil {
		return nil, err
	}
	bs, err := h.f.Store.FormBindingsIn(ctx, ars)
	if err != nil {
		return nil, err
	}
	d := &formsListPage{Tenant: t, Total: len(bs), Page: page, Upload: formsUploadForm{Action: formsBase(ars)}}
	d.Pages = max(1, (len(bs)+formsPageSize-1)/formsPageSize)
	base := formsBase(ars) + "?seite="
	if page > 1 {
		d.PrevURL = base + strconv.Itoa(page-1)
	}
	if page < d.Pages {
		d.NextURL = base + strconv.Itoa(page+1)
	}
	seen := map[string]bool{} // services bound by a nearer tenant
	for i, b := range bs {
		overridden := seen[b.ServiceKey]
		seen[b.ServiceKey] = true
		if i < (page-1)*formsPageSize || i >= page*formsPageSize {
			continue
		}
		row := formRow{ServiceKey: b.ServiceKey, ServiceName: b.ServiceKey, FormID: b.FormID, Inherited: b.Tenant != ars,
			Overridden: overridden, Link: formLink(ars, b.FormID, b.FormVersion)}
		if row.Inherited {
			row.From = h.s.tenantName(ctx, b.Tenant)
		}
		if res, err := h.s.deps.Catalog.Resolve(ctx, ars, b.ServiceKey); err == nil {
			row.ServiceName = res.Service.Name
		}
		vs, err := h.f.Store.FormVersionsAt(ctx, b.Tenant, b.FormID)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			row.Versions = append(row.Versions, formVersionView{Version: v.Version, ImportedAt: v.ImportedAt,
				Active: v.Version == b.FormVersion, Link: formLink(ars, b.FormID, v.Version)})
		}
		sum, err := h.summary(ctx, b, vs, &row)
		if err != nil {
			row.Err = rathaus.ErrorMessage(err)
		} else {
			row.Title, row.Format = sum.Title, sum.Format
			row.Fields, row.Groups, row.Rules, row.Recognised, row.Warnings = sum.Fields, sum.Groups, sum.Rules, sum.Recognised, sum.Warnings
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// summary returns the counts of the binding's version, from the cache when
// the version is stored at the binding's tenant (vs) with the same import
// time. A version pinned from an ancestor is read each time and added to
// the row's versions.
func (h *formsAdmin) summary(ctx context.Context, b sqlstore.FormBinding, vs []sqlstore.FormVersionInfo, row *formRow) (formSummary, error) {
	read := func() (formSummary, sqlstore.FormVersionInfo, error) {
		m, info, err := h.f.Store.FormIn(ctx, b.Tenant, b.FormID, b.FormVersion)
		if err != nil {
			return formSummary{}, info, err
		}
		c := m.Count()
		return formSummary{Title: m.Title, Format: m.Format, Fields: c.Fields, Groups: c.Groups, Rules: len(m.Rules),
			Recognised: m.RulesRecognised(), Warnings: len(m.Warnings)}, info, nil
	}
	for _, v := range vs {
		if v.Version == b.FormVersion {
			key := b.Tenant + "\x00" + b.FormID + "\x00" + b.FormVersion + "\x00" + strconv.FormatInt(v.ImportedAt.UnixMicro(), 10)
			return h.summaries.get(key, func() (formSummary, error) {
				sum, _, err := read()
				return sum, err
			})
		}
	}
	sum, info, err := read()
	if err != nil {
		return formSummary{}, err
	}
	row.Versions = append([]formVersionView{{Version: info.Version, ImportedAt: info.ImportedAt, Active: true, Link: row.Link}}, row.Versions...)
	return sum, nil
}

// formStepView is a step of the form with its groups.
type formStepView struct {
	Title  string
	Groups []string
	Fields int
}

// formsDetailPage is the data of forms_admin_detail.html.
type formsDetailPage struct {
	Tenant             *tenant.Tenant
	Model              *form.Model
	Inherited          bool
	From               string
	ImportedAt         time.Time
	Active             []string        // services for which this version is the one new applications get
	Activatable        []serviceOption // services using another version of this form
	ActivateURL        string
	Activated          bool
	Steps              []formStepView
	Fields, Groups     int
	Recognised         int
	Unrecognised       []form.Rule
	CodeLists          []codeListView
	SchemaURL, ListURL string
	Saved, Replaced    bool
	Diff               *formDiff // changes against the previous version, nil for the first
	// Checked marks an upload only checked, not stored ("Nur prüfen");
	// Upload is the form to upload it for real.
	Checked bool
	Upload  formsUploadForm
}

// formDiff lists what a version changed against the one before it (by
// element and rule id and version, as FIM versions them).
type formDiff struct {
	Previous, PreviousURL    string
	Added, Removed           []string // elements: "label (F123 1.0)"
	RulesAdded, RulesRemoved []string
	More                     bool // lists were cut at formDiffMax
}

// formDiffMax bounds each list of a formDiff.
const formDiffMax = 50

// elementKeys returns "id:version" → display text of every element (and
// rule) of m.
func elementKeys(m *form.Model) (items, rules map[string]string) {
	items, rules = map[string]string{}, map[string]string{}
	m.Walk(func(it *form.Item, _ *form.Item) bool {
		label := it.Label
		if label == "" {
			label = it.Name
		}
		items[it.Key()] = label + " (" + it.ID + " " + it.Version + ")"
		return true
	})
	for _, r := range m.Rules {
		name := r.Name
		if name == "" {
			name = r.ID
		}
		rules[r.ID+":"+r.Version] = name + " (" + r.ID + " " + r.Version + ")"
	}
	return items, rules
}

// diffForms compares m with its previous version.
func diffForms(m, prev *form.Model) *formDiff {
	d := &formDiff{Previous: prev.Version}
	ni, nr := elementKeys(m)
	oi, or := elementKeys(prev)
	only := func(a, b map[string]string) []string {
		var out []string
		for k, v := range a {
			if _, ok := b[k]; !ok {
				out = append(out, v)
			}
		}
		slices.Sort(out)
		if len(out) > formDiffMax {
			out, d.More = out[:formDiffMax], true
		}
		return out
	}
	d.Added, d.Removed = only(ni, oi), only(oi, ni)
	d.RulesAdded, d.RulesRemoved = only(nr, or), only(or, nr)
	return d
}

// serviceOption is a service a version can be activated for.
type serviceOption struct{ Key, Name string }

// codeListView is a code list the form uses.
type codeListView struct {
	Key, Name, Version, URI string
	Rows                    int
}

func (h *formsAdmin) detail(w http.ResponseWriter, r *http.Request) error {
	ars, err := h.allowed(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	id, version := r.PathValue("id"), versionFromPath(r.PathValue("version"))
	m, info, err := h.f.Store.FormIn(ctx, ars, id, version)
	if err != nil {
		return err
	}
	t, err := h.s.deps.Tenants.Tenant(ctx, ars)
	if err != nil {
		return err
	}
	d := formsDetailPage{Tenant: t, Model: m, Inherited: info.Tenant != ars, ImportedAt: info.ImportedAt,
		SchemaURL: schemaLink(ars, id, version), ListURL: formsBase(ars), Saved: r.URL.Query().Get("gespeichert") == "1", Replaced: r.URL.Query().Get("ersetzt") == "1",
		ActivateURL: formLink(ars, id, version) + "/aktivieren", Activated: r.URL.Query().Get("aktiviert") == "1"}
	if d.Inherited {
		d.From = h.s.tenantName(ctx, info.Tenant)
	}
	if bs, err := h.f.Store.FormBindingsIn(ctx, ars); err == nil {
		seen := map[string]bool{}
		for _, b := range bs {
			if seen[b.ServiceKey] {
				continue
			}
			seen[b.ServiceKey] = true
			if b.FormID != id {
				continue
			}
			name := b.ServiceKey
			if res, err := h.s.deps.Catalog.Resolve(ctx, ars, b.ServiceKey); err == nil {
				name = res.Service.Name + " (" + b.ServiceKey + ")"
			}
			if b.FormVersion == version {
				d.Active = append(d.Active, name)
			} else {
				d.Activatable = append(d.Activatable, serviceOption{Key: b.ServiceKey, Name: name})
			}
		}
	}
	if vs, err := h.f.Store.FormVersionsAt(ctx, info.Tenant, id); err == nil {
		for i, v := range vs { // newest first: the previous version follows
			if v.Version == version && i+1 < len(vs) {
				if prev, _, err := h.f.Store.FormIn(ctx, info.Tenant, id, vs[i+1].Version); err == nil {
					d.Diff = diffForms(m, prev)
					d.Diff.PreviousURL = formLink(ars, id, prev.Version)
				}
				break
			}
		}
	}
	describeForm(&d, m)
	h.s.render(w, r, http.StatusOK, "forms_admin_detail", d)
	return nil
}

// describeForm fills the parts of the detail page that come from the
// model alone: steps with their groups, rules not recognised, code lists.
func describeForm(d *formsDetailPage, m *form.Model) {
	c := m.Count()
	d.Fields, d.Groups, d.Recognised = c.Fields, c.Groups, m.RulesRecognised()
	for _, st := range m.Steps() {
		sv := formStepView{Title: st.Title}
		for i := range st.Items {
			countStep(&st.Items[i], &sv, 0)
		}
		d.Steps = append(d.Steps, sv)
	}
	for _, ru := range m.Rules {
		if !ru.Recognised() {
			d.Unrecognised = append(d.Unrecognised, ru)
		}
	}
	keys := make([]string, 0, len(m.CodeLists))
	for k := range m.CodeLists {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		cl := m.CodeLists[k]
		name := cl.LongName
		if name == "" {
			name = cl.ShortName
		}
		if name == "" {
			name = k
		}
		d.CodeLists = append(d.CodeLists, codeListView{Key: k, Name: name, Version: cl.Version, URI: cl.CanonicalVersionURI, Rows: len(cl.Rows)})
	}
}

// countStep collects the groups (one level below the step, and the step's
// own group) and counts the fields of a step.
func countStep(it *form.Item, sv *formStepView, depth int) {
	if it.Kind == form.KindGroup {
		if depth == 1 {
			label := it.Label
			if label == "" {
				label = it.Name
			}
			sv.Groups = append(sv.Groups, label)
		}
		for i := range it.Items {
			countStep(&it.Items[i], sv, depth+1)
		}
		return
	}
	if it.Input() {
		sv.Fields++
	}
}

// activate makes the version the one new applications of a service get in
// {ars}: a rollback to an older version, or pinning an inherited one.
// The service must use this form already (as its nearest binding).
func (h *formsAdmin) activate(w http.ResponseWriter, r *http.Request) error {
	ars, err := h.allowed(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "Das Formular konnte nicht gelesen werden.")
	}
	ctx := r.Context()
	id, version, service := r.PathValue("id"), versionFromPath(r.PathValue("version")), strings.TrimSpace(r.PostForm.Get("service"))
	if !validKey(service) {
		return rathaus.Errorf(rathaus.EINVALID, "Feld service: bitte eine Leistung wählen.")
	}
	ref, err := h.f.Store.Binding(ctx, ars, service)
	if err != nil && rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
		return err
	}
	if err != nil || ref.ID != id {
		return rathaus.Errorf(rathaus.EINVALID, "Feld service: die Leistung %s nutzt das Formular %s hier nicht.", service, id)
	}
	actor := ""
	if p := h.s.principal(r); p != nil && p.User != nil {
		actor = p.User.ID
	}
	if err := h.f.Store.ActivateForm(ctx, actor, ars, service, id, version); err != nil {
		return err
	}
	http.Redirect(w, r, formLink(ars, id, version)+"?aktiviert=1", http.StatusSeeOther)
	return nil
}

func (h *formsAdmin) schema(w http.ResponseWriter, r *http.Request) error {
	ars, err := h.allowed(r)
	if err != nil {
		return err
	}
	m, _, err := h.f.Store.FormIn(r.Context(), ars, r.PathValue("id"), versionFromPath(r.PathValue("version")))
	if err != nil {
		return err
	}
	b, err := m.JSONSchema()
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "JSON Schema of %s %s", m.ID, m.Version)
	}
	name := safeFileName(m.ID + "-" + m.Version + ".schema.json")
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
	return nil
}

// safeFileName keeps letters, digits, '.', '-' and '_' of s.
func safeFileName(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, s)
}

func (h *formsAdmin) upload(w http.ResponseWriter, r *http.Request) error {
	ars, err := h.allowed(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// fail shows the list with the upload's error; serviceBad names the
	// service key as the field in error, else the files.
	fail := func(service string, serviceBad bool, msg string) error {
		d, err := h.listPage(r, ars, 1)
		if err != nil {
			return err
		}
		d.Upload.Service, d.Upload.Errors, d.Upload.ServiceBad = service, []string{msg}, serviceBad
		h.s.render(w, r, http.StatusUnprocessableEntity, "forms_admin", d)
		return nil
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		if strings.Contains(err.Error(), "too large") {
			return fail("", false, h.s.tr(r, "forms.upload.toolarge", "MB", h.f.MaxUploadBytes>>20))
		}
		return fail("", false, h.s.tr(r, "forms.upload.unreadable"))
	}
	defer r.MultipartForm.RemoveAll()
	service := strings.TrimSpace(r.PostFormValue("service"))
	if !validKey(service) {
		return fail(service, true, h.s.tr(r, "forms.upload.noservice"))
	}
	_, err = h.s.deps.Catalog.Resolve(ctx, ars, service)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return fail(service, true, h.s.tr(r, "forms.upload.unknownservice", "Key", service))
	} else if err != nil {
		return err
	}
	files, err := readUploads(r.MultipartForm.File["dateien"])
	if err != nil {
		return fail(service, false, rathaus.ErrorMessage(err))
	}
	m, err := ParseFIMUpload(files)
	if err != nil {
		return fail(service, false, rathaus.ErrorMessage(err))
	}
	if r.PostFormValue("aktion") == "pruefen" {
		return h.check(w, r, ars, service, m)
	}
	actor := ""
	if p := h.s.principal(r); p != nil && p.User != nil {
		actor = p.User.ID
	}
	replaced, err := h.f.Store.AttachForm(ctx, actor, ars, service, m)
	if err != nil {
		return err
	}
	next := formLink(ars, m.ID, m.Version) + "?gespeichert=1"
	if replaced {
		next += "&ersetzt=1"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// check shows an upload as its detail page without storing anything:
// counts, warnings, rules not recognised, and what changes against the
// version the service uses now.
func (h *formsAdmin) check(w http.ResponseWriter, r *http.Request, ars, service string, m *form.Model) error {
	ctx := r.Context()
	t, err := h.s.deps.Tenants.Tenant(ctx, ars)
	if err != nil {
		return err
	}
	d := formsDetailPage{Tenant: t, Model: m, ListURL: formsBase(ars), Checked: true,
		Upload: formsUploadForm{Action: formsBase(ars), Service: service}}
	describeForm(&d, m)
	if ref, err := h.f.Store.Binding(ctx, ars, service); err == nil && ref.ID == m.ID {
		if prev, _, err := h.f.Store.FormIn(ctx, ars, ref.ID, ref.Version); err == nil {
			d.Diff = diffForms(m, prev)
			d.Diff.PreviousURL = formLink(ars, ref.ID, ref.Version)
		}
	}
	h.s.render(w, r, http.StatusOK, "forms_admin_detail", d)
	return nil
}

// UploadFile is one uploaded file: its name and content.
type UploadFile struct {
	Name string
	Data []byte
}

// readUploads reads the multipart files and unpacks zip archives
// (UnpackUploads).
func readUploads(fhs []*multipart.FileHeader) ([]UploadFile, error) {
	var in []UploadFile
	for _, fh := range fhs {
		name := path.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
		f, err := fh.Open()
		if err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: Datei nicht lesbar (cannot read file)", name)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: Datei nicht lesbar (cannot read file)", name)
		}
		if len(data) == 0 && name == "." {
			continue // no file chosen
		}
		in = append(in, UploadFile{Name: name, Data: data})
	}
	return UnpackUploads(in)
}

// maxUnpacked bounds the uncompressed size of all zip entries of an upload.
const maxUnpacked = 64 << 20

// UnpackUploads replaces every zip archive among files (by its .zip name
// or its signature) with its *.xml entries, named "archive.zip/path"; at
// most formsZipEntries entries and maxUnpacked bytes uncompressed.
func UnpackUploads(files []UploadFile) ([]UploadFile, error) {
	var out []UploadFile
	var total int64
	for _, f := range files {
		if !strings.EqualFold(path.Ext(f.Name), ".zip") && !bytes.HasPrefix(f.Data, []byte("PK\x03\x04")) {
			out = append(out, f)
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(f.Data), int64(len(f.Data)))
		if err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: kein lesbares ZIP-Archiv (not a readable zip file)", f.Name)
		}
		n := 0
		for _, zf := range zr.File {
			if zf.FileInfo().IsDir() || !strings.EqualFold(path.Ext(zf.Name), ".xml") {
				continue
			}
			if n++; n > formsZipEntries {
				return nil, rathaus.Errorf(rathaus.EINVALID, "%s: mehr als %d XML-Dateien (too many files)", f.Name, formsZipEntries)
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, rathaus.Errorf(rathaus.EINVALID, "%s: %s nicht lesbar (cannot read entry)", f.Name, zf.Name)
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxUnpacked-total+1))
			rc.Close()
			if err != nil {
				return nil, rathaus.Errorf(rathaus.EINVALID, "%s: %s nicht lesbar (cannot read entry)", f.Name, zf.Name)
			}
			if total += int64(len(b)); total > maxUnpacked {
				return nil, rathaus.Errorf(rathaus.EINVALID, "%s: entpackt größer als %d MB (uncompressed too large)", f.Name, maxUnpacked>>20)
			}
			out = append(out, UploadFile{Name: f.Name + "/" + strings.TrimPrefix(path.Clean("/"+zf.Name), "/"), Data: b})
		}
	}
	return out, nil
}

// ParseFIMUpload parses the files a designer uploads: exactly one
// XDatenfelder 2.0/3.0.0 schema and any genericode code lists, with
// fim.Parse as `rathaus import fim` (fim.LoadFile) does. Errors name the
// file, line and column; only xdf2 and xdf3 are accepted.
func ParseFIMUpload(files []UploadFile) (*form.Model, error) {
	var schemas []UploadFile
	lists := map[string][]byte{}
	for _, f := range files {
		if fim.IsCodeList(f.Data) {
			lists[f.Name] = f.Data
			continue
		}
		schemas = append(schemas, f)
	}
	switch len(schemas) {
	case 0:
		return nil, rathaus.Errorf(rathaus.EINVALID, "Kein XDatenfelder-Schema hochgeladen; bitte die Schema-Datei (XML) auswählen (no schema uploaded)")
	case 1:
	default:
		names := make([]string, len(schemas))
		for i, s := range schemas {
			names[i] = s.Name
		}
		return nil, rathaus.Errorf(rathaus.EINVALID, "Mehrere Dateien sind keine Codelisten (%s); bitte genau ein Schema hochladen (more than one schema)", strings.Join(names, ", "))
	}
	m, err := fim.Parse(schemas[0].Data, fim.Options{Name: schemas[0].Name, CodeLists: lists})
	if err != nil {
		return nil, err
	}
	if m.Format != form.FormatXDF2 && m.Format != form.FormatXDF3 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "%s: nur XDatenfelder 2.0 und 3.0.0 werden importiert (format %q)", schemas[0].Name, m.Format)
	}
	if m.ID == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "%s: Schema ohne Kennung (schema has no id)", schemas[0].Name)
	}
	return m, nil
}
