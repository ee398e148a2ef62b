// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"rathaus/form"
)

// What a step page needs of a form version and does not depend on the
// answers is derived once per loaded model and kept while the model is
// alive: the steps, the top-level rules and their JSON for form.js, and
// the rules of each group scope.

// modelInfo is the answer-independent part of a model's step pages.
type modelInfo struct {
	steps     []form.Step
	rootRules []form.Rule
	rootJSON  string
}

// modelInfos maps a weak model pointer to its *modelInfo; the entry is
// removed when the model is garbage collected (models are reloaded every
// modelTTL).
var modelInfos sync.Map

// infoOf returns the cached modelInfo of m.
func infoOf(m *form.Model) *modelInfo {
	key := weak.Make(m)
	if v, ok := modelInfos.Load(key); ok {
		return v.(*modelInfo)
	}
	rules := rootRules(m)
	mi := &modelInfo{steps: m.Steps(), rootRules: rules, rootJSON: rulesJSON(rules)}
	if v, loaded := modelInfos.LoadOrStore(key, mi); loaded {
		return v.(*modelInfo)
	}
	runtime.AddCleanup(m, func(k weak.Pointer[form.Model]) { modelInfos.Delete(k) }, key)
	return mi
}

// scopeKey identifies a group's scope by what scopeRules reads: the
// group's rules and its items (the backing arrays of the model, kept
// alive by the key, so a key is never reused for another group).
type scopeKey struct {
	rules  *form.Rule
	items  *form.Item
	nr, ni int
}

// scopeInfo is a group scope's rules and their JSON for form.js.
type scopeInfo struct {
	rules []form.Rule
	json  string
}

var (
	scopeInfos     sync.Map // scopeKey → *scopeInfo
	scopeInfoCount atomic.Int64
)

// scopeInfoMax bounds scopeInfos; it is cleared when it grows past.
const scopeInfoMax = 20000

// scopeOf returns the cached rules of a group's scope (scopeRules) and
// their JSON (rulesJSON).
func scopeOf(g *form.Item) *scopeInfo {
	if len(g.Items) == 0 && len(g.Rules) == 0 {
		return &scopeInfo{}
	}
	var key scopeKey
	if len(g.Rules) > 0 {
		key.rules, key.nr = &g.Rules[0], len(g.Rules)
	}
	if len(g.Items) > 0 {
		key.items, key.ni = &g.Items[0], len(g.Items)
	}
	if v, ok := scopeInfos.Load(key); ok {
		return v.(*scopeInfo)
	}
	rules := slices.Clip(scopeRules(g))
	si := &scopeInfo{rules: rules, json: rulesJSON(rules)}
	if scopeInfoCount.Add(1) > scopeInfoMax {
		scopeInfos.Clear()
		scopeInfoCount.Store(1)
	}
	scopeInfos.Store(key, si)
	return si
}

// stepTexts are the fixed texts of a step page (antrag_step.html), looked
// up once per language instead of by a template call each.
type stepTexts struct {
	ErrorsPrefix, Service, ErrorsTitle, RequiredNote, Next, ToCheck, Back, Save, SaveAnon string
}

// stepTexts returns the step page texts of lang (cached).
func (h *antrag) stepTexts(lang string) *stepTexts {
	if v, ok := h.stx.Load(lang); ok {
		return v.(*stepTexts)
	}
	t := func(id string) string { return h.s.i18n.T(lang, id) }
	x := &stepTexts{ErrorsPrefix: t("antrag.errors.prefix"), Service: t("antrag.service"), ErrorsTitle: t("antrag.errors.title"),
		RequiredNote: t("antrag.required.note"), Next: t("antrag.next"), ToCheck: t("antrag.tocheck"), Back: t("antrag.back"),
		Save: t("antrag.save"), SaveAnon: t("antrag.save.anon")}
	h.stx.Store(lang, x)
	return x
}

type progressKey struct {
	lang     string
	n, total int
}

// progress returns "Schritt n von total" in lang (cached: go-i18n runs a
// template for messages with data).
func (h *antrag) progress(lang string, n, total int) string {
	k := progressKey{lang, n, total}
	if v, ok := h.progs.Load(k); ok {
		return v.(string)
	}
	s := h.s.i18n.T(lang, "antrag.progress", "N", n, "Total", total)
	h.progs.Store(k, s)
	return s
}

// The content block of a step page is written by hand like the controls
// (antrag_step.html prints it through bodyMarker); the layout stays a
// template. The texts are escaped as html/template escapes them in these
// contexts (FuzzTemplateEscapers checks that against html/template).

// templateSpecial is html/template's htmlReplacementTable (text and quoted
// attribute values): NUL, quotes, ampersand, plus, less and greater than.
var templateSpecial = [256]string{0: "\uFFFD", '"': "&#34;", '&': "&amp;", '\'': "&#39;", '+': "&#43;", '<': "&lt;", '>': "&gt;"}

// te writes s escaped as html/template escapes text and attribute values.
func (w *hw) te(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if r := templateSpecial[s[i]]; r != "" {
			w.WriteString(s[last:i])
			w.WriteString(r)
			last = i + 1
		}
	}
	w.WriteString(s[last:])
}

// tu writes s as html/template writes a value into a quoted URL attribute
// (href, action): unsafe schemes become "#ZgotmplZ", the URL is normalised
// (bytes outside RFC 3986 percent-encoded, valid escapes kept) and then
// escaped as an attribute value.
func (w *hw) tu(s string) {
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.Contains(s[:i], "/") {
		switch strings.ToLower(s[:i]) {
		case "http", "https", "mailto":
		default:
			w.WriteString("#ZgotmplZ")
			return
		}
	}
	const hex = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case strings.IndexByte("!#$*,/:;=?@[]-._~", c) >= 0:
			continue
		case c == '&' || c == '+':
			w.te(s[last:i])
			w.WriteString(templateSpecial[c])
			last = i + 1
			continue
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			continue
		}
		w.te(s[last:i])
		w.Write([]byte{'%', hex[c>>4], hex[c&15]})
		last = i + 1
	}
	w.te(s[last:])
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// stepContent writes the content block of a step page (what
// antrag_step.html's "content" printed) with the controls.
func (w *hw) stepContent(pg *stepPage) {
	x := pg.X
	w.s("\n\n<link rel=\"stylesheet\" href=\"/static/form.css\">\n<p class=\"meta\">")
	w.te(x.Service)
	w.s(": ")
	w.te(pg.ServiceName)
	w.s("</p>\n<p class=\"progress\" id=\"schritt\">")
	w.te(pg.Progress)
	w.s("</p>\n")
	if len(pg.Errors) > 0 {
		w.s("\n<div class=\"error-summary\" id=\"fehler\" role=\"alert\" tabindex=\"-1\" autofocus aria-labelledby=\"fehler-h\">\n<h2 id=\"fehler-h\">")
		w.te(x.ErrorsTitle)
		w.s("</h2>\n<ul>")
		for _, e := range pg.Errors {
			w.s(`<li><a href="`)
			w.tu(e.Href)
			w.s(`">`)
			w.te(e.Message)
			w.s("</a></li>")
		}
		w.s("</ul>\n</div>\n")
	}
	w.s("\n")
	if pg.Notice != "" {
		w.s(`<p class="notice" role="status">`)
		w.te(pg.Notice)
		w.s("</p>")
	}
	w.s("\n<h1>")
	w.te(pg.Title)
	w.s("</h1>\n")
	if pg.Help != "" {
		w.s(`<p class="hint">`)
		w.te(pg.Help)
		w.s("</p>")
	}
	w.s("\n<p class=\"hint\">")
	w.te(x.RequiredNote)
	w.s("</p>\n<form method=\"post\" action=\"")
	w.tu(pg.Action)
	w.s(`" novalidate class="antrag"`)
	if pg.Multipart {
		w.s(` enctype="multipart/form-data"`)
	}
	if pg.Rules != "" {
		w.s(` data-rules="`)
		w.te(pg.Rules)
		w.s(`"`)
	}
	w.s(">\n<input type=\"hidden\" name=\"js\" value=\"\" data-js>\n<button type=\"submit\" name=\"action\" value=\"weiter\" hidden>")
	w.te(x.Next)
	w.s("</button>\n")
	w.nodes(pg.Nodes)
	w.s("\n<div class=\"actions\">\n<button type=\"submit\" name=\"action\" value=\"weiter\" id=\"weiter\">")
	if pg.N == pg.Total {
		w.te(x.ToCheck)
	} else {
		w.te(x.Next)
	}
	w.s("</button>\n")
	if pg.N > 1 {
		w.s(`<button type="submit" name="action" value="zurueck" class="secondary">`)
		w.te(x.Back)
		w.s("</button>")
	}
	w.s("\n<button type=\"submit\" name=\"action\" value=\"speichern\" class=\"secondary\">")
	if pg.LoggedIn {
		w.te(x.Save)
	} else {
		w.te(x.SaveAnon)
	}
	w.s("</button>\n</div>\n</form>\n\n<script src=\"/static/form.js\" defer></script>\n")
}
