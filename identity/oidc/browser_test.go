// SPDX-License-Identifier: EUPL-1.2

package oidc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rathaus/identity/internal/memstore"
	"rathaus/internal/browsertest"
)

// TestBrowserLogin walks the login in headless Chromium: the demo IdP's
// page (checked with axe), a wrong password, the right one, the redirect
// back with the SameSite=Lax cookies and the protected page.
func TestBrowserLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browsertest.New(t)
	e := setupOn(t, memstore.New(), &memstore.Audit{})

	do := func(what string, as ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, as...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	do("open login", chromedp.Navigate(e.srv.URL+"/auth/login?as=citizen&next=/mein-konto"), chromedp.WaitVisible(chromedp.CSS("#username")))
	browsertest.Axe(t, ctx)

	do("wrong password", chromedp.SendKeys(chromedp.CSS("#username"), "erika"), chromedp.SendKeys(chromedp.CSS("#password"), "falsch"),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("#fehler")))
	if got := text("#fehler"); !strings.Contains(got, "Passwort ist falsch") {
		t.Errorf("error message %q", got)
	}
	browsertest.Axe(t, ctx)

	do("right password", chromedp.SendKeys(chromedp.CSS("#password"), "demo-erika"), chromedp.Submit(chromedp.CSS("#password")))
	// The poll may start on a page that is navigating away; retry then.
	var err error
	for range 10 {
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.body !== null && document.body.innerText.startsWith("Angemeldet als")`)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("protected page not reached (at %s): %v", loc, err)
	}
	if got, want := text("body"), "Angemeldet als Erika Mustermann (citizen, substantial, )"; got != want {
		t.Errorf("protected page %q, want %q", got, want)
	}

	op := setupOperator(t, true)
	do("operator form", chromedp.Navigate(op.srv.URL+"/auth/operator?next=/betrieb"), chromedp.WaitVisible(chromedp.CSS("#name")))
	browsertest.Axe(t, ctx)
	do("operator login", chromedp.SendKeys(chromedp.CSS("#name"), "betrieb"), chromedp.SendKeys(chromedp.CSS("#password"), "eine lange Passphrase"),
		chromedp.Submit(chromedp.CSS("#password")))
	for range 10 {
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.body !== null && document.body.innerText.startsWith("Betrieb:")`)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("operator page not reached: %v", err)
	}
}
