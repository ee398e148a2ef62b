// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"html"
	"html/template"
	"strings"
	"testing"

	"rathaus/form"
)

// FuzzHTMLEscape checks that the step writer's escaping is html.EscapeString.
func FuzzHTMLEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `<a href="x">'&'</a>`, "ä<ö>ü", "&&&", "\x00<\xff"} {
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
	tmpl := template.Must(template.New("").Parse(`<p>{{.}}</p><form data-rules="{{.}}" action="{{.}}"><a href="{{.}}">x</a>`))
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
		w.s(`">x</a>`)
		if got := w.String(); got != want.String() {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want.String())
		}
	})
}
