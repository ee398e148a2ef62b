// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp/syntax"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"rathaus/fim"
	rform "rathaus/form"
	"rathaus/internal/browsertest"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/submission"
)

// ---- a generic filler: valid values derived from the model ----

// sample returns a string matching the XSD pattern (implicitly anchored),
// built from the parsed expression: the first alternative, the minimum
// repetitions, a letter or digit from each class.
func sample(pattern string) (string, bool) {
	re, err := rform.CompilePattern(pattern)
	if err != nil {
		return "", false
	}
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	var gen func(r *syntax.Regexp)
	gen = func(r *syntax.Regexp) {
		switch r.Op {
		case syntax.OpLiteral:
			b.WriteString(string(r.Rune))
		case syntax.OpCharClass:
			b.WriteRune(pickRune(r.Rune))
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			b.WriteByte('a')
		case syntax.OpCapture:
			gen(r.Sub[0])
		case syntax.OpConcat:
			for _, s := range r.Sub {
				gen(s)
			}
		case syntax.OpAlternate:
			gen(r.Sub[0])
		case syntax.OpPlus:
			gen(r.Sub[0])
		case syntax.OpRepeat:
			for i := 0; i < r.Min; i++ {
				gen(r.Sub[0])
			}
		}
	}
	gen(p)
	s := b.String()
	return s, re.MatchString(s)
}

// pickRune chooses a readable rune from a class's ranges: a lower-case
// letter, else a digit or upper-case letter, else the first printable.
func pickRune(ranges []rune) rune {
	for _, pref := range [][2]rune{{'a', 'z'}, {'0', '9'}, {'A', 'Z'}} {
		for i := 0; i+1 < len(ranges); i += 2 {
			lo, hi := max(ranges[i], pref[0]), min(ranges[i+1], pref[1])
			if lo <= hi {
				return lo
			}
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1] && r < ranges[i]+512; r++ {
			if unicode.IsPrint(r) && r != ' ' {
				return r
			}
		}
	}
	return 'a'
}

// filler derives valid answers for a model.
type filler struct {
	m    *rform.Model
	skip map[string]bool // one_of targets after the first: left empty
	pdf  string          // a PDF file for required uploads
}

func newFiller(m *rform.Model, pdf string) *filler {
	f := &filler{m: m, skip: map[string]bool{}, pdf: pdf}
	m.Walk(func(it *rform.Item, _ *rform.Item) bool {
		for _, r := range it.Rules {
			for _, c := range r.Conditions {
				if c.Kind == rform.OneOf {
					for _, t := range c.Targets[1:] {
						f.skip[t] = true
					}
				}
			}
		}
		return true
	})
	for _, r := range m.Rules {
		for _, c := range r.Conditions {
			if c.Kind == rform.OneOf && len(c.Targets) > 1 {
				for _, t := range c.Targets[1:] {
					f.skip[t] = true
				}
			}
		}
	}
	return f
}

// value returns a valid posted value for a field.
func (f *filler) value(it *rform.Item) string {
	if opts := f.m.Options(it); len(opts) > 0 {
		return opts[0].Code
	}
	c := it.Constraints
	switch it.Datentyp {
	case rform.TypBool:
		return "true"
	case rform.TypDate:
		if c.MinValue != "" {
			return c.MinValue
		}
		if c.MaxValue != "" && c.MaxValue < "2020-01-15" {
			return c.MaxValue
		}
		return "2020-01-15"
	case rform.TypTime:
		return "10:30"
	case rform.TypDateTime:
		return "2020-01-15T10:30"
	case rform.TypNum, rform.TypNumInt, rform.TypNumCurrency:
		if c.MinValue != "" {
			return c.MinValue
		}
		if c.MaxValue != "" && strings.HasPrefix(c.MaxValue, "-") {
			return c.MaxValue
		}
		return "1"
	}
	s := "Beispiel"
	if c.Pattern != "" {
		if p, ok := sample(c.Pattern); ok {
			s = p
		}
	}
	for len([]rune(s)) < c.MinLength {
		s += "x"
	}
	if c.MaxLength > 0 && len([]rune(s)) > c.MaxLength {
		s = string([]rune(s)[:c.MaxLength])
	}
	return s
}

// step returns the posted values and the file uploads (input name →
// file) of one step, as rendered: one instance of repeatable groups
// (or their minimum), every input field filled.
func (f *filler) step(st rform.Step) (map[string]string, map[string]string) {
	vals, files := map[string]string{}, map[string]string{}
	var walk func(items []rform.Item, path string)
	walk = func(items []rform.Item, path string) {
		for i := range items {
			it := &items[i]
			if f.skip[it.ID] {
				continue
			}
			p := it.ID
			if path != "" {
				p = path + "." + it.ID
			}
			n := 1
			if it.Repeatable() && it.Min > 1 {
				n = it.Min
			}
			if it.Kind == rform.KindGroup {
				for k := 0; k < n; k++ {
					walk(it.Items, fmt.Sprintf("%s[%d]", p, k))
				}
				continue
			}
			if it.Feldart != rform.FeldInput && it.Feldart != rform.FeldSelect {
				continue
			}
			if it.Datentyp == rform.TypFile || it.Datentyp == rform.TypObj {
				if it.Min > 0 {
					files[p+"[0]"] = f.pdf
					if !it.Repeatable() {
						files[p] = f.pdf
						delete(files, p+"[0]")
					}
				}
				continue
			}
			if !it.Repeatable() {
				vals[p] = f.value(it)
				continue
			}
			for k := 0; k < n; k++ {
				vals[fmt.Sprintf("%s[%d]", p, k)] = f.value(it)
			}
		}
	}
	walk(st.Items, "")
	return vals, files
}

// fillJS sets the values by input name (radios by value) and fires change.
const fillJS = `(function(vals){
  for (const name of Object.keys(vals)) {
    const v = vals[name];
    for (const el of document.getElementsByName(name)) {
      if (el.type === 'radio' || el.type === 'checkbox') { el.checked = (el.value === v); }
      else { el.value = v; }
      el.dispatchEvent(new Event('change', {bubbles: true}));
    }
  }
  return true;
})(%s)`

// ---- the browser test ----

// eval runs JavaScript in the page (DevTools evaluation, also with the
// page's scripts disabled).
func eval(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return chromedp.Void{}, err
	}
}

type journey struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots bool
	jsOff bool // page scripts disabled; axe runs with them on for a moment
}

func scripts(disabled bool) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled})
		return chromedp.Void{}, err
	}
}

// axe checks the page (the page's own scripts stay as loaded).
func (j *journey) axe() {
	j.t.Helper()
	if j.jsOff {
		j.do("axe: scripts on", scripts(false))
		defer j.do("axe: scripts off", scripts(true))
	}
	browsertest.Axe(j.t, j.ctx)
}

func (j *journey) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	j.t.Helper()
	tctx, cancel := context.WithTimeout(j.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		j.t.Fatalf("%s: %v", what, err)
	}
}

func (j *journey) location() string {
	loc, _ := chromedp.Run(j.ctx, chromedp.Location())
	return loc
}

// text returns the text of the first element matching sel, "" if none
// (without waiting).
func (j *journey) text(sel string) string {
	b, _ := json.Marshal(sel)
	s, _ := chromedp.Run(j.ctx, chromedp.Evaluate[string](`(function(){const e=document.querySelector(`+string(b)+`);return e?e.innerText.trim():"";})()`))
	return s
}

// click clicks sel and waits for the next page to have loaded.
func (j *journey) click(what, sel string) {
	j.t.Helper()
	j.do(what+" (mark)", eval(`document.body.dataset.old = "1"; true`))
	j.do(what, chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, _ := chromedp.Run(j.ctx, chromedp.Evaluate[bool](`!!document.body && !document.body.dataset.old && document.readyState === "complete"`))
		if ok {
			return
		}
		if time.Now().After(deadline) {
			j.t.Fatalf("%s: no new page after 20 s (%s)", what, j.location())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// apply runs the journey through a form bound to serviceKey: start
// (anonymous), every step with axe, check page, submit, receipt.
func (j *journey) apply(serviceKey string, m *rform.Model, fl *filler) {
	t := j.t
	j.do("start page", chromedp.Navigate(j.base+"/antrag/"+serviceKey), chromedp.WaitVisible(chromedp.CSS("form.start button")))
	j.axe()
	j.click("start anonymously", "form.start button")
	steps := m.Steps()
	for n := 1; n <= len(steps); n++ {
		want := fmt.Sprintf("Schritt %d von %d", n, len(steps))
		if got := j.text("#schritt"); got != want {
			t.Fatalf("%s: progress %q, want %q (%s): %s", m.ID, got, want, j.location(), j.text("main"))
		}
		j.axe()
		vals, files := fl.step(steps[n-1])
		b, _ := json.Marshal(vals)
		j.do(fmt.Sprintf("fill step %d", n), eval(fmt.Sprintf(fillJS, b)))
		for name, file := range files {
			j.do("upload "+name, chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name="`+name+`"]`), []string{file}))
		}
		if j.shots && n == 2 && os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
			_ = browsertest.Screenshot(j.ctx, filepath.Join("..", "docs", "screenshots", "form-step.png"))
		}
		j.click(fmt.Sprintf("continue from step %d", n), "#weiter")
		if s := j.text("#fehler"); s != "" {
			t.Fatalf("%s step %d (%s): errors after filling: %s\nvalues %s", m.ID, n, steps[n-1].Title, strings.ReplaceAll(s, "\n", " | "), b)
		}
		if j.text("#schritt") == want {
			// A condition revealed more fields: fill them too.
			vals, files := fl.step(steps[n-1])
			b, _ := json.Marshal(vals)
			j.do("refill", eval(fmt.Sprintf(fillJS, b)))
			for name, file := range files {
				j.do("upload "+name, chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name="`+name+`"]`), []string{file}))
			}
			j.click("continue again", "#weiter")
			if s := j.text("#fehler"); s != "" {
				t.Fatalf("%s step %d (%s): errors after refilling: %s", m.ID, n, steps[n-1].Title, s)
			}
		}
	}
	j.axe()
	if j.text("#absenden") == "" {
		t.Fatalf("%s: no submit button on the check page: %s", m.ID, strings.ReplaceAll(j.text("#fehler"), "\n", " | "))
	}
	j.click("submit", "#absenden")
	j.axe()
	if ref := j.text("#aktenzeichen"); ref == "" {
		t.Fatalf("%s: no reference on the receipt", m.ID)
	}
	if j.shots && os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
		_ = browsertest.Screenshot(j.ctx, filepath.Join("..", "docs", "screenshots", "receipt.png"))
	}
}

// TestAntragBrowser imports every real XDatenfelder 2 schema of the shared
// data, binds each to a service and applies for it in Chromium (axe-core on
// every step, start, check and receipt page), then the universal form with
// JavaScript on and off.
func TestAntragBrowser(t *testing.T) {
	dir := testenv.SharedData(t, "fim-schemas/xdf2")
	ctx := browsertest.New(t)
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	pdf := filepath.Join(t.TempDir(), "nachweis.pdf")
	if err := os.WriteFile(pdf, pdfBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	j := &journey{t: t, ctx: ctx, base: f.ts.URL}
	j.do("municipality cookie", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "municipality", Value: arsDarmstadt, URL: f.ts.URL, Path: "/"})
		return chromedp.Void{}, err
	})
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"dldb-a", "dldb-b", "dldb-c", "dldb-d", "dldb-e", "dldb-f"}
	for i, e := range entries {
		if !e.IsDir() {
			continue
		}
		m, err := fim.LoadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		key := keys[i]
		ctx := context.Background()
		if err := f.db.Forms().PutForm(ctx, arsHessen, m); err != nil {
			t.Fatal(err)
		}
		if err := f.db.Forms().Bind(ctx, arsHessen, key, m.ID, m.Version); err != nil {
			t.Fatal(err)
		}
		t.Run(e.Name(), func(t *testing.T) {
			jj := *j
			jj.t = t
			jj.apply(key, m, newFiller(m, pdf))
		})
	}
	uni := submission.UniversalForm("de")
	t.Run("universal", func(t *testing.T) {
		jj := *j
		jj.t, jj.shots = t, true
		jj.apply(keyHund, uni, newFiller(uni, pdf))
	})
	t.Run("universal without JavaScript", func(t *testing.T) {
		jj := *j
		jj.t, jj.jsOff = t, true
		jj.do("scripts off", scripts(true))
		defer jj.do("scripts on", scripts(false))
		jj.apply(keyAusweis, uni, newFiller(uni, pdf))
	})
	var n int
	if err := f.db.SQL().QueryRow(`SELECT COUNT(*) FROM applications`).Scan(&n); err != nil || n < 4 {
		t.Errorf("applications stored: %d, %v", n, err)
	}
}

// TestAntragKeyboard completes the universal form with the keyboard only
// (Tab, typing, Space, Enter) and checks that the error summary takes the
// focus.
func TestAntragKeyboard(t *testing.T) {
	ctx := browsertest.New(t)
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	j := &journey{t: t, ctx: ctx, base: f.ts.URL}
	j.do("municipality cookie", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "municipality", Value: arsDarmstadt, URL: f.ts.URL, Path: "/"})
		return chromedp.Void{}, err
	})
	active := func() string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){const e=document.activeElement;return e?(e.id||e.name||e.textContent.trim()):"";})()`))
		return s
	}
	tabTo := func(want string) {
		t.Helper()
		for i := 0; i < 80; i++ {
			j.do("tab", chromedp.KeyEvent("\t"))
			if a := active(); a == want {
				return
			}
		}
		t.Fatalf("Tab never reached %q on %s", want, j.location())
	}
	press := func(what, keys string) {
		t.Helper()
		j.do(what+" (mark)", eval(`document.body.dataset.old = "1"; true`))
		j.do(what, chromedp.KeyEvent(keys))
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.body && !document.body.dataset.old && document.readyState === "complete"`))
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no new page", what)
			}
			time.Sleep(30 * time.Millisecond)
		}
	}
	typeIn := func(id, text string) {
		t.Helper()
		tabTo(id)
		j.do("type into "+id, chromedp.KeyEvent(text))
	}
	j.do("start page", chromedp.Navigate(f.ts.URL+"/antrag/"+keyHund), chromedp.WaitVisible(chromedp.CSS("form.start button")))
	tabTo("Ohne Anmeldung fortfahren")
	press("start", "\r")
	// Step 1 empty: the error summary gets the focus.
	tabTo("weiter")
	press("empty step", "\r")
	if a := active(); a != "fehler" {
		t.Fatalf("focus after an error: %q, want the error summary", a)
	}
	typeIn("f-anliegen-0_beschreibung", "Ich melde meinen Hund an.")
	tabTo("weiter")
	press("step 1", "\r")
	typeIn("f-kontakt-0_vorname", "Erika")
	typeIn("f-kontakt-0_nachname", "Mustermann")
	typeIn("f-kontakt-0_email", "erika@example.org")
	tabTo("weiter")
	press("step 2", "\r")
	tabTo("weiter")
	press("step 3", "\r")
	tabTo("f-einwilligung-0_zustimmung-0")
	j.do("consent", chromedp.KeyEvent(" "))
	tabTo("weiter")
	press("step 4", "\r")
	tabTo("absenden")
	press("submit", "\r")
	if ref := j.text("#aktenzeichen"); ref == "" {
		t.Fatalf("no receipt after keyboard-only completion: %s", j.text("main"))
	}
	j.axe()
}

// TestAntragFilterAsYouType: with JavaScript the filter box of a long code
// list (Staat, S00000246) narrows the options while typing.
func TestAntragFilterAsYouType(t *testing.T) {
	m, err := fim.LoadDir(testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	f := newAntragFixture(t, sqlstore.SQLite, nil)
	must(t, f.db.Forms().PutForm(context.Background(), arsHessen, m))
	must(t, f.db.Forms().Bind(context.Background(), arsHessen, "dldb-a", m.ID, m.Version))
	j := &journey{t: t, ctx: ctx, base: f.ts.URL}
	j.do("municipality cookie", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "municipality", Value: arsDarmstadt, URL: f.ts.URL, Path: "/"})
		return chromedp.Void{}, err
	})
	j.do("start page", chromedp.Navigate(f.ts.URL+"/antrag/dldb-a"), chromedp.WaitVisible(chromedp.CSS("form.start button")))
	j.click("start", "form.start button")
	// The first filter box that is shown (others sit in hidden conditional groups).
	// Both lists of step 1 sit in groups a condition hides until a choice is
	// made; show the first one as the condition would.
	j.do("pick filter", eval(`(function(){const i=document.querySelector('[data-filter-for]');i.id='probe-filter';for(let e=i;e;e=e.parentElement){e.hidden=false}return true})()`))
	visible := func() int {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`(function(){const i=document.getElementById('probe-filter');const s=document.getElementById(i.getAttribute('data-filter-for'));let n=0;for(const o of s.options){if(!o.hidden&&o.value)n++}return n})()`))
		return n
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#probe-filter').length + 10*document.querySelectorAll('[data-filter-for]').length`)); n%10 != 1 {
		t.Fatalf("no visible filter box (code %d) on %s", n, j.location())
	}
	before := visible()
	j.do("type filter", chromedp.SendKeys(chromedp.CSS("#probe-filter"), "frank"))
	after := visible()
	if before < 190 || after == 0 || after > 3 {
		t.Fatalf("options visible: %d before, %d after typing", before, after)
	}
}
