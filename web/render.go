// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"bytes"
	"embed"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
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

// T translates a message id into the page's language. Messages with data
// whose values are strings or ints ("municipality.current" on every page)
// are cached: go-i18n runs a template for each.
func (v *view) T(id string, kv ...any) string {
	if len(kv) == 0 {
		return v.s.i18n.T(v.Lang, id)
	}
	b := make([]byte, 0, 64)
	b = append(b, v.Lang...)
	b = append(b, 0)
	b = append(b, id...)
	for _, x := range kv {
		switch x := x.(type) {
		case string:
			b = append(b, 0, 's')
			b = strconv.AppendInt(b, int64(len(x)), 10)
			b = append(b, ':')
			b = append(b, x...)
		case int:
			b = append(b, 0, 'i')
			b = strconv.AppendInt(b, int64(x), 10)
		default:
			return v.s.i18n.T(v.Lang, id, kv...)
		}
	}
	k := textKey{v.s, string(b)}
	if t, ok := texts.Load(k); ok {
		return t.(string)
	}
	t := v.s.i18n.T(v.Lang, id, kv...)
	if textCount.Add(1) > textMax {
		texts.Clear()
		textCount.Store(1)
	}
	texts.Store(k, t)
	return t
}

// texts caches translations with data per server (view.T).
var (
	texts     sync.Map // textKey → string
	textCount atomic.Int64
)

type textKey struct {
	s   *Server
	key string // lang, id and the typed values (strings length-prefixed)
}

// textMax bounds texts (cleared when it grows past).
const textMax = 20000

// render executes the named page into a buffer and writes it with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.execute(w, r, status, name, data, nil, false)
}

// newView returns the frame data of a page for r.
func (s *Server) newView(r *http.Request, data any) *view {
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
	return v
}

// bodyMarker stands in a page's data for a large pre-rendered part (see
// execute). NUL never comes out of html/template's escapers (they write
// U+FFFD), so no data can produce the marker.
const bodyMarker = template.HTML("\x00rathaus:body\x00")

// pageBufs pools the buffers pages are executed into.
var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// execute renders the page name with data. With splice, data prints
// bodyMarker in place of body: the template's output is written around
// body, which saves copying a large part of the page through the template.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, status int, name string, data any, body []byte, splice bool) {
	t := s.pages.byName[name]
	v := s.newView(r, data)
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

// headerTenant returns the tenant ars for the page header, nil if unknown.
// It is cached per server for modelTTL: tenant data changes only with an
// import, and a re-imported name shows within the TTL (as service names
// and form versions do). Lookups that fail are not cached.
func (s *Server) headerTenant(r *http.Request, ars string) *tenant.Tenant {
	t, err := s.headerTenants.get(ars, func() (*tenant.Tenant, error) {
		return s.deps.Tenants.Tenant(r.Context(), ars)
	})
	if err != nil {
		return nil
	}
	return t
}

// ---- frames ----

// A page written by hand (the form steps) gets its layout from a frame:
// the layout executed once per frameKey with markers for the request path,
// the request URI, the title and the content, kept for modelTTL and cut at
// the markers. Each request then writes the pieces with its own values,
// escaped as html/template escapes them there. A frame is used only if
// every marker occurs exactly once and a probe execution of the template
// with hostile values equals the frame filled with the same values, so a
// changed layout falls back to executing the template.

// framedPage is the data of a framed page's template: its "title" block
// prints .Data.Title, its "content" block .Data.Body.
type framedPage struct {
	Title string
	Body  template.HTML
}

const (
	markPath  = "zqframepathqz"
	markURI   = "zqframeuriqz"
	markTitle = "zqframetitleqz"
	markBody  = "zqframebodyqz"
)

type holeKind uint8

const (
	holePath holeKind = iota
	holeURI
	holeTitle
	holeBody
)

// frame is a layout cut into parts around its holes (len(parts) ==
// len(holes)+1); ok false means the layout cannot be framed.
type frame struct {
	parts [][]byte
	holes []holeKind
	ok    bool
	at    time.Time
}

// frameKey is everything the layout reads besides the holes: the server
// (configuration, translations, mailbox), page, language, who is logged
// in (per session: a layout that shows personal data stays per person)
// and the header municipality's name.
type frameKey struct {
	s                 *Server
	page, lang        string
	principal         string
	hasMuni           bool
	muniARS, muniName string
}

var (
	frames     sync.Map // frameKey → *frame
	frameCount atomic.Int64
)

// frameMax bounds frames (cleared when it grows past).
const frameMax = 5000

// renderFramed writes the page name (whose template is framedPage's) with
// title and the pre-rendered content body.
func (s *Server) renderFramed(w http.ResponseWriter, r *http.Request, status int, name, title string, body []byte) {
	t := s.pages.byName[name]
	if t == nil {
		s.execute(w, r, status, name, framedPage{Title: title, Body: bodyMarker}, body, true)
		return
	}
	lang := Lang(r.Context())
	v := s.newView(r, nil)
	k := frameKey{s: s, page: name, lang: lang}
	if p := v.Principal; p != nil {
		switch {
		case p.Session != nil && p.Session.ID != "":
			k.principal = "s:" + p.Session.ID
		case p.User != nil && p.User.ID != "":
			k.principal = "u:" + p.User.ID
		default:
			s.execute(w, r, status, name, framedPage{Title: title, Body: bodyMarker}, body, true)
			return
		}
	}
	if m := v.Municipality; m != nil {
		k.hasMuni, k.muniARS, k.muniName = true, m.ARS, m.Name
	}
	var fr *frame
	if c, ok := frames.Load(k); ok && time.Since(c.(*frame).at) < modelTTL {
		fr = c.(*frame)
	} else {
		fr = s.buildFrame(t, v)
		if frameCount.Add(1) > frameMax {
			frames.Clear()
			frameCount.Store(1)
		}
		frames.Store(k, fr)
	}
	if !fr.ok {
		s.execute(w, r, status, name, framedPage{Title: title, Body: bodyMarker}, body, true)
		return
	}
	out := getHW()
	defer putHW(out)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	fr.write(w, out, r.URL.Path, r.URL.RequestURI(), title, body)
}

// write writes the frame filled with the values (to out, flushed to w
// around body).
func (fr *frame) write(w io.Writer, out *hw, path, uri, title string, body []byte) {
	for i, h := range fr.holes {
		out.Write(fr.parts[i])
		switch h {
		case holePath:
			out.tu(path)
		case holeURI:
			out.tq(uri)
		case holeTitle:
			out.te(title)
		case holeBody:
			_, _ = w.Write(out.Bytes())
			out.Reset()
			_, _ = w.Write(body)
		}
	}
	out.Write(fr.parts[len(fr.parts)-1])
	_, _ = w.Write(out.Bytes())
}

// buildFrame executes the layout of v with markers and checks the frame
// against a probe execution.
func (s *Server) buildFrame(t *template.Template, v *view) *frame {
	fr := &frame{at: time.Now()}
	exec := func(path, uri, title, body string) ([]byte, bool) {
		vv := *v
		vv.Path, vv.RequestURI, vv.Data = path, uri, framedPage{Title: title, Body: template.HTML(body)} //nolint:gosec // markers and a fixed probe
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, "layout.html", &vv); err != nil {
			return nil, false
		}
		return buf.Bytes(), true
	}
	out, ok := exec(markPath, markURI, markTitle, markBody)
	if !ok {
		return fr
	}
	type at struct {
		i int
		h holeKind
		n int
	}
	var ats []at
	for h, m := range []string{markPath, markURI, markTitle, markBody} {
		if bytes.Count(out, []byte(m)) != 1 {
			return fr
		}
		ats = append(ats, at{bytes.Index(out, []byte(m)), holeKind(h), len(m)})
	}
	slices.SortFunc(ats, func(a, b at) int { return a.i - b.i })
	last := 0
	for _, a := range ats {
		fr.parts = append(fr.parts, out[last:a.i])
		fr.holes = append(fr.holes, a.h)
		last = a.i + a.n
	}
	fr.parts = append(fr.parts, out[last:])
	const (
		probePath  = "/a b/\"<&+'%zz%41é:x?"
		probeURI   = "/x/y?z=1&q=<\"'+ é>%41#f"
		probeTitle = "T<&+\"'>\x00é – x"
		probeBody  = "<p>probe</p>"
	)
	want, ok := exec(probePath, probeURI, probeTitle, probeBody)
	if !ok {
		return fr
	}
	var got bytes.Buffer
	o := getHW()
	fr.write(&got, o, probePath, probeURI, probeTitle, []byte(probeBody))
	putHW(o)
	fr.ok = bytes.Equal(got.Bytes(), want)
	return fr
}

// tq writes s as html/template writes a value into the query part of a
// quoted URL attribute: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded.
func (w *hw) tq(s string) {
	const hex = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			continue
		}
		w.WriteString(s[last:i])
		w.Write([]byte{'%', hex[c>>4], hex[c&15]})
		last = i + 1
	}
	w.WriteString(s[last:])
}
