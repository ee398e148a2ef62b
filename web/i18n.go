// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var localeFS embed.FS

// Languages are the UI languages, German first (the default).
var Languages = []string{"de", "en"}

var languageTags = []language.Tag{language.German, language.English}

// translator holds the message bundle and one localizer per language.
type translator struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	matcher    language.Matcher
	plain      sync.Map // lang "\x00" id → text of messages without data (go-i18n runs a template per call)
}

func newTranslator() (*translator, error) {
	b := i18n.NewBundle(language.German)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, l := range Languages {
		if _, err := b.LoadMessageFileFS(localeFS, "locales/"+l+".toml"); err != nil {
			return nil, fmt.Errorf("web: locale %s: %w", l, err)
		}
	}
	t := &translator{bundle: b, localizers: map[string]*i18n.Localizer{}, matcher: language.NewMatcher(languageTags)}
	for _, l := range Languages {
		t.localizers[l] = i18n.NewLocalizer(b, l)
	}
	return t, nil
}

// T translates id into lang. Template data may be given as key/value pairs.
// A missing message shows its id, so gaps are visible (and caught by tests).
func (t *translator) T(lang, id string, kv ...any) string {
	if len(kv) == 0 {
		key := lang + "\x00" + id
		if v, ok := t.plain.Load(key); ok {
			return v.(string)
		}
		s := t.localize(lang, id, nil)
		t.plain.Store(key, s)
		return s
	}
	return t.localize(lang, id, kv)
}

func (t *translator) localize(lang, id string, kv []any) string {
	loc := t.localizers[lang]
	if loc == nil {
		loc = t.localizers["de"]
	}
	var data map[string]any
	if len(kv) > 0 {
		data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// pick chooses the language from the ?lang= parameter, the lang cookie and
// Accept-Language, in this order; German is the default.
func (t *translator) pick(r *http.Request) (lang string, fromQuery bool) {
	if q := r.URL.Query().Get("lang"); q == "de" || q == "en" {
		return q, true
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "de" || c.Value == "en") {
		return c.Value, false
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, idx, conf := t.matcher.Match(tags...)
			if conf != language.No {
				return Languages[idx], false
			}
		}
	}
	return "de", false
}

type langKey struct{}

// Lang returns the UI language of the request context ("de" or "en").
func Lang(ctx context.Context) string {
	if l, ok := ctx.Value(langKey{}).(string); ok {
		return l
	}
	return "de"
}

// language puts the chosen UI language into the context and remembers an
// explicit ?lang= choice in a cookie.
func (s *Server) language(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang, explicit := s.i18n.pick(r)
		if explicit {
			http.SetCookie(w, s.cookie("lang", lang, 365*24*3600))
		}
		w.Header().Set("Content-Language", lang)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, lang)))
	})
}

// tr translates id into the request's language.
func (s *Server) tr(r *http.Request, id string, kv ...any) string {
	return s.i18n.T(Lang(r.Context()), id, kv...)
}
