// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"rathaus/identity/session"
	"rathaus/tenant"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per page: the layout plus the page's
// "title" and "content" blocks.
type pages struct {
	byName map[string]*template.Template
}

// htmlPolicy re-sanitises the HTML texts of the catalog on output (the
// importers sanitise already; this is defence in depth).
var htmlPolicy = bluemonday.UGCPolicy()

var funcs = template.FuncMap{
	// safeHTML sanitises s and marks it as HTML.
	"safeHTML": func(s string) template.HTML { return template.HTML(htmlPolicy.Sanitize(s)) },
	"add":      func(a, b int) int { return a + b },
}

func parsePages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		p.byName[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

// view is what every template gets: the page data plus the frame (user,
// municipality, language, demo flag).
type view struct {
	s            *Server
	Lang         string
	OtherLang    string
	Path         string
	RequestURI   string
	Demo         bool
	Version      string
	Principal    *session.Principal
	Municipality *tenant.Tenant
	Data         any
}

// T translates a message id into the page's language.
func (v *view) T(id string, kv ...any) string { return v.s.i18n.T(v.Lang, id, kv...) }

// render executes the named page into a buffer and writes it with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.execute(w, r, status, name, data, nil, false)
}

// bodyMarker stands in a page's data for a large pre-rendered part (see
// renderSplice). NUL never comes out of html/template's escapers (they
// write U+FFFD), so no data can produce the marker.
const bodyMarker = template.HTML("\x00rathaus:body\x00")

// pageBufs pools the buffers pages are executed into.
var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// renderSplice is render for a page whose data prints bodyMarker in place
// of body: the template's output is written around body, which saves
// copying a large part of the page (the controls of a form step) through
// the template.
func (s *Server) renderSplice(w http.ResponseWriter, r *http.Request, status int, name string, data any, body []byte) {
	s.execute(w, r, status, name, data, body, true)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, status int, name string, data any, body []byte, splice bool) {
	t := s.pages.byName[name]
	lang := Lang(r.Context())
	other := "en"
	if lang == "en" {
		other = "de"
	}
	v := &view{
		s:          s,
		Lang:       lang,
		OtherLang:  other,
		Path:       r.URL.Path,
		RequestURI: r.URL.RequestURI(),
		Demo:       s.cfg.Demo,
		Version:    s.cfg.Version,
		Principal:  s.principal(r),
		Data:       data,
	}
	if ars := s.municipality(r); ars != "" {
		v.Municipality = s.headerTenant(r, ars)
	}
	if t == nil {
		s.logger(r).ErrorContext(r.Context(), "render: no such page", "page", name)
		http.Error(w, "Interner Fehler. / Internal error.", http.StatusInternalServerError)
		return
	}
	buf := pageBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			pageBufs.Put(buf)
		}
	}()
	if err := t.ExecuteTemplate(buf, "layout.html", v); err != nil {
		s.logger(r).ErrorContext(r.Context(), "render", "page", name, "error", err.Error())
		http.Error(w, "Interner Fehler. / Internal error.", http.StatusInternalServerError)
		return
	}
	head, tail := buf.Bytes(), []byte(nil)
	if splice {
		if i := bytes.Index(head, []byte(bodyMarker)); i >= 0 {
			head, tail = head[:i], head[i+len(bodyMarker):]
		} else {
			splice = false
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Pages depend on the language and on the chosen municipality.
	w.Header().Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(head)
	if splice {
		_, _ = w.Write(body)
		_, _ = w.Write(tail)
	}
}

// municipality returns the ARS of the visitor's chosen municipality: the
// cookie, else the session's tenant of a logged-in citizen, else "".
func (s *Server) municipality(r *http.Request) string {
	if c, err := r.Cookie("municipality"); err == nil && tenant.ValidARS(c.Value) {
		return c.Value
	}
	if p := s.principal(r); p != nil && p.Session != nil && !p.IsStaff() && tenant.ValidARS(p.Session.Tenant) {
		return p.Session.Tenant
	}
	return ""
}

// headerTenants caches the municipality shown in every page's header, per
// server and ARS, for modelTTL: tenant data changes only with an import,
// and a re-imported name shows within the TTL (as service names and form
// versions do). Lookups that fail are not cached.
var (
	headerTenants     sync.Map // headerTenantKey → cachedTenant
	headerTenantCount atomic.Int64
)

type headerTenantKey struct {
	s   *Server
	ars string
}

type cachedTenant struct {
	t  *tenant.Tenant
	at time.Time
}

// headerTenantMax bounds headerTenants (cleared when it grows past).
const headerTenantMax = 5000

// headerTenant returns the tenant ars for the page header, nil if unknown.
func (s *Server) headerTenant(r *http.Request, ars string) *tenant.Tenant {
	k := headerTenantKey{s, ars}
	if v, ok := headerTenants.Load(k); ok {
		if c := v.(cachedTenant); time.Since(c.at) < modelTTL {
			return c.t
		}
	}
	t, err := s.deps.Tenants.Tenant(r.Context(), ars)
	if err != nil {
		return nil
	}
	if headerTenantCount.Add(1) > headerTenantMax {
		headerTenants.Clear()
		headerTenantCount.Store(1)
	}
	headerTenants.Store(k, cachedTenant{t, time.Now()})
	return t
}
