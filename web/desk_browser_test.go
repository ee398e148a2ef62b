// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rathaus/identity"
	"rathaus/internal/browsertest"
	"rathaus/internal/testenv"
	"rathaus/mailbox"
	"rathaus/sqlstore"
)

// TestDeskBrowser works the desk in headless Chromium with scripts off
// (no-JS first): the inbox with an overdue case, the case page, a note and
// an information request sent through the plain forms; axe-core finds no
// WCAG 2.1 AA violation on the inbox and the case page. With
// RATHAUS_SCREENSHOTS=1 it saves docs/screenshots/desk.png.
func TestDeskBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	df := newDeskFixture(t, sqlstore.SQLite)
	citizen, err := df.db.Identity().UpsertUser(context.Background(), identity.User{Kind: identity.KindCitizen, Issuer: "https://idp.test", Subject: "buergerin", Name: "Erika Mustermann"})
	if err != nil {
		t.Fatal(err)
	}
	df.user = citizen.ID // app-1 has a mailbox
	df.now = time.Now().UTC().Add(-40 * 24 * time.Hour)
	df.submit(t, arsDarmstadt, "app-1", "DA-2026-7K3M-9QXT", map[string]any{"vorname": "Erika", "nachname": "Mustermann", "anschrift": "Luisenplatz 5, 64283 Darmstadt"})
	df.now = time.Now().UTC()
	df.user = ""
	df.submit(t, arsDarmstadt, "app-2", "DA-2026-4HP2-8WZR", map[string]any{"vorname": "Max", "nachname": "Mustermann"})
	df.submit(t, arsDarmstadt, "app-3", "DA-2026-2BQ9-1MCE", map[string]any{"vorname": "Aylin", "nachname": "Yılmaz"})

	page := browsertest.NewPage(t, ctx)
	page.Timeout = 30 * time.Second
	do, text, axe := page.Do, page.Text, page.AxeWithScripts
	do("session cookie and no scripts", browsertest.SetCookie(df.ts.URL, df.staff), browsertest.Scripts(true))

	do("open inbox", chromedp.Navigate(df.ts.URL+"/verwaltung/faelle"), chromedp.WaitVisible(chromedp.CSS("table.cases")))
	if got := text("table.cases tr.overdue"); !strings.Contains(got, "DA-2026-7K3M-9QXT") || !strings.Contains(got, "überfällig") {
		t.Errorf("overdue row = %q", got)
	}
	axe()
	if os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
		if err := browsertest.Screenshot(ctx, filepath.Join(testenv.RepoRoot(t), "docs", "screenshots", "desk.png")); err != nil {
			t.Error(err)
		}
	}
	do("filter overdue", chromedp.Navigate(df.ts.URL+"/verwaltung/faelle?overdue=1"), chromedp.WaitVisible(chromedp.CSS("table.cases")))
	if got := text("table.cases tbody"); strings.Contains(got, "DA-2026-4HP2-8WZR") {
		t.Errorf("overdue filter shows a case in time: %q", got)
	}
	do("open case", chromedp.Click(chromedp.CSS(`a[href$="/app-1"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#n-text")))
	if got := text("dl.answers"); !strings.Contains(got, "Mustermann") {
		t.Errorf("answers = %q", got)
	}
	axe()
	// waitHistory waits until the case history has an entry with text (the
	// form was posted and the redirect loaded), then reloads the page.
	casePage := df.ts.URL + "/verwaltung/faelle/" + arsDarmstadt + "/app-1"
	waitHistory := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			h, _ := df.w.Cases.History(context.Background(), arsDarmstadt, "app-1")
			found := false
			for _, e := range h {
				found = found || strings.Contains(e.Text, what)
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("history never got %q", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The form's redirect may still be loading: a navigation that
		// aborts it is aborted in turn (net::ERR_ABORTED); try again.
		for i := 0; ; i++ {
			tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := chromedp.Do(tctx, chromedp.Navigate(casePage), chromedp.WaitVisible(chromedp.CSS("#n-text")))
			cancel()
			if err == nil {
				break
			}
			if i == 2 || !strings.Contains(err.Error(), "ERR_ABORTED") {
				t.Fatalf("reload case: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	do("claim", chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`), chromedp.NodeVisible))
	waitHistory("Übernommen")
	do("note", chromedp.SendKeys(chromedp.CSS("#n-text"), "Rückruf am Montag vereinbart", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/note"] button`), chromedp.NodeVisible))
	waitHistory("Rückruf am Montag")
	do("request information", chromedp.SendKeys(chromedp.CSS("#r-message"), "Bitte reichen Sie ein biometrisches Lichtbild nach.", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/request"] button`), chromedp.NodeVisible))
	// The process posts the request in its own step (a job; here: Drain).
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := df.w.Cases.Case(context.Background(), arsDarmstadt, "app-1"); err == nil && c.Status == "nachforderung" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := df.w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	do("reload case", chromedp.Navigate(df.ts.URL+"/verwaltung/faelle/"+arsDarmstadt+"/app-1"), chromedp.WaitVisible(chromedp.CSS("ol.history")))
	hist := text("ol.history")
	for _, want := range []string{"Übernommen", "Rückruf am Montag vereinbart", "Bitte reichen Sie ein biometrisches Lichtbild nach."} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q: %q", want, hist)
		}
	}
	if got := text("dl.facts"); !strings.Contains(got, "Nachforderung") {
		t.Errorf("status after request = %q", got)
	}

	// The citizen replies in the Postfach with a text and a PDF: the
	// caseworker reads both on the case page.
	thread, err := df.mb.Thread(context.Background(), arsDarmstadt, "app-1")
	if err != nil || len(thread) != 1 {
		t.Fatalf("thread after the request: %d messages, %v", len(thread), err)
	}
	if _, err := df.mb.Reply(context.Background(), citizen.ID, thread[0].ID, "Anbei das Lichtbild.", []mailbox.Upload{{Filename: "lichtbild.pdf", Data: testPDF}}); err != nil {
		t.Fatal(err)
	}
	if err := df.w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	do("reload case after the reply", chromedp.Navigate(casePage), chromedp.WaitVisible(chromedp.CSS("ol.mail")))
	if got := text("ol.mail li.from-citizen"); !strings.Contains(got, "Anbei das Lichtbild.") || !strings.Contains(got, "lichtbild.pdf") {
		t.Errorf("citizen's reply on the case page = %q", got)
	}
	if got := text("ol.history"); !strings.Contains(got, "Antragstellende Person") || strings.Contains(got, citizen.ID) {
		t.Errorf("history names the applicant by id, not as the applicant: %q", got)
	}
	axe()
}
