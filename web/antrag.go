// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"rathaus"
	"rathaus/audit"
	"rathaus/catalog"
	"rathaus/form"
	"rathaus/identity"
	"rathaus/receipt"
	"rathaus/scan"
	"rathaus/submission"
	"rathaus/tenant"
)

// FormFeature mounts the online applications (/antrag/…): the start page
// of a service, one page per step of its FIM form (or the universal
// application), drafts (logged-in citizens resume from "Meine Anträge",
// anonymous ones with a one-time link), uploads (size and type limits from
// the schema, content sniffing, virus scan, sealed by the vault),
// check-your-answers, idempotent submit, the receipt page and PDF. Add it to
// Deps.Features.
type FormFeature struct {
	Intake *submission.Service
	Forms  submission.FormStore
	// Sealer encrypts staged uploads and receipt tokens (the vault).
	Sealer submission.Sealer
	// Scanner checks uploads; nil means scan.Nop.
	Scanner scan.Scanner
	// AllowAnonymous reports whether a service may be applied for without
	// login; nil allows every service.
	AllowAnonymous func(serviceKey string) bool
	// OnSubmitted is called after an application of a logged-in citizen is
	// durable, with the receipt PDF (hook for the mailbox copy). Its error
	// is logged, not shown.
	OnSubmitted func(ctx context.Context, app *submission.Application, receiptPDF []byte) error
	// MaxUploadBytes bounds one step's request body; default 25 MiB.
	MaxUploadBytes int64
	// Store is the intake's store; the tenant-isolation probes use it to
	// create a draft and an application with the same id in tenant A and
	// tenant B. Optional: without it the draft and receipt routes declare
	// no probe and the route check fails, so wire it.
	Store submission.Store
}

const (
	draftCookie   = "antrag"
	receiptCookie = "antrag_eingang"
)

// Register adds the routes of the online applications.
func (f FormFeature) Register(s *Server) {
	if f.Scanner == nil {
		f.Scanner = scan.Nop
	}
	if f.MaxUploadBytes <= 0 {
		f.MaxUploadBytes = 25 << 20
	}
	h := newAntrag(s, f)
	pubNT := "form start page of a catalog service; resolved for the visitor's own municipality choice, never for a tenant named in the URL"
	s.Route("GET /antrag/{key}", HandlerFunc(h.start), Meta{Scope: ScopePublic, Personal: true, Example: "/antrag/unbekannt", NotTenantScoped: pubNT})
	s.Route("POST /antrag/{key}", HandlerFunc(h.create), Meta{Scope: ScopePublic, Personal: true, RateLimit: true, Example: "/antrag/unbekannt", NotTenantScoped: pubNT})
	s.Route("GET /antrag/entwuerfe", HandlerFunc(h.drafts), Meta{Scope: ScopeCitizen, Personal: true})
	s.Route("GET /antrag/fortsetzen", HandlerFunc(h.resume), Meta{Scope: ScopePublic, Personal: true, RateLimit: true})
	s.Route("GET /antrag/entwurf/{ars}/{id}/{step}", HandlerFunc(h.stepGet), Meta{Scope: ScopePublic, Personal: true,
		Example: "/antrag/entwurf/000000000000/none/1", Isolation: h.isolateDraft(http.MethodGet)})
	s.Route("POST /antrag/entwurf/{ars}/{id}/{step}", HandlerFunc(h.stepPost), Meta{Scope: ScopePublic, Personal: true, MaxBodyBytes: f.MaxUploadBytes,
		Example: "/antrag/entwurf/000000000000/none/1", Isolation: h.isolateDraft(http.MethodPost)})
	s.Route("GET /antrag/eingang/{ars}/{id}", HandlerFunc(h.receipt), Meta{Scope: ScopePublic, Personal: true,
		Example: "/antrag/eingang/000000000000/none", Isolation: h.isolateReceipt})
}

type antrag struct {
	s *Server
	f FormFeature

	models   *ttlCache[string, *form.Model] // ars "\x00" id "\x00" version
	tx       sync.Map                       // lang → *nodeTexts
	svcNames *ttlCache[string, string]      // tenant "\x00" service key → name
	stx      sync.Map                       // lang → *stepTexts
	progs    sync.Map                       // progressKey → "Schritt N von M"
}

// texts returns the control texts of a language (cached).
func (h *antrag) texts(lang string) *nodeTexts {
	if v, ok := h.tx.Load(lang); ok {
		return v.(*nodeTexts)
	}
	t := newNodeTexts(func(id string, kv ...any) string { return h.s.i18n.T(lang, id, kv...) })
	h.tx.Store(lang, t)
	return t
}

// newAntrag returns the form journey's handlers with empty caches.
func newAntrag(s *Server, f FormFeature) *antrag {
	return &antrag{s: s, f: f, models: newTTLCache[string, *form.Model](modelTTL, 1000), svcNames: newTTLCache[string, string](modelTTL, 5000)}
}

// model returns the form version id/version visible from ars (cached for
// modelTTL); the universal form for its id.
func (h *antrag) model(ctx context.Context, ars, id, version, lang string) (*form.Model, error) {
	if id == submission.UniversalFormID {
		return h.universal(lang), nil
	}
	return h.models.get(ars+"\x00"+id+"\x00"+version, func() (*form.Model, error) {
		return h.f.Forms.FormFor(ctx, ars, id, version)
	})
}

var universalModels sync.Map // lang → *form.Model

func (h *antrag) universal(lang string) *form.Model {
	if lang != "en" {
		lang = "de"
	}
	if m, ok := universalModels.Load(lang); ok {
		return m.(*form.Model)
	}
	m := submission.UniversalForm(lang)
	universalModels.Store(lang, m)
	return m
}

// formFor returns the form bound to a service for ars, else the universal form.
func (h *antrag) formFor(ctx context.Context, ars, key, lang string) (*form.Model, error) {
	ref, err := h.f.Forms.Binding(ctx, ars, key)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return h.universal(lang), nil
	}
	if err != nil {
		return nil, err
	}
	return h.model(ctx, ars, ref.ID, ref.Version, lang)
}

// ---- start ----

type startPage struct {
	Service    catalog.Service
	Tenant     string
	TenantName string
	Form       *form.Model
	Universal  bool
	Steps      []form.Step
	LoggedIn   bool
	Anonymous  bool
	Prefill    bool
	LoginURL   string
}

func (h *antrag) service(r *http.Request, key string) (*catalog.Resolved, string, error) {
	ars := h.s.municipality(r)
	if ars == "" {
		return nil, "", nil
	}
	res, err := h.s.deps.Catalog.Resolve(r.Context(), ars, key)
	if err != nil {
		return nil, ars, err
	}
	return res, ars, nil
}

func (h *antrag) start(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	res, ars, err := h.service(r, key)
	if err != nil {
		return err
	}
	if res == nil {
		http.Redirect(w, r, "/gemeinde?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	}
	lang := Lang(r.Context())
	m, err := h.formFor(r.Context(), ars, key, lang)
	if err != nil {
		return err
	}
	p := h.s.principal(r)
	pg := startPage{Service: res.Service, Tenant: ars, Form: m, Universal: m.ID == submission.UniversalFormID, Steps: m.Steps(),
		LoggedIn: p != nil, Anonymous: h.f.AllowAnonymous == nil || h.f.AllowAnonymous(key), Prefill: r.URL.Query().Get("prefill") != "0",
		LoginURL: "/auth/login?as=citizen&next=" + urlQueryEscape(r.URL.Path)}
	if t, err := h.s.deps.Tenants.Tenant(r.Context(), ars); err == nil {
		pg.TenantName = t.Name
	}
	h.s.render(w, r, http.StatusOK, "antrag_start", pg)
	return nil
}

func (h *antrag) create(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "Das Formular konnte nicht gelesen werden.")
	}
	key := r.PathValue("key")
	res, ars, err := h.service(r, key)
	if err != nil {
		return err
	}
	if res == nil {
		http.Redirect(w, r, "/gemeinde?next="+urlQueryEscape("/antrag/"+key), http.StatusSeeOther)
		return nil
	}
	p := h.s.principal(r)
	if p == nil && h.f.AllowAnonymous != nil && !h.f.AllowAnonymous(key) {
		http.Redirect(w, r, "/auth/login?as=citizen&next="+urlQueryEscape("/antrag/"+key), http.StatusSeeOther)
		return nil
	}
	lang := Lang(r.Context())
	m, err := h.formFor(r.Context(), ars, key, lang)
	if err != nil {
		return err
	}
	ans := map[string]any{}
	in := submission.DraftInput{Tenant: ars, ServiceKey: key, FormID: m.ID, FormVersion: m.Version, Step: "1"}
	if p != nil {
		in.UserID = p.User.ID
		if r.PostForm.Get("prefill") == "1" {
			prefill(m, ans, p.User.Profile, m.ID == submission.UniversalFormID)
		}
	}
	in.Answers = ans
	d, token, err := h.f.Intake.SaveDraft(r.Context(), in)
	if err != nil {
		return err
	}
	h.setDraftCookie(w, d.ID, token)
	http.Redirect(w, r, stepURL(d, "1"), http.StatusSeeOther)
	return nil
}

func stepURL(d *submission.Draft, step string) string {
	return "/antrag/entwurf/" + d.Tenant + "/" + d.ID + "/" + step
}

func (h *antrag) setDraftCookie(w http.ResponseWriter, id, token string) {
	if token == "" {
		return
	}
	c := h.s.cookie(draftCookie, id+"."+token, 0)
	c.Path = "/antrag"
	http.SetCookie(w, c)
}

func (h *antrag) clearCookie(w http.ResponseWriter, name string) {
	c := h.s.cookie(name, "", -1)
	c.Path = "/antrag"
	http.SetCookie(w, c)
}

// ---- drafts ----

// openDraft loads the draft of the request: a logged-in citizen's own, or
// the anonymous draft whose current token is in the cookie (the token is
// rotated; the new one is returned and must be put into the cookie).
func (h *antrag) openDraft(r *http.Request, ars, id string) (*submission.Draft, string, error) {
	if !tenant.ValidARS(ars) || id == "" || len(id) > 64 {
		return nil, "", errNotFound
	}
	if p := h.s.principal(r); p != nil {
		d, err := h.f.Intake.Draft(r.Context(), ars, id, p.User.ID)
		if err == nil || rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
			return d, "", err
		}
	}
	c, err := r.Cookie(draftCookie)
	if err != nil {
		return nil, "", errNotFound
	}
	cid, token, ok := strings.Cut(c.Value, ".")
	if !ok || cid != id {
		return nil, "", errNotFound
	}
	d, next, err := h.f.Intake.ResumeDraft(r.Context(), ars, token)
	if err != nil {
		return nil, "", err
	}
	if d.ID != id {
		return nil, "", errNotFound
	}
	return d, next, nil
}

func (h *antrag) draftModel(r *http.Request, d *submission.Draft) (*form.Model, error) {
	return h.model(r.Context(), d.Tenant, d.FormID, d.FormVersion, Lang(r.Context()))
}

type draftItem struct {
	Draft   submission.Draft
	Service string
	Tenant  string
	URL     string
}

type draftsPage struct {
	Drafts []draftItem
	Saved  bool
}

func (h *antrag) drafts(w http.ResponseWriter, r *http.Request) error {
	p := h.s.principal(r)
	ds, err := h.f.Forms.DraftsOf(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	pg := draftsPage{Saved: r.URL.Query().Get("gespeichert") == "1"}
	for _, d := range ds {
		it := draftItem{Draft: d, Service: d.ServiceKey, URL: stepURL(&d, cmpStep(d.Step))}
		if res, err := h.s.deps.Catalog.Resolve(r.Context(), d.Tenant, d.ServiceKey); err == nil {
			it.Service = res.Service.Name
		}
		if t, err := h.s.deps.Tenants.Tenant(r.Context(), d.Tenant); err == nil {
			it.Tenant = t.Name
		}
		pg.Drafts = append(pg.Drafts, it)
	}
	h.s.render(w, r, http.StatusOK, "antrag_entwuerfe", pg)
	return nil
}

func cmpStep(s string) string {
	if s == "" {
		return "1"
	}
	return s
}

func (h *antrag) resume(w http.ResponseWriter, r *http.Request) error {
	ars, token := r.URL.Query().Get("ars"), r.URL.Query().Get("t")
	if !tenant.ValidARS(ars) || token == "" {
		return errNotFound
	}
	d, next, err := h.f.Intake.ResumeDraft(r.Context(), ars, token)
	if err != nil {
		return err
	}
	h.setDraftCookie(w, d.ID, next)
	http.Redirect(w, r, stepURL(d, cmpStep(d.Step)), http.StatusSeeOther)
	return nil
}

// ---- steps ----

type stepPage struct {
	Draft       *submission.Draft
	Form        *form.Model
	ServiceName string
	N, Total    int
	Title, Help string
	Nodes       []nodeView
	Errors      []errLink
	Multipart   bool
	Action      string
	Notice      string
	Rules       string
	LoggedIn    bool
	X           *stepTexts // the page's fixed texts in its language
	Progress    string     // "Schritt N von M"
}

type errLink struct {
	Href, Message string
}

type checkPage struct {
	Draft       *submission.Draft
	ServiceName string
	Steps       []checkStep
	Errors      []errLink
	Key         string
	Action      string
	Attachments []submission.StagedUpload
}

type checkStep struct {
	N     int
	Title string
	Rows  []checkRow
	URL   string
}

type checkRow struct {
	Label, Value string
	Depth        int
}

type savedPage struct {
	Link        string
	ServiceName string
}

// serviceName returns the name of the draft's service as its tenant sees
// it (cached for modelTTL: every step page shows it).
func (h *antrag) serviceName(r *http.Request, d *submission.Draft) string {
	name, err := h.svcNames.get(d.Tenant+"\x00"+d.ServiceKey, func() (string, error) {
		res, err := h.s.deps.Catalog.Resolve(r.Context(), d.Tenant, d.ServiceKey)
		if err != nil {
			return "", err
		}
		return res.Service.Name, nil
	})
	if err != nil {
		return d.ServiceKey
	}
	return name
}

func (h *antrag) stepGet(w http.ResponseWriter, r *http.Request) error {
	d, token, err := h.openDraft(r, r.PathValue("ars"), r.PathValue("id"))
	if err != nil {
		return err
	}
	h.setDraftCookie(w, d.ID, token)
	m, err := h.draftModel(r, d)
	if err != nil {
		return err
	}
	step := r.PathValue("step")
	if step == "pruefen" {
		return h.check(w, r, d, m, nil)
	}
	n, err := h.stepNo(step, m)
	if err != nil {
		return err
	}
	h.renderStep(w, r, http.StatusOK, d, m, n, stepCtx{}, nil, "")
	return nil
}

func (h *antrag) stepNo(step string, m *form.Model) (int, error) {
	n, err := strconv.Atoi(step)
	if err != nil || n < 1 || n > len(infoOf(m).steps) {
		return 0, errNotFound
	}
	return n, nil
}

func (h *antrag) renderStep(w http.ResponseWriter, r *http.Request, status int, d *submission.Draft, m *form.Model, n int, sc stepCtx, errs []form.FieldError, notice string) {
	mi := infoOf(m)
	steps := mi.steps
	st := steps[n-1]
	lang := Lang(r.Context())
	sc.m, sc.lang = m, lang
	sc.tx = h.texts(lang)
	if sc.errs == nil {
		sc.errs = map[string]string{}
	}
	var links []errLink
	for _, e := range errs {
		msg := e.Message
		if lang == "en" && e.MessageEN != "" {
			msg = e.MessageEN
		}
		if _, dup := sc.errs[e.Path]; !dup {
			sc.errs[e.Path] = msg
		}
	}
	ans := map[string]any(d.Answers)
	if ans == nil {
		ans = map[string]any{}
	}
	if p := h.s.principal(r); p != nil {
		sc.prefill = prefilledPaths(m, ans, p.User.Profile, m.ID == submission.UniversalFormID)
	}
	pg := stepPage{Draft: d, Form: m, ServiceName: h.serviceName(r, d), N: n, Total: len(steps), Title: st.Title, Help: st.Help,
		Action: stepURL(d, strconv.Itoa(n)), Notice: notice, LoggedIn: h.s.principal(r) != nil, Rules: mi.rootJSON,
		X: h.stepTexts(lang), Progress: h.progress(lang, n, len(steps))}
	pg.Nodes = sc.buildStep(st, ans)
	// Error summary in document order of the fields.
	seen := map[string]bool{}
	var walk func(ns []nodeView)
	add := func(path, id, fallback string) bool {
		if msg, ok := sc.errs[path]; ok && !seen[path] {
			seen[path] = true
			links = append(links, errLink{Href: "#" + id, Message: fallback + ": " + msg})
			return true
		}
		return false
	}
	walk = func(ns []nodeView) {
		for _, nv := range ns {
			switch {
			case nv.Field != nil:
				id := nv.Field.ID
				if (nv.Field.Control == "radio" || nv.Field.Control == "bool") && len(nv.Field.Options) > 0 {
					id = nv.Field.Options[0].ID // the first radio takes the focus
				}
				add(nv.Field.Path, id, nv.Field.Label)
			case nv.Repeated != nil:
				add(nv.Repeated.Path, nv.Repeated.ID, nv.Repeated.Label)
				for _, f := range nv.Repeated.Items {
					add(f.Path, f.ID, f.Label)
				}
			case nv.Group != nil:
				add(nv.Group.Path, nv.Group.ID, nv.Group.Legend)
				for _, in := range nv.Group.Instances {
					add(in.Path, nv.Group.ID, nv.Group.Legend)
					walk(in.Nodes)
				}
			}
		}
	}
	walk(pg.Nodes)
	for _, e := range errs { // errors of elements not shown (form-level rules, hidden elements)
		if !seen[e.Path] {
			seen[e.Path] = true
			msg := sc.errs[e.Path]
			if it := itemAt(m, e.Path); it != nil {
				msg = label(it) + ": " + msg
			}
			h.s.logger(r).InfoContext(r.Context(), "step error outside the page", "path", e.Path, "code", e.Code)
			links = append(links, errLink{Href: "#schritt", Message: msg})
		}
	}
	pg.Errors = links
	pg.Multipart = hasFile(st.Items)
	title := pg.Title + " – " + pg.ServiceName
	if len(pg.Errors) > 0 {
		title = pg.X.ErrorsPrefix + " " + title
	}
	body := getHW()
	body.stepContent(&pg)
	h.s.renderFramed(w, r, status, "antrag_step", title, body.Bytes())
	putHW(body)
}

func hasFile(items []form.Item) bool {
	for _, it := range items {
		if it.Kind == form.KindGroup && hasFile(it.Items) {
			return true
		}
		if it.Kind == form.KindField && (it.Datentyp == form.TypFile || it.Datentyp == form.TypObj) && it.Feldart == form.FeldInput {
			return true
		}
	}
	return false
}

// prefilledPaths are the fields whose value came from (and still equals)
// the citizen's profile: they are marked for confirmation.
func prefilledPaths(m *form.Model, ans map[string]any, p identity.Profile, universal bool) map[string]bool {
	probe := map[string]any{}
	filled := prefill(m, probe, p, universal)
	out := map[string]bool{}
	for path := range filled {
		if v, ok := getPath(m, ans, path); ok && scalar(v) == scalar(mustGet(m, probe, path)) {
			out[path] = true
		}
	}
	return out
}

func mustGet(m *form.Model, ans map[string]any, path string) any {
	v, _ := getPath(m, ans, path)
	return v
}

// pathSeg is one segment of an answer path: id and index (-1 for none).
type pathSeg struct {
	id string
	i  int
}

func splitPath(path string) []pathSeg {
	var out []pathSeg
	for _, p := range strings.Split(path, ".") {
		seg := pathSeg{id: p, i: -1}
		if j := strings.IndexByte(p, '['); j > 0 && strings.HasSuffix(p, "]") {
			if n, err := strconv.Atoi(p[j+1 : len(p)-1]); err == nil && n >= 0 && n < 1000 {
				seg = pathSeg{id: p[:j], i: n}
			}
		}
		out = append(out, seg)
	}
	return out
}

func itemByID(items []form.Item, id string) *form.Item {
	for i := range items {
		if items[i].ID == id {
			return &items[i]
		}
	}
	return nil
}

func getPath(m *form.Model, ans map[string]any, path string) (any, bool) {
	items := m.Root
	var cur any = ans
	for _, seg := range splitPath(path) {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		it := itemByID(items, seg.id)
		if it == nil {
			return nil, false
		}
		cur = obj[seg.id]
		if it.Repeatable() {
			arr, _ := cur.([]any)
			if seg.i < 0 || seg.i >= len(arr) {
				return nil, false
			}
			cur = arr[seg.i]
		}
		items = it.Items
	}
	return cur, cur != nil
}

// setPath sets (val != nil) or removes (val == nil) the answer at path,
// creating groups and arrays on the way as the model says.
func setPath(m *form.Model, ans map[string]any, path string, val any) bool {
	segs := splitPath(path)
	items := m.Root
	obj := ans
	for k, seg := range segs {
		it := itemByID(items, seg.id)
		if it == nil {
			return false
		}
		last := k == len(segs)-1
		if it.Repeatable() {
			arr, _ := obj[seg.id].([]any)
			if seg.i < 0 || seg.i > len(arr) {
				return false
			}
			if last {
				switch {
				case val == nil && seg.i < len(arr):
					arr = slices.Delete(arr, seg.i, seg.i+1)
				case val == nil:
				case seg.i == len(arr):
					arr = append(arr, val)
				default:
					arr[seg.i] = val
				}
				if len(arr) == 0 {
					delete(obj, seg.id)
				} else {
					obj[seg.id] = arr
				}
				return true
			}
			if seg.i == len(arr) {
				arr = append(arr, map[string]any{})
				obj[seg.id] = arr
			}
			next, ok := arr[seg.i].(map[string]any)
			if !ok {
				next = map[string]any{}
				arr[seg.i] = next
			}
			obj, items = next, it.Items
			continue
		}
		if last {
			if val == nil {
				delete(obj, seg.id)
			} else {
				obj[seg.id] = val
			}
			return true
		}
		next, ok := obj[seg.id].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[seg.id] = next
		}
		obj, items = next, it.Items
	}
	return false
}

func cloneAnswers(a form.Answers) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = cloneAny(v)
	}
	return out
}

func cloneAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneAny(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneAny(e)
		}
		return out
	}
	return v
}

func (h *antrag) stepPost(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	var perr error
	if strings.HasPrefix(ct, "multipart/form-data") {
		perr = r.ParseMultipartForm(8 << 20)
	} else {
		perr = r.ParseForm()
	}
	if perr != nil {
		var mbe *http.MaxBytesError
		if errors.As(perr, &mbe) {
			return rathaus.Errorf(rathaus.EINVALID, "Die Dateien sind zusammen zu groß (höchstens %d MB je Schritt).", h.f.MaxUploadBytes>>20)
		}
		return rathaus.Errorf(rathaus.EINVALID, "Das Formular konnte nicht gelesen werden.")
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	d, token, err := h.openDraft(r, r.PathValue("ars"), r.PathValue("id"))
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND && r.PathValue("step") == "absenden" {
		return h.replay(w, r, r.PathValue("ars"), r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	m, err := h.draftModel(r, d)
	if err != nil {
		h.setDraftCookie(w, d.ID, token)
		return err
	}
	if r.PathValue("step") == "absenden" {
		return h.submit(w, r, d, token, m)
	}
	n, err := h.stepNo(r.PathValue("step"), m)
	if err != nil {
		h.setDraftCookie(w, d.ID, token)
		return err
	}
	st := m.Steps()[n-1]
	action := r.PostForm.Get("action")
	ans := cloneAnswers(d.Answers)
	counts := map[string]int{}
	parseStep(m, st, r.PostForm, ans, counts)
	sc := stepCtx{counts: map[string]int{}, filters: map[string]string{}, errs: map[string]string{}}
	for k, vs := range r.PostForm {
		if p, ok := strings.CutPrefix(k, "count:"); ok && len(vs) > 0 {
			if c, err := strconv.Atoi(vs[0]); err == nil && c >= 0 && c <= 200 {
				sc.counts[p] = c
			}
		}
		if p, ok := strings.CutPrefix(k, "filter:"); ok && len(vs) > 0 {
			sc.filters[p] = vs[0]
		}
	}
	switch verb, arg, _ := strings.Cut(action, ":"); verb {
	case "add":
		sc.counts[arg]++
		if sc.counts[arg] < 2 {
			sc.counts[arg] = 2
		}
	case "remove":
		if i := strings.LastIndexByte(arg, '['); i > 0 {
			base := arg[:i]
			if v, ok := getPath(m, ans, arg); ok || v == nil {
				setPath(m, ans, arg, nil)
			}
			if c, ok := sc.counts[base]; ok && c > 0 {
				sc.counts[base] = c - 1
			}
		}
	case "delfile":
		if v, ok := getPath(m, ans, arg); ok {
			if obj, ok := v.(map[string]any); ok {
				if id, _ := obj["id"].(string); id != "" {
					_ = h.f.Forms.DeleteUpload(r.Context(), d.Tenant, d.ID, id)
				}
			}
			setPath(m, ans, arg, nil)
		}
	}
	// Uploads.
	var upErrs []form.FieldError
	if r.MultipartForm != nil {
		for path, fhs := range r.MultipartForm.File {
			if len(fhs) == 0 || fhs[0].Size == 0 && fhs[0].Filename == "" {
				continue
			}
			it := fileItem(m, path)
			if it == nil {
				continue
			}
			if countFiles(ans) >= maxDraftFiles {
				upErrs = append(upErrs, form.FieldError{Path: path, Code: "upload",
					Message:   fmt.Sprintf("Höchstens %d Dateien je Antrag.", maxDraftFiles),
					MessageEN: fmt.Sprintf("At most %d files per application.", maxDraftFiles)})
				continue
			}
			v, ferr := h.upload(r, d, it, path, fhs[0])
			if ferr != nil {
				if rathaus.ErrorCode(ferr) != rathaus.EINVALID && rathaus.ErrorCode(ferr) != rathaus.EUNAVAILABLE {
					return ferr
				}
				upErrs = append(upErrs, form.FieldError{Path: path, Code: "upload", Message: rathaus.ErrorMessage(ferr), MessageEN: rathaus.ErrorMessage(ferr)})
				continue
			}
			if old, ok := getPath(m, ans, path); ok { // a new file replaces the old one
				if obj, ok := old.(map[string]any); ok {
					if id, _ := obj["id"].(string); id != "" {
						_ = h.f.Forms.DeleteUpload(r.Context(), d.Tenant, d.ID, id)
					}
				}
			}
			setPath(m, ans, path, v)
		}
	}
	beforeHidden, _ := conditions(m, map[string]any(d.Answers))
	dropHidden(m, ans)
	stepName := strconv.Itoa(n)
	if action == "weiter" && n < len(m.Steps()) {
		stepName = strconv.Itoa(n + 1)
	}
	if action == "zurueck" && n > 1 {
		stepName = strconv.Itoa(n - 1)
	}
	in := submission.DraftInput{Tenant: d.Tenant, ID: d.ID, ServiceKey: d.ServiceKey, FormID: d.FormID, FormVersion: d.FormVersion,
		Answers: ans, Step: stepName, ResumeToken: token}
	if p := h.s.principal(r); p != nil && d.OwnerUserID != "" {
		in.UserID = p.User.ID
	}
	nd, next, err := h.f.Intake.SaveDraft(r.Context(), in)
	if err != nil {
		return err
	}
	nd.Answers = ans
	switch action {
	case "speichern":
		if nd.OwnerUserID != "" {
			http.Redirect(w, r, "/antrag/entwuerfe?gespeichert=1", http.StatusSeeOther)
			return nil
		}
		h.clearCookie(w, draftCookie)
		link := h.s.cfg.BaseURL + "/antrag/fortsetzen?ars=" + nd.Tenant + "&t=" + next
		h.s.render(w, r, http.StatusOK, "antrag_saved", savedPage{Link: link, ServiceName: h.serviceName(r, nd)})
		return nil
	case "zurueck":
		h.setDraftCookie(w, nd.ID, next)
		http.Redirect(w, r, stepURL(nd, stepName), http.StatusSeeOther)
		return nil
	}
	h.setDraftCookie(w, nd.ID, next)
	if action != "weiter" {
		h.renderStep(w, r, http.StatusOK, nd, m, n, sc, upErrs, "")
		return nil
	}
	// No JavaScript: fields of this step that a condition just revealed are
	// shown (without errors) before the step is checked.
	afterHidden, _ := conditions(m, ans)
	if r.PostForm.Get("js") != "1" && revealed(st, beforeHidden, afterHidden) {
		h.renderStep(w, r, http.StatusOK, nd, m, n, sc, nil, h.s.tr(r, "antrag.revealed"))
		return nil
	}
	ids := make([]string, 0, len(st.Items))
	for _, it := range st.Items {
		ids = append(ids, it.ID)
	}
	// Missing required groups are validated as empty ones, so that the
	// summary names their required fields rather than the whole group.
	probe := cloneAnswers(form.Answers(ans))
	openRequired(st.Items, probe)
	errs := append(upErrs, m.Validate(form.Answers(probe), form.ValidateOptions{Items: ids})...)
	if len(errs) > 0 {
		h.renderStep(w, r, http.StatusUnprocessableEntity, nd, m, n, sc, errs, "")
		return nil
	}
	if n == len(m.Steps()) {
		http.Redirect(w, r, stepURL(nd, "pruefen"), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, stepURL(nd, stepName), http.StatusSeeOther)
	return nil
}

// maxDraftFiles bounds the uploads of one draft (the intake takes 50).
const maxDraftFiles = 50

// countFiles counts the uploaded files in the answers.
func countFiles(v any) int {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["mediaType"]; ok {
			if _, ok := x["id"]; ok {
				return 1
			}
		}
		n := 0
		for _, e := range x {
			n += countFiles(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += countFiles(e)
		}
		return n
	}
	return 0
}

// openRequired puts an empty object in place of every missing required
// single group (recursively).
func openRequired(items []form.Item, obj map[string]any) {
	for i := range items {
		it := &items[i]
		if it.Kind != form.KindGroup || it.Repeatable() {
			continue
		}
		sub, ok := obj[it.ID].(map[string]any)
		if !ok {
			if it.Min < 1 || obj[it.ID] != nil {
				continue
			}
			sub = map[string]any{}
			obj[it.ID] = sub
		}
		openRequired(it.Items, sub)
	}
}

// revealed reports whether an element of the step was hidden before and
// is shown now.
func revealed(st form.Step, before, after map[string]bool) bool {
	for p := range before {
		if after[p] {
			continue
		}
		top := splitPath(p)[0].id
		for _, it := range st.Items {
			if it.ID == top {
				return true
			}
		}
	}
	return false
}

// fileItem returns the file field at an answer path.
func fileItem(m *form.Model, path string) *form.Item {
	items := m.Root
	var it *form.Item
	for _, seg := range splitPath(path) {
		it = itemByID(items, seg.id)
		if it == nil {
			return nil
		}
		items = it.Items
	}
	if it == nil || it.Kind != form.KindField || (it.Datentyp != form.TypFile && it.Datentyp != form.TypObj) {
		return nil
	}
	return it
}

// sanitizeFilename keeps the base name, drops control and path
// characters and bounds the length.
func sanitizeFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r), strings.ContainsRune(`/\:*?"<>|`, r), r == unicode.ReplacementChar:
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.Trim(strings.TrimSpace(b.String()), ".")
	if len([]rune(s)) > 120 {
		rs := []rune(s)
		ext := filepath.Ext(s)
		if len([]rune(ext)) > 10 {
			ext = ""
		}
		s = string(rs[:120-len([]rune(ext))]) + ext
	}
	if s == "" || s == "." {
		s = "datei"
	}
	return s
}

// sniffType recognises a file from its first bytes: the magic numbers of
// the common document types, else http.DetectContentType.
func sniffType(b []byte) string {
	if mt := submission.Sniff(b); mt != "" {
		return mt
	}
	switch {
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return "image/tiff"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "application/zip"
	}
	mt, _, _ := strings.Cut(http.DetectContentType(b), ";")
	return mt
}

// typesAgree reports whether a declared media type fits the sniffed one.
func typesAgree(declared, sniffed string) bool {
	if declared == sniffed {
		return true
	}
	switch sniffed {
	case "application/zip": // OOXML/ODF documents are zip files
		return strings.HasPrefix(declared, "application/vnd.") || declared == "application/zip"
	case "text/plain":
		return strings.HasPrefix(declared, "text/") || declared == "application/xml" || declared == "application/json"
	case "application/octet-stream":
		return !slices.Contains([]string{"application/pdf", "image/jpeg", "image/png", "image/gif", "image/tiff"}, declared)
	}
	return false
}

// upload checks, scans, seals and stages one file; it returns the answer
// value of the file field.
func (h *antrag) upload(r *http.Request, d *submission.Draft, it *form.Item, path string, fh *multipart.FileHeader) (map[string]any, error) {
	name := sanitizeFilename(fh.Filename)
	max := int64(10 << 20)
	if it.MaxSize > 0 {
		max = it.MaxSize * 1024
	}
	if fh.Size > max {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Die Datei „%s“ ist zu groß (höchstens %d KB).", name, max/1024)
	}
	if fh.Size == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Die Datei „%s“ ist leer.", name)
	}
	fr, err := fh.Open()
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "Die Datei „%s“ konnte nicht gelesen werden.", name)
	}
	content, err := io.ReadAll(io.LimitReader(fr, max+1))
	fr.Close()
	if err != nil || int64(len(content)) > max {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Die Datei „%s“ ist zu groß (höchstens %d KB).", name, max/1024)
	}
	// Every file is scanned first, whatever its type.
	res, err := h.f.Scanner.Scan(r.Context(), bytes.NewReader(content))
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Die Virenprüfung ist gerade nicht erreichbar; die Datei „%s“ wurde nicht angenommen. Bitte versuchen Sie es später erneut.", name)
	}
	if !res.Clean {
		h.s.logger(r).WarnContext(r.Context(), "upload rejected: malware", "signature", res.Signature, "tenant", d.Tenant, "draft", d.ID)
		return nil, scan.Infected(name, res)
	}
	declared, _, _ := strings.Cut(fh.Header.Get("Content-Type"), ";")
	declared = strings.ToLower(strings.TrimSpace(declared))
	sniffed := sniffType(content)
	if declared == "" || declared == "application/octet-stream" {
		declared = sniffed
	}
	if !typesAgree(declared, sniffed) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Der Inhalt der Datei „%s“ passt nicht zum Dateityp %s.", name, declared)
	}
	allowed := it.MediaTypes
	if len(allowed) > 0 && !slices.Contains(allowed, declared) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Der Dateityp von „%s“ ist nicht zulässig; erlaubt: %s.", name, strings.Join(allowed, ", "))
	}
	id := submission.NewID()
	sealed, err := h.f.Sealer.Seal(r.Context(), d.Tenant, content, submission.UploadAAD(d.ID, id))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(content)
	u := &submission.StagedUpload{Tenant: d.Tenant, DraftID: d.ID, ID: id, FieldPath: path, Filename: name, MediaType: declared,
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Sealed: sealed, CreatedAt: time.Now().UTC()}
	if err := h.f.Forms.PutUpload(r.Context(), u); err != nil {
		return nil, err
	}
	return map[string]any{"name": name, "size": u.Size, "mediaType": declared, "id": id}, nil
}

// ---- check your answers and submit ----

func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (h *antrag) check(w http.ResponseWriter, r *http.Request, d *submission.Draft, m *form.Model, errs []form.FieldError) error {
	lang := Lang(r.Context())
	pg := checkPage{Draft: d, ServiceName: h.serviceName(r, d), Key: newKey(), Action: stepURL(d, "absenden")}
	if errs == nil {
		errs = m.Validate(d.Answers, form.ValidateOptions{})
	}
	steps := m.Steps()
	stepOf := map[string]int{}
	for i, st := range steps {
		for _, it := range st.Items {
			stepOf[it.ID] = i + 1
		}
		cs := checkStep{N: i + 1, Title: st.Title, URL: stepURL(d, strconv.Itoa(i+1))}
		cs.Rows = answerRows(m, st.Items, map[string]any(d.Answers), 0, lang)
		pg.Steps = append(pg.Steps, cs)
	}
	for _, e := range errs {
		msg := e.Message
		if lang == "en" && e.MessageEN != "" {
			msg = e.MessageEN
		}
		n := stepOf[splitPath(e.Path)[0].id]
		if n == 0 {
			n = 1
		}
		lbl := e.Path
		if it := fileItem(m, e.Path); it != nil {
			lbl = label(it)
		} else if it := itemAt(m, e.Path); it != nil {
			lbl = label(it)
		}
		pg.Errors = append(pg.Errors, errLink{Href: stepURL(d, strconv.Itoa(n)), Message: lbl + ": " + msg})
	}
	ups, err := h.f.Forms.Uploads(r.Context(), d.Tenant, d.ID)
	if err != nil {
		return err
	}
	pg.Attachments = ups
	status := http.StatusOK
	if len(errs) > 0 && r.Method == http.MethodPost {
		status = http.StatusUnprocessableEntity
	}
	h.s.render(w, r, status, "antrag_check", pg)
	return nil
}

func itemAt(m *form.Model, path string) *form.Item {
	items := m.Root
	var it *form.Item
	for _, seg := range splitPath(path) {
		it = itemByID(items, seg.id)
		if it == nil {
			return nil
		}
		items = it.Items
	}
	return it
}

// answerRows lists the given answers with their labels for the check page.
func answerRows(m *form.Model, items []form.Item, obj map[string]any, depth int, lang string) []checkRow {
	var rows []checkRow
	for i := range items {
		it := &items[i]
		v, ok := obj[it.ID]
		if !ok || it.Feldart == form.FeldHidden || it.Feldart == form.FeldLabel {
			continue
		}
		insts := instances(v)
		for n, inst := range insts {
			lbl := label(it)
			if it.Repeatable() && len(insts) > 1 {
				lbl = fmt.Sprintf("%s (%d)", lbl, n+1)
			}
			if it.Kind == form.KindGroup {
				sub, _ := inst.(map[string]any)
				rows = append(rows, checkRow{Label: lbl, Depth: depth})
				rows = append(rows, answerRows(m, it.Items, sub, depth+1, lang)...)
				continue
			}
			rows = append(rows, checkRow{Label: lbl, Value: displayValue(m, it, inst, lang), Depth: depth})
		}
	}
	return rows
}

func displayValue(m *form.Model, it *form.Item, v any, lang string) string {
	if obj, ok := v.(map[string]any); ok {
		name, _ := obj["name"].(string)
		return name
	}
	s := scalar(v)
	if opts := m.Options(it); len(opts) > 0 {
		for _, o := range opts {
			if o.Code == s {
				return o.Name
			}
		}
	}
	switch it.Datentyp {
	case form.TypBool:
		yes, no := "Ja", "Nein"
		if lang == "en" {
			yes, no = "Yes", "No"
		}
		if s == "true" {
			return yes
		}
		return no
	case form.TypDate:
		if d, err := time.Parse("2006-01-02", s); err == nil {
			return d.Format("02.01.2006")
		}
	}
	return s
}

func (h *antrag) submit(w http.ResponseWriter, r *http.Request, d *submission.Draft, token string, m *form.Model) error {
	key := r.PostForm.Get("idempotency")
	if len(key) < 16 || len(key) > 64 {
		h.setDraftCookie(w, d.ID, token)
		return rathaus.Errorf(rathaus.EINVALID, "Feld idempotency: fehlt oder ungültig.")
	}
	var atts []submission.Upload
	ups, err := h.f.Forms.Uploads(r.Context(), d.Tenant, d.ID)
	if err != nil {
		return err
	}
	for _, u := range ups {
		v, _ := getPath(m, map[string]any(d.Answers), u.FieldPath)
		if obj, ok := v.(map[string]any); !ok || obj["id"] != u.ID {
			continue // removed or replaced
		}
		pt, err := h.f.Sealer.Open(r.Context(), d.Tenant, u.Sealed, submission.UploadAAD(d.ID, u.ID))
		if err != nil {
			return err
		}
		atts = append(atts, submission.Upload{FieldPath: u.FieldPath, Filename: u.Filename, MediaType: u.MediaType, Content: pt})
	}
	req := submission.SubmitRequest{Tenant: d.Tenant, ServiceKey: d.ServiceKey, Model: m, Answers: d.Answers, Attachments: atts,
		IdempotencyKey: "web:" + key, DraftID: d.ID}
	p := h.s.principal(r)
	if p != nil && d.OwnerUserID != "" {
		req.Applicant = submission.Applicant{UserID: p.User.ID, LoA: p.Session.LoA, IdP: p.Session.IdP}
	}
	rc, err := h.f.Intake.Submit(r.Context(), req)
	if fe := submission.FieldErrors(err); fe != nil {
		h.setDraftCookie(w, d.ID, token)
		return h.check(w, r, d, m, fe)
	}
	if err != nil {
		h.setDraftCookie(w, d.ID, token)
		return err
	}
	app := rc.Application
	sealed := ""
	var tok string
	if app.ApplicantUserID == "" {
		tok = newKey() + newKey()
		b, err := h.f.Sealer.Seal(r.Context(), app.Tenant, []byte(tok), []byte("receipt/"+app.ID))
		if err != nil {
			return err
		}
		sealed = hex.EncodeToString(b)
	}
	if err := h.f.Forms.PutReceipt(r.Context(), app.Tenant, app.ID, req.IdempotencyKey, sealed); err != nil {
		return err
	}
	if app.ApplicantUserID == "" {
		// Concurrent double submits: the first stored token wins.
		if tok, err = h.receiptToken(r.Context(), app); err != nil {
			return err
		}
		c := h.s.cookie(receiptCookie, app.ID+"."+tok, 0)
		c.Path = "/antrag"
		http.SetCookie(w, c)
	}
	h.clearCookie(w, draftCookie)
	_ = h.f.Forms.DeleteUploads(r.Context(), d.Tenant, d.ID)
	if !rc.Replayed && app.ApplicantUserID != "" && h.f.OnSubmitted != nil {
		var buf bytes.Buffer
		if err := h.renderPDF(r, &buf, app, m); err == nil {
			if err := h.f.OnSubmitted(r.Context(), app, buf.Bytes()); err != nil {
				h.s.logger(r).ErrorContext(r.Context(), "mailbox copy of receipt", "error", err.Error())
			}
		}
	}
	http.Redirect(w, r, "/antrag/eingang/"+app.Tenant+"/"+app.ID, http.StatusSeeOther)
	return nil
}

// replay answers a repeated submit whose draft is gone: the idempotency
// key (a random secret of the check page) leads to the application made
// with it; anonymous applicants get their receipt cookie again.
func (h *antrag) replay(w http.ResponseWriter, r *http.Request, ars, draftID string) error {
	key := r.PostForm.Get("idempotency")
	if !tenant.ValidARS(ars) || len(key) < 16 || len(key) > 64 {
		return errNotFound
	}
	id, err := h.f.Forms.ReceiptByKey(r.Context(), ars, "web:"+key)
	if err != nil {
		return errNotFound
	}
	app, err := h.f.Intake.Application(r.Context(), ars, id)
	if err != nil {
		return errNotFound
	}
	if app.ApplicantUserID == "" {
		tok, err := h.receiptToken(r.Context(), app)
		if err != nil || tok == "" {
			return errNotFound
		}
		c := h.s.cookie(receiptCookie, app.ID+"."+tok, 0)
		c.Path = "/antrag"
		http.SetCookie(w, c)
	}
	http.Redirect(w, r, "/antrag/eingang/"+app.Tenant+"/"+app.ID, http.StatusSeeOther)
	return nil
}

func (h *antrag) receiptToken(ctx context.Context, app *submission.Application) (string, error) {
	s, err := h.f.Forms.ReceiptToken(ctx, app.Tenant, app.ID)
	if err != nil || s == "" {
		return "", err
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "receipt token")
	}
	pt, err := h.f.Sealer.Open(ctx, app.Tenant, b, []byte("receipt/"+app.ID))
	return string(pt), err
}

// ---- receipt ----

type receiptPage struct {
	App         *submission.Application
	ServiceName string
	TenantName  string
	Submitted   string
	Steps       []checkStep
	PDF         string
	LoggedIn    bool
}

// application returns the application of the request if the requester may
// see it: the logged-in applicant (or staff with a grant), or the anonymous
// applicant holding the receipt cookie.
func (h *antrag) application(r *http.Request, ars, id string) (*submission.Application, error) {
	if !tenant.ValidARS(ars) || id == "" || len(id) > 64 {
		return nil, errNotFound
	}
	if p := h.s.principal(r); p != nil {
		app, err := h.f.Intake.ApplicationFor(r.Context(), ars, id, p.User.ID, p.Grants)
		if err == nil && !submission.IsStaffRead(app, p.User.ID) {
			return app, nil
		}
	}
	c, err := r.Cookie(receiptCookie)
	if err != nil {
		return nil, errNotFound
	}
	cid, tok, ok := strings.Cut(c.Value, ".")
	if !ok || cid != id || tok == "" {
		return nil, errNotFound
	}
	app, err := h.f.Intake.Application(r.Context(), ars, id)
	if err != nil {
		return nil, errNotFound
	}
	want, err := h.receiptToken(r.Context(), app)
	if err != nil || want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(tok)) != 1 {
		return nil, errNotFound
	}
	return app, nil
}

func (h *antrag) receipt(w http.ResponseWriter, r *http.Request) error {
	id, isPDF := strings.CutSuffix(r.PathValue("id"), ".pdf")
	app, err := h.application(r, r.PathValue("ars"), id)
	if err != nil {
		return err
	}
	lang := Lang(r.Context())
	m, err := h.model(r.Context(), app.Tenant, app.FormID, app.FormVersion, lang)
	if err != nil {
		return err
	}
	if isPDF {
		var buf bytes.Buffer
		if err := h.renderPDF(r, &buf, app, m); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="Eingangsbestaetigung-`+app.Reference+`.pdf"`)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
		return nil
	}
	ans, err := h.f.Intake.OpenAnswers(r.Context(), app)
	if err != nil {
		return err
	}
	pg := receiptPage{App: app, Submitted: app.SubmittedAt.In(berlin).Format("02.01.2006, 15:04 Uhr"),
		PDF: "/antrag/eingang/" + app.Tenant + "/" + app.ID + ".pdf", LoggedIn: h.s.principal(r) != nil}
	pg.ServiceName, pg.TenantName = h.names(r, app)
	for i, st := range m.Steps() {
		pg.Steps = append(pg.Steps, checkStep{N: i + 1, Title: st.Title, Rows: answerRows(m, st.Items, map[string]any(ans), 0, lang)})
	}
	h.s.render(w, r, http.StatusOK, "antrag_receipt", pg)
	return nil
}

func (h *antrag) names(r *http.Request, app *submission.Application) (string, string) {
	svc, ten := app.ServiceKey, app.Tenant
	if res, err := h.s.deps.Catalog.Resolve(r.Context(), app.Tenant, app.ServiceKey); err == nil {
		svc = res.Service.Name
	}
	if t, err := h.s.deps.Tenants.Tenant(r.Context(), app.Tenant); err == nil {
		ten = t.Name
	}
	return svc, ten
}

func (h *antrag) renderPDF(r *http.Request, w io.Writer, app *submission.Application, m *form.Model) error {
	ans, err := h.f.Intake.OpenAnswers(r.Context(), app)
	if err != nil {
		return err
	}
	svc, ten := h.names(r, app)
	return receipt.Render(w, receipt.FromApplication(app, m, ans, ten, svc, Lang(r.Context())))
}

// ---- isolation probes ----

// requester is the user the isolation probe runs as.
func requester(fx *IsolationFixture) (string, bool) {
	if fx.Citizen != nil {
		return fx.Citizen.User.ID, true
	}
	if fx.Principal != nil {
		return fx.Principal.User.ID, false
	}
	return "", false
}

// isolateDraft creates a draft with one id twice: in tenant B for another
// user (with a secret) and in tenant A for the requester; the probe asks
// for B's.
func (h *antrag) isolateDraft(method string) func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		if h.f.Store == nil {
			return IsolationProbe{}, errors.New("FormFeature.Store is not set")
		}
		me, asCitizen := requester(fx)
		secret := "Geheimes Anliegen " + fx.B
		m := h.universal("de")
		id := submission.NewID()
		now := time.Now().UTC()
		for _, x := range []struct{ ten, owner, text string }{{fx.B, "isolation-other-user", secret}, {fx.A, me, "Eigenes Anliegen"}} {
			pt, _ := json.Marshal(form.Answers{"anliegen": map[string]any{"beschreibung": x.text}})
			sealed, err := h.f.Sealer.Seal(ctx, x.ten, pt, []byte("draft/"+id))
			if err != nil {
				return IsolationProbe{}, err
			}
			d := &submission.Draft{Tenant: x.ten, ID: id, ServiceKey: "isolation", FormID: m.ID, FormVersion: m.Version, OwnerUserID: x.owner,
				SealedAnswers: sealed, Step: "1", UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := h.f.Store.PutDraft(ctx, d); err != nil {
				return IsolationProbe{}, err
			}
		}
		p := IsolationProbe{Method: method, Path: "/antrag/entwurf/" + fx.B + "/" + id + "/1", AsCitizen: asCitizen, Secrets: []string{secret}}
		if method == http.MethodPost {
			p.Body = "action=weiter&anliegen%5B0%5D.beschreibung=x"
		}
		return p, nil
	}
}

// isolateReceipt stores an application with one id in tenant B (another
// applicant, a secret) and in tenant A (the requester); the probe asks for
// B's receipt.
func (h *antrag) isolateReceipt(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	if h.f.Store == nil {
		return IsolationProbe{}, errors.New("FormFeature.Store is not set")
	}
	me, asCitizen := requester(fx)
	secret := "Geheimer Antrag " + fx.B
	m := h.universal("de")
	id := submission.NewID()
	ref := submission.NewReference("ISO", time.Now().Year())
	for _, x := range []struct{ ten, owner, text string }{{fx.B, "isolation-other-user", secret}, {fx.A, me, "Eigener Antrag"}} {
		pt, _ := json.Marshal(form.Answers{"anliegen": map[string]any{"beschreibung": x.text}})
		sealed, err := h.f.Sealer.Seal(ctx, x.ten, pt, []byte(id))
		if err != nil {
			return IsolationProbe{}, err
		}
		app := &submission.Application{Tenant: x.ten, ID: id, Reference: ref, ServiceKey: "isolation", FormID: m.ID, FormVersion: m.Version,
			ApplicantUserID: x.owner, SealedAnswers: sealed, Attachments: []submission.Attachment{}, Status: submission.StatusSubmitted,
			SubmittedAt: time.Now().UTC().Truncate(time.Microsecond), IdempotencyKey: "isolation:" + id}
		in := &submission.Intake{App: app, Audit: audit.Entry{Tenant: x.ten, Actor: "isolation-test", Action: "application.submit", Object: "application/" + id}}
		if err := h.f.Store.CreateApplications(ctx, []*submission.Intake{in}); err != nil {
			return IsolationProbe{}, err
		}
	}
	return IsolationProbe{Path: "/antrag/eingang/" + fx.B + "/" + id, AsCitizen: asCitizen, Secrets: []string{secret}}, nil
}
