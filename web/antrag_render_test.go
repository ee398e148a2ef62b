// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"html"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus/form"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
)

// FuzzHTMLEscape checks that the step writer's escaping is html.EscapeString.
func FuzzHTMLEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `<a href="x">'&'</a>`, "ä<ö>ü", "&&&", "\x00<\xff",
		"Bitte geben Sie hier Ihren Namen ein, so wie er im Ausweis steht", "abcdefgh<bcdefghi>cdefghij&defghijk'efghijkl\"", "1234567<", "12345678<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w := getHW()
		defer putHW(w)
		w.e(s)
		if got, want := w.String(), html.EscapeString(s); got != want {
			t.Fatalf("e(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzFid checks fid against the replacement it stands for.
func FuzzFid(f *testing.F) {
	for _, s := range []string{"", "G1[0].F2", "F3[12]", "a.b.c", "[[]]..", "ä[0]"} {
		f.Add(s)
	}
	r := strings.NewReplacer("[", "-", "]", "", ".", "_")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := fid(s), "f-"+r.Replace(s); got != want {
			t.Fatalf("fid(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestOptionList checks the cached option markup against writing each
// option: nothing, one or (duplicate codes) several options selected,
// escaping, names falling back to codes.
func TestOptionList(t *testing.T) {
	vals := []form.Value{{Code: "1", Name: "Eins"}, {Code: `a"b`, Name: "<A&B>"}, {Code: "1", Name: "Eins bis"}, {Code: "3"}}
	slow := func(value string) string {
		w := getHW()
		defer putHW(w)
		for _, o := range vals {
			w.s("<option")
			w.attr("value", o.Code)
			if o.Code == value {
				w.s(" selected")
			}
			w.s(">")
			name := o.Name
			if name == "" {
				name = o.Code
			}
			w.e(name)
			w.s("</option>\n")
		}
		return w.String()
	}
	for _, tc := range []struct{ name, value string }{
		{"none", ""},
		{"unknown", "9"},
		{"duplicate", "1"},
		{"escaped", `a"b`},
		{"last", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := getHW()
			defer putHW(w)
			cachedOptions(vals).write(w, tc.value)
			if got, want := w.String(), slow(tc.value); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if cachedOptions(vals) != cachedOptions(vals) {
				t.Error("option list not cached")
			}
		})
	}
}

// FuzzTemplateEscapers checks the step content writer's escaping against
// html/template in the contexts antrag_step.html used: text, a data
// attribute, and URL attributes (href, action).
func FuzzTemplateEscapers(f *testing.F) {
	for _, s := range []string{"", "#f-G1-0_F2", "#schritt", "/antrag/entwurf/064110000000/ab12/3", "a+b & 'c' <d> \"e\"",
		"javascript:alert(1)", "HTTPS://x.test/a b", "mailto:a@b", "/x:y", "%41%zz%", "ä ö\x00\xff", `[{"Kind":"show_if"}]`} {
		f.Add(s)
	}
	tmpl := template.Must(template.New("").Parse(`<p>{{.}}</p><form data-rules="{{.}}" action="{{.}}"><a href="{{.}}">x</a><a href="/g?next={{.}}">y</a><title>{{.}}</title>`))
	f.Fuzz(func(t *testing.T, s string) {
		var want strings.Builder
		if err := tmpl.Execute(&want, s); err != nil {
			t.Skip()
		}
		w := getHW()
		defer putHW(w)
		w.s("<p>")
		w.te(s)
		w.s(`</p><form data-rules="`)
		w.te(s)
		w.s(`" action="`)
		w.tu(s)
		w.s(`"><a href="`)
		w.tu(s)
		w.s(`">x</a><a href="/g?next=`)
		w.tq(s)
		w.s(`">y</a><title>`)
		w.te(s)
		w.s(`</title>`)
		if got := w.String(); got != want.String() {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want.String())
		}
	})
}

// TestRenderFramed checks that a framed page (the form steps) equals the
// template executed for the same request, for visitors with and without
// municipality, citizens and staff, both languages, a demo server with a
// version, and request paths and queries that need escaping; and that the
// layout can be framed at all (else every step page executes it).
func TestRenderFramed(t *testing.T) {
	db := sqltest.Open(t, sqlstore.SQLite)
	ctx := context.Background()
	if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bund"},
		{ARS: "060000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Land <Hessen> & \"Co\" +1"},
	}); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	plain, err := New(Config{Logger: quiet}, Deps{Tenants: db.Tenants(), Catalog: db.Catalog()})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := New(Config{Logger: quiet, Demo: true, Version: "1.2+<x>"}, Deps{Tenants: db.Tenants(), Catalog: db.Catalog()})
	if err != nil {
		t.Fatal(err)
	}
	citizen := &session.Principal{User: &identity.User{ID: "u1", Kind: identity.KindCitizen, Name: "Erika"}, Session: &identity.Session{ID: "s1"}}
	staff := &session.Principal{User: &identity.User{ID: "u2", Kind: identity.KindStaff, Name: "Max"}, Session: &identity.Session{ID: "s2"}}
	body := []byte("\n<p>Inhalt</p>\n")
	for _, srv := range []struct {
		name string
		s    *Server
	}{{"plain", plain}, {"demo", demo}} {
		for _, who := range []struct {
			name string
			p    *session.Principal
		}{{"anonymous", nil}, {"citizen", citizen}, {"staff", staff}} {
			for _, muni := range []string{"", "060000000000", "069999999999"} {
				for _, lang := range []string{"de", "en"} {
					for _, target := range []string{"/antrag/entwurf/060000000000/d1/2", "/antrag/a%20b/%22x%22?lang=de&q=%3Cy%3E+1", "/%C3%A4?next=/x:y#f"} {
						name := strings.Join([]string{srv.name, who.name, muni, lang, target}, "|")
						req := httptest.NewRequest(http.MethodGet, target, nil)
						if muni != "" {
							req.AddCookie(&http.Cookie{Name: "municipality", Value: muni})
						}
						c := context.WithValue(req.Context(), langKey{}, lang)
						if who.p != nil {
							c = session.NewContext(c, who.p)
						}
						req = req.WithContext(c)
						title := "Schritt <1> & \"Titel\" + x"
						want := httptest.NewRecorder()
						srv.s.execute(want, req, http.StatusUnprocessableEntity, "antrag_step", framedPage{Title: title, Body: bodyMarker}, body, true)
						for i := range 2 { // builds the frame, then uses it
							got := httptest.NewRecorder()
							srv.s.renderFramed(got, req, http.StatusUnprocessableEntity, "antrag_step", title, body)
							if got.Code != want.Code || got.Body.String() != want.Body.String() || !cmp.Equal(got.Header(), want.Header()) {
								t.Fatalf("%s (%d): framed page differs:\n%s", name, i, cmp.Diff(want.Body.String(), got.Body.String()))
							}
						}
					}
				}
			}
		}
	}
	n := 0
	frames.Range(func(k, v any) bool {
		if k.(frameKey).s == plain || k.(frameKey).s == demo {
			n++
			if !v.(*frame).ok {
				t.Errorf("layout not framed for %+v", k)
			}
		}
		return true
	})
	if n == 0 {
		t.Error("no frames built")
	}
}
