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
		if t, err := s.deps.Tenants.Tenant(r.Context(), ars); err == nil {
			v.Municipality = t
		}
	}
	var buf bytes.Buffer
	if t == nil {
		s.logger(r).ErrorContext(r.Context(), "render: no such page", "page", name)
		http.Error(w, "Interner Fehler. / Internal error.", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.logger(r).ErrorContext(r.Context(), "render", "page", name, "error", err.Error())
		http.Error(w, "Interner Fehler. / Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Pages depend on the language and on the chosen municipality.
	w.Header().Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
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
