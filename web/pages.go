// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"rathaus"
	"rathaus/catalog"
	"rathaus/identity"
	"rathaus/tenant"
)

// pageSize is the number of search hits per page.
const pageSize = 20

// routesPortal registers the portal's own routes. Feature packages add
// theirs with Server.Route in the same way.
func (s *Server) routesPortal() {
	pub := Meta{Scope: ScopePublic}
	raw := Meta{Scope: ScopePublic, Raw: true}

	s.Route("GET /{$}", HandlerFunc(s.home), pub)
	s.Route("GET /gemeinde", HandlerFunc(s.municipalitySearch), pub)
	s.Route("POST /gemeinde", HandlerFunc(s.municipalityChoose), pub)
	s.Route("GET /lebenslagen", HandlerFunc(s.lebenslagen), pub)
	s.Route("GET /lebenslagen/{id}", HandlerFunc(s.lebenslage), Meta{Scope: ScopePublic,
		Example:         "/lebenslagen/unbekannt",
		NotTenantScoped: "OZG life situations are national, public reference data"})
	s.Route("GET /leistungen/{key}", HandlerFunc(s.service), Meta{Scope: ScopePublic,
		Example:         "/leistungen/unbekannt",
		NotTenantScoped: "public catalog text; resolved for the visitor's own municipality choice, never for a tenant named in the URL"})
	s.Route("GET /suche", HandlerFunc(s.search), pub)
	s.Route("GET /konto", HandlerFunc(s.account), Meta{Scope: ScopeCitizen, Personal: true})
	s.Route("GET /verwaltung", HandlerFunc(s.staffHome), Meta{Scope: ScopeStaff, Personal: true})
	s.Route("GET /verwaltung/{ars}", HandlerFunc(s.staffTenant), Meta{Scope: ScopeStaff, Personal: true,
		Example:   "/verwaltung/000000000000",
		Isolation: isolateStaffTenant})

	s.Route("GET /healthz", http.HandlerFunc(healthz), raw)
	s.Route("GET /readyz", http.HandlerFunc(s.ready), raw)
	// /metrics is not public: it is served by OpsHandler on the internal
	// listener (rathaus serve --metrics-addr).
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	s.Route("GET /static/", HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			return errNotFound
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
		return nil
	}), Meta{Scope: ScopePublic, Raw: true, Example: "/static/style.css"})

	if s.deps.Auth != nil {
		s.Route("/auth/", s.deps.Auth, Meta{Scope: ScopePublic, Raw: true, RateLimit: true, Example: "/auth/login?as=citizen"})
	}
	if s.cfg.Demo && s.deps.DemoIdP != nil {
		s.Route("/demo-idp/", s.deps.DemoIdP, Meta{Scope: ScopePublic, Raw: true})
	}
	// Everything else: 405 for a known path with another method, else
	// the friendly 404 page.
	s.Route("/", HandlerFunc(s.unmatched), pub)
}

// unmatched answers requests no route takes.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.mux.Handler(probe); pat != "" && pat != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return errNotFound
	}
	if slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.renderError(w, r, http.StatusMethodNotAllowed, s.tr(r, "error.method"), nil)
	return nil
}

// ready answers 200 when the store is reachable and migrated, else 503.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.deps.Ready != nil {
		if err := s.deps.Ready(r.Context()); err != nil {
			s.logger(r).WarnContext(r.Context(), "not ready", "error", err.Error())
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

// themenfeld groups life situations for the home and overview pages.
type themenfeld struct {
	Name        string
	Lebenslagen []catalog.Lebenslage
}

func groupLebenslagen(ls []catalog.Lebenslage) []themenfeld {
	var out []themenfeld
	idx := map[string]int{}
	for _, l := range ls {
		i, ok := idx[l.Themenfeld]
		if !ok {
			i = len(out)
			idx[l.Themenfeld] = i
			out = append(out, themenfeld{Name: l.Themenfeld})
		}
		out[i].Lebenslagen = append(out[i].Lebenslagen, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	ls, err := s.deps.Catalog.Lebenslagen(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "home", struct{ Themenfelder []themenfeld }{groupLebenslagen(ls)})
	return nil
}

// query returns the trimmed query parameter name, or EINVALID when it is
// longer than max characters or not UTF-8.
func query(r *http.Request, name string, max int) (string, error) {
	q := strings.TrimSpace(r.URL.Query().Get(name))
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > max {
		return "", rathaus.Errorf(rathaus.EINVALID, "Der Suchbegriff ist zu lang (höchstens %d Zeichen).", max)
	}
	return q, nil
}

func (s *Server) municipalitySearch(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "q", 100)
	if err != nil {
		return err
	}
	var hits []tenant.Tenant
	if q != "" {
		if hits, err = s.deps.Tenants.FindGemeinden(r.Context(), q, 25); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "gemeinde", struct {
		Q    string
		Hits []tenant.Tenant
		Next string
	}{q, hits, localPath(r.URL.Query().Get("next"))})
	return nil
}

// localPath returns p when it is a path on this site, else "/". Control
// characters are refused anywhere, not only line breaks: browsers drop
// tabs and newlines from a Location, so "/\t/evil.example" would become
// "//evil.example" (the same rule as identity/oidc.SafeNext).
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || len(p) > 2048 {
		return "/"
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return p
}

func (s *Server) municipalityChoose(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "Das Formular konnte nicht gelesen werden.")
	}
	ars := strings.TrimSpace(r.PostForm.Get("ars"))
	next := localPath(r.PostForm.Get("next"))
	if ars == "" { // "Auswahl aufheben"
		http.SetCookie(w, s.cookie("municipality", "", -1))
		s.rememberTenant(r, "")
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	if !tenant.ValidARS(ars) {
		return rathaus.Errorf(rathaus.EINVALID, "Feld ars: %q ist kein 12-stelliger Regionalschlüssel.", ars)
	}
	t, err := s.deps.Tenants.Tenant(r.Context(), ars)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return rathaus.Errorf(rathaus.EINVALID, "Feld ars: Gemeinde %s ist unbekannt.", ars)
	}
	if err != nil {
		return err
	}
	if t.Level != tenant.LevelGemeinde {
		return rathaus.Errorf(rathaus.EINVALID, "Feld ars: %s ist keine Gemeinde.", ars)
	}
	http.SetCookie(w, s.cookie("municipality", ars, 365*24*3600))
	s.rememberTenant(r, ars)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// rememberTenant stores the choice in a citizen's session too, so it
// follows the login; failures only cost convenience and are logged.
func (s *Server) rememberTenant(r *http.Request, ars string) {
	p := s.principal(r)
	if p == nil || p.Session == nil || p.IsStaff() || s.deps.Identity == nil {
		return
	}
	sess := *p.Session
	sess.Tenant = ars
	if err := s.deps.Identity.UpdateSession(r.Context(), sess); err != nil {
		s.logger(r).WarnContext(r.Context(), "remember municipality", "error", err.Error())
	}
}

func (s *Server) lebenslagen(w http.ResponseWriter, r *http.Request) error {
	ls, err := s.deps.Catalog.Lebenslagen(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "lebenslagen", struct{ Themenfelder []themenfeld }{groupLebenslagen(ls)})
	return nil
}

func (s *Server) lebenslage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ls, err := s.deps.Catalog.Lebenslagen(r.Context())
	if err != nil {
		return err
	}
	var l *catalog.Lebenslage
	for i := range ls {
		if ls[i].ID == id {
			l = &ls[i]
		}
	}
	if l == nil {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Diese Lebenslage gibt es nicht.")
	}
	q := catalog.Query{Municipality: s.municipality(r), Lebenslage: l.Name, Limit: 200}
	hits, total, err := s.deps.Catalog.Search(r.Context(), q)
	if err != nil {
		return err
	}
	if len(hits) == 0 && l.ID != l.Name { // stores may key services by id
		q.Lebenslage = l.ID
		if hits, total, err = s.deps.Catalog.Search(r.Context(), q); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "lebenslage", struct {
		Lebenslage *catalog.Lebenslage
		Services   []catalog.Service
		Total      int
		More       bool
	}{l, hits, total, total > len(hits)})
	return nil
}

// validKey accepts service keys: LeiKa digits or "<source>-<id>".
func validKey(k string) bool {
	if k == "" || len(k) > 100 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// servicePage is the data of the service template.
type servicePage struct {
	R         *catalog.Resolved
	DefinedBy string // name of the tenant whose text is shown
	HasForm   bool
	ForChosen bool // resolved for a chosen municipality (else national view)
}

func (s *Server) service(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	if !validKey(key) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Diese Leistung gibt es nicht.")
	}
	ars := s.municipality(r)
	from := ars
	if from == "" {
		from = tenant.Bund
	}
	res, err := s.deps.Catalog.Resolve(r.Context(), from, key)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND && ars == "" {
		// Described only by a Land, Kreis or Gemeinde: the visitor has to
		// say where they live before we can show the right text.
		s.render(w, r, http.StatusOK, "service_choose", struct{ Key string }{key})
		return nil
	}
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Diese Leistung gibt es für Ihre Gemeinde nicht.")
	}
	if err != nil {
		return err
	}
	p := servicePage{R: res, ForChosen: ars != "", DefinedBy: s.tenantName(r.Context(), res.DefinedAt)}
	p.HasForm = s.deps.HasForm != nil && s.deps.HasForm(key)
	s.render(w, r, http.StatusOK, "service", p)
	return nil
}

// tenantName returns the display name of a tenant, or its ARS.
func (s *Server) tenantName(ctx context.Context, ars string) string {
	t, err := s.deps.Tenants.Tenant(ctx, ars)
	if err != nil || t.Name == "" {
		if ars == tenant.Bund {
			return "Bund"
		}
		return ars
	}
	return t.Name
}

// searchPage is the data of the search template.
type searchPage struct {
	Q                  string
	Hits               []catalog.Service
	Total              int
	Page, Pages        int
	PrevURL, NextURL   string
	First, Last        int
	MunicipalityFilter bool
	Results            []searchResult // index search (Deps.Search); Hits stays empty
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "q", 200)
	if err != nil {
		return err
	}
	page := 1
	if ps := r.URL.Query().Get("seite"); ps != "" {
		page, err = strconv.Atoi(ps)
		if err != nil || page < 1 || page > 1000 {
			return rathaus.Errorf(rathaus.EINVALID, "Parameter seite: %q ist keine Seitenzahl zwischen 1 und 1000.", ps)
		}
	}
	d := searchPage{Q: q, Page: page}
	if q != "" {
		m := s.municipality(r)
		d.MunicipalityFilter = m != ""
		n := 0
		if s.deps.Search != nil {
			if err := s.indexSearch(r, q, m, page, &d); err != nil {
				return err
			}
			n = len(d.Results)
		} else {
			d.Hits, d.Total, err = s.deps.Catalog.Search(r.Context(), catalog.Query{
				Municipality: m, Text: q, Limit: pageSize, Offset: (page - 1) * pageSize,
			})
			if err != nil {
				return err
			}
			n = len(d.Hits)
		}
		d.Pages = (d.Total + pageSize - 1) / pageSize
		if n > 0 {
			d.First = (page-1)*pageSize + 1
			d.Last = d.First + n - 1
		}
		base := "/suche?q=" + urlQueryEscape(q) + "&seite="
		if page > 1 {
			d.PrevURL = base + strconv.Itoa(page-1)
		}
		if page < d.Pages {
			d.NextURL = base + strconv.Itoa(page+1)
		}
	}
	s.render(w, r, http.StatusOK, "search", d)
	return nil
}

// grantView is a grant with its tenant's name.
type grantView struct {
	identity.Grant
	TenantName string
}

func (s *Server) grantViews(ctx context.Context, gs []identity.Grant) []grantView {
	out := make([]grantView, 0, len(gs))
	for _, g := range gs {
		out = append(out, grantView{Grant: g, TenantName: s.tenantName(ctx, g.Tenant)})
	}
	return out
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	p := s.principal(r)
	s.render(w, r, http.StatusOK, "konto", struct {
		User   *identity.User
		LoA    string
		Grants []grantView
	}{p.User, p.Session.LoA.String(), s.grantViews(r.Context(), p.Grants)})
	return nil
}

func (s *Server) staffHome(w http.ResponseWriter, r *http.Request) error {
	p := s.principal(r)
	s.render(w, r, http.StatusOK, "verwaltung", struct {
		User   *identity.User
		Grants []grantView
	}{p.User, s.grantViews(r.Context(), p.Grants)})
	return nil
}

// staffTenant shows one tenant of the staff member's subtree. Tenants
// outside the member's grants answer 403 without any of their data.
func (s *Server) staffTenant(w http.ResponseWriter, r *http.Request) error {
	ars := r.PathValue("ars")
	if !tenant.ValidARS(ars) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Diese Verwaltungseinheit gibt es nicht.")
	}
	p := s.principal(r)
	if !canSee(p.Grants, ars) {
		return errForbidden
	}
	t, err := s.deps.Tenants.Tenant(r.Context(), ars)
	if err != nil {
		return err
	}
	children, err := s.deps.Tenants.Children(r.Context(), ars)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "verwaltung_tenant", struct {
		Tenant   *tenant.Tenant
		Children []tenant.Tenant
		Parent   string
	}{t, children, t.Parent})
	return nil
}

// canSee reports whether any grant covers ars.
func canSee(gs []identity.Grant, ars string) bool {
	for _, g := range gs {
		if tenant.InSubtree(g.Tenant, ars) {
			return true
		}
	}
	return false
}

// isolateStaffTenant probes /verwaltung/{ars} with tenant B.
func isolateStaffTenant(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	t, err := fx.Tenants.Tenant(ctx, fx.B)
	if err != nil {
		return IsolationProbe{}, err
	}
	return IsolationProbe{Path: "/verwaltung/" + fx.B, Secrets: []string{t.Name}}, nil
}
