// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rathaus/demo"
	"rathaus/internal/browsertest"
)

// browserUser is one person's Chromium (its own profile, so its own
// cookies) driving the portal of a running serve.
type browserUser struct {
	t    *testing.T
	name string
	ctx  context.Context
	r    *running
}

// do runs actions with a bounded time and fails the test with the
// server's log tail on error.
func (u *browserUser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	tctx, cancel := context.WithTimeout(u.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		loc, _ := chromedp.Run(u.ctx, chromedp.Location())
		u.t.Fatalf("%s: %s: %v (at %s)\nserver log:\n%s", u.name, what, err, loc, serveTail(u.r.stderr.String(), 3000))
	}
}

// eval returns the value of a JavaScript expression in the current page.
func (u *browserUser) eval(js string) string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		u.t.Fatalf("%s: eval %s: %v", u.name, js, err)
	}
	return s
}

// text returns the visible text of the first element matching sel, ""
// when there is none (without waiting).
func (u *browserUser) text(sel string) string {
	u.t.Helper()
	b, _ := json.Marshal(sel)
	return u.eval(`(function(){const e=document.querySelector(` + string(b) + `);return e?e.innerText.trim():"";})()`)
}

// has reports whether an element matching sel is in the current page.
func (u *browserUser) has(sel string) bool {
	b, _ := json.Marshal(sel)
	return u.eval(`document.querySelector(`+string(b)+`)?"1":""`) == "1"
}

// poll reloads path until ok holds for the page, for at most 120 s: the
// process steps run through jobs and sweeps (generous: CI runs many test
// binaries at once on two cores).
func (u *browserUser) poll(what, path string, ok func() bool) {
	u.t.Helper()
	for end := time.Now().Add(120 * time.Second); ; {
		u.do(what+" (load)", chromedp.Navigate(u.r.base+path), chromedp.WaitReady(chromedp.CSS("main")))
		if ok() {
			return
		}
		if time.Now().After(end) {
			u.t.Fatalf("%s: timed out waiting for %s on %s; page:\n%s\nserver log:\n%s", u.name, what, path, u.text("main"), serveTail(u.r.stderr.String(), 3000))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// waitNewPage waits (at most 60 s) until the page marked with
// data-old was replaced by the next one.
func (u *browserUser) waitNewPage(what string) {
	u.t.Helper()
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(30 * time.Millisecond) {
		ok, _ := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`!!document.body && !document.body.dataset.old && document.readyState === "complete"`))
		if ok {
			return
		}
		if time.Now().After(end) {
			u.t.Fatalf("%s: %s: no new page after 60 s", u.name, what)
		}
	}
}

// login fills the demo identity provider's login form.
func (u *browserUser) login(user, password, waitSel string) {
	u.t.Helper()
	u.do("demo login as "+user, chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS(waitSel)))
}

// fillUniversalJS fills the empty fields of the universal form's current
// step by the last part of their names (prefilled values stay).
const fillUniversalJS = `(function(){
  const vals = {beschreibung: "Ich beantrage Wohngeld für meine Mietwohnung.", vorname: "Erika", nachname: "Mustermann",
    email: "erika@example.org", strasse: "Luisenplatz", hausnummer: "5", plz: "64283", ort: "Darmstadt", zustimmung: "ja"};
  let n = 0;
  for (const el of document.querySelectorAll("main form input, main form select, main form textarea")) {
    const m = /([a-z]+)(\[\d+\])?$/.exec(el.name || "");
    if (!m || !(m[1] in vals) || el.type === "hidden" || el.type === "file") continue;
    if (el.type === "radio" || el.type === "checkbox") { el.checked = el.value === vals[m[1]]; }
    else if (el.value === "") { el.value = vals[m[1]]; }
    el.dispatchEvent(new Event("change", {bubbles: true}));
    n++;
  }
  return String(n);
})()`

// TestUniversalProcessBrowser is the "done when" of the universal process,
// clicked through Chromium against the real serve --demo with its demo
// identity provider: Erika chooses Darmstadt, logs in and applies for
// Wohngeld with the universal form; the caseworker finds the case in the
// desk inbox and requests information with a deadline; Erika sees the
// unread request in her Postfach and replies with text and a PDF; the
// caseworker approves; the notice PDF arrives in the Postfach (its link
// answers application/pdf) and the status page says "abgeschlossen".
// axe-core checks every desk, mailbox and status page visited.
func TestUniversalProcessBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	dir := t.TempDir()
	r := startServe(t, map[string]string{"RATHAUS_DATA": dir}, "--demo")
	erika := &browserUser{t: t, name: "erika", ctx: browsertest.New(t), r: r}
	staff := &browserUser{t: t, name: "sachbearbeiter", ctx: browsertest.New(t), r: r}
	const (
		request = "Bitte reichen Sie Ihre Mietbescheinigung nach."
		reply   = "Die Mietbescheinigung hängt an."
	)

	// The citizen: municipality first, then login, then the universal form.
	erika.do("application without municipality", chromedp.Navigate(r.base+"/antrag/"+demo.KeyWohngeld), chromedp.WaitVisible(chromedp.CSS("#mq")))
	erika.do("search Darmstadt", chromedp.SendKeys(chromedp.CSS("#mq"), "Darmstadt", chromedp.NodeVisible), chromedp.Submit(chromedp.CSS("#mq")),
		chromedp.WaitVisible(chromedp.CSS(`form.choose input[value="`+demo.Darmstadt+`"] ~ button`)))
	erika.do("choose Darmstadt", chromedp.Click(chromedp.CSS(`form.choose input[value="`+demo.Darmstadt+`"] ~ button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`main a[href^="/auth/login"]`)))
	if loc, _ := chromedp.Run(erika.ctx, chromedp.Location()); !strings.Contains(loc, "/antrag/"+demo.KeyWohngeld) {
		t.Fatalf("after choosing Darmstadt at %s, want the application start page", loc)
	}
	erika.do("login link", chromedp.Click(chromedp.CSS(`main a[href^="/auth/login"]`), chromedp.NodeVisible))
	erika.login("erika", "demo-erika", "form.start button")
	erika.do("begin", chromedp.Click(chromedp.CSS("form.start button"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#schritt")))
	for step := 0; ; step++ {
		if step > 8 {
			t.Fatalf("no check page after %d steps: %s", step, erika.text("main"))
		}
		if erika.has("#absenden") {
			break
		}
		erika.eval(fillUniversalJS)
		before := erika.text("#schritt")
		erika.do("mark page", chromedp.Evaluate[chromedp.Void](`document.body.dataset.old = "1"`))
		erika.do("continue from "+before, chromedp.Click(chromedp.CSS("#weiter"), chromedp.NodeVisible))
		erika.waitNewPage("continue from " + before)
		if s := erika.text("#fehler"); s != "" {
			t.Fatalf("errors after %s: %s", before, strings.ReplaceAll(s, "\n", " | "))
		}
	}
	erika.do("submit", chromedp.Click(chromedp.CSS("#absenden"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#aktenzeichen")))
	ref := erika.text("#aktenzeichen")
	if ref == "" {
		t.Fatal("no reference on the receipt")
	}
	erika.do("applications", chromedp.Navigate(r.base+"/antraege"), chromedp.WaitVisible(chromedp.CSS(`main a[href^="/antraege/"]`)))
	appPath := erika.eval(`document.querySelector('main a[href^="/antraege/"]').getAttribute("href")`)

	// The caseworker finds the case and requests information.
	staff.do("staff page", chromedp.Navigate(r.base+"/verwaltung"))
	staff.login("sachbearbeiter", "demo-sachbearbeiter", `main a[href="/verwaltung/`+demo.Darmstadt+`"]`)
	var casePath string
	staff.poll("the case in the inbox", "/verwaltung/faelle", func() bool {
		b, _ := json.Marshal(ref)
		casePath = staff.eval(`(function(){for (const a of document.querySelectorAll('table.cases a')) if (a.textContent.trim() === ` + string(b) + `) return a.getAttribute("href"); return "";})()`)
		return casePath != ""
	})
	browsertest.Axe(t, staff.ctx)
	staff.poll("the request form", casePath, func() bool { return staff.has("#r-message") })
	browsertest.Axe(t, staff.ctx)
	staff.do("request information", chromedp.SendKeys(chromedp.CSS("#r-message"), request, chromedp.NodeVisible),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("r-deadline").value = "2030-05-31"`),
		chromedp.Click(chromedp.CSS(`form[action$="/request"] button`), chromedp.NodeVisible), chromedp.WaitReady(chromedp.CSS("main")))

	// The citizen sees the unread request in the Postfach and replies.
	var msgPath string
	erika.poll("the unread request in the Postfach", "/postfach", func() bool {
		msgPath = erika.eval(`(function(){for (const s of document.querySelectorAll('strong.unread')) { const a = s.parentElement.querySelector('a[href^="/postfach/"]'); if (a && /Rückfrage|Nachforderung|Nachforderung/.test(a.textContent)) return a.getAttribute("href"); } return "";})()`)
		return msgPath != "" && strings.Contains(erika.text("main"), "Frist: 31.05.2030")
	})
	t.Logf("Postfach with the request %s:\n%s", msgPath, erika.text("main"))
	if got := erika.text("#mailbox-unread"); got == "" || strings.Contains(got, "keine") {
		t.Errorf("unread line = %q", got)
	}
	browsertest.Axe(t, erika.ctx)
	erika.do("status while waiting", chromedp.Navigate(r.base+appPath), chromedp.WaitVisible(chromedp.CSS("#status-expected")))
	if got := erika.text("#status-expected"); !strings.Contains(got, "Mietbescheinigung") {
		t.Errorf("expected while waiting = %q", got)
	}
	browsertest.Axe(t, erika.ctx)
	erika.do("open request", chromedp.Navigate(r.base+msgPath), chromedp.WaitVisible(chromedp.CSS("#reply-text")))
	if got := erika.text("#message-body"); !strings.Contains(got, "Mietbescheinigung") {
		t.Errorf("request body = %q", got)
	}
	browsertest.Axe(t, erika.ctx)
	pdf := filepath.Join(t.TempDir(), "miete.pdf")
	serveMust(t, os.WriteFile(pdf, []byte("%PDF-1.4\n% Mietbescheinigung\n%%EOF\n"), 0o600))
	erika.do("reply", chromedp.SendKeys(chromedp.CSS("#reply-text"), reply, chromedp.NodeVisible),
		chromedp.SetUploadFiles(chromedp.CSS("#reply-files"), []string{pdf}),
		chromedp.Click(chromedp.CSS(`form[action$="/antwort"] button[type=submit]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#reply-sent")))
	if got := erika.text("main"); !strings.Contains(got, "miete.pdf") || !strings.Contains(got, reply) {
		t.Errorf("sent reply page lacks the text or the file:\n%s", got)
	}
	browsertest.Axe(t, erika.ctx)

	// The caseworker sees the answer and approves.
	staff.poll("the decision form after the reply", casePath, func() bool {
		return staff.has(`input[name="decision"][value="approve"]`) && strings.Contains(staff.text("main"), "Antwort der antragstellenden Person eingegangen")
	})
	browsertest.Axe(t, staff.ctx)
	staff.do("approve", chromedp.Click(chromedp.CSS(`input[name="decision"][value="approve"]`), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#d-reason"), "Alle Voraussetzungen erfüllt.", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/decide"] button[type=submit]`), chromedp.NodeVisible), chromedp.WaitReady(chromedp.CSS("main")))

	// The notice arrives in the Postfach; the status says "abgeschlossen".
	var noticeMsg string
	erika.poll("the unread notice in the Postfach", "/postfach", func() bool {
		noticeMsg = erika.eval(`(function(){for (const s of document.querySelectorAll('strong.unread')) { const a = s.parentElement.querySelector('a[href^="/postfach/"]'); if (a && /Bescheid/.test(a.textContent)) return a.getAttribute("href"); } return "";})()`)
		return noticeMsg != ""
	})
	t.Logf("Postfach with the notice %s:\n%s", noticeMsg, erika.text("main"))
	browsertest.Axe(t, erika.ctx)
	erika.do("open the notice", chromedp.Navigate(r.base+noticeMsg), chromedp.WaitVisible(chromedp.CSS("#message-body")))
	noticeHref := erika.eval(`(function(){const a = document.querySelector('main a[href*="/anhang/"][download]'); return a && /\.pdf$/i.test(a.textContent.trim()) ? a.getAttribute("href") : "";})()`)
	if noticeHref == "" {
		t.Fatalf("notice without a PDF attachment:\n%s", erika.text("main"))
	}
	browsertest.Axe(t, erika.ctx)
	got := erika.eval(`(function(){const x = new XMLHttpRequest(); x.open("GET", ` + mustJSON(noticeHref) + `, false); x.overrideMimeType("text/plain; charset=x-user-defined"); x.send(); return x.status + " " + x.getResponseHeader("Content-Type") + " " + x.responseText.slice(0, 5);})()`)
	t.Logf("notice %s: %s", noticeHref, got)
	if !strings.HasPrefix(got, "200 application/pdf %PDF-") {
		t.Errorf("notice attachment %s answers %q, want 200 application/pdf %%PDF-", noticeHref, got)
	}
	erika.poll("the closed status", appPath, func() bool { return erika.text("#status-state") == "abgeschlossen" })
	browsertest.Axe(t, erika.ctx)
	staff.poll("the closed case at the desk", casePath, func() bool {
		st := staff.eval(`(function(){for (const dt of document.querySelectorAll("main dt")) if (dt.textContent.trim() === "Status") return dt.nextElementSibling.textContent.trim(); return "";})()`)
		return strings.HasPrefix(st, "abgeschlossen") && strings.Contains(st, "bewillig")
	})
	browsertest.Axe(t, staff.ctx)
}

// mustJSON quotes s as a JavaScript string literal.
func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
