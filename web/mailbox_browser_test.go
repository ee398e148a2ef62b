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

	"rathaus/casework"
	"rathaus/identity"
	"rathaus/internal/browsertest"
	"rathaus/internal/testenv"
	"rathaus/mailbox"
	"rathaus/sqlstore"
	"rathaus/submission"
)

// TestMailboxBrowser walks the mailbox in headless Chromium with scripts
// off (no-JS first): the list with unread markers, a request, the reply
// form, the status page before and after; axe-core finds no WCAG 2.1 AA
// violation on any of them.
func TestMailboxBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	f := newMailboxFixture(t, sqlstore.SQLite)
	bg := context.Background()
	erika := f.login(identity.KindCitizen, "erika", identity.LoASubstantial)
	uid := f.userID(erika)
	app := testApplication(arsDarmstadt, uid, 1)
	old := testApplication(arsDarmstadt, uid, 3)
	old.SubmittedAt = old.SubmittedAt.Add(-30 * 24 * time.Hour)
	must(t, f.db.SubmissionStore(nil).CreateApplications(bg, []*submission.Intake{{App: app}, {App: old}}))
	for _, c := range []*casework.Case{
		{Tenant: arsDarmstadt, ID: app.ID, Reference: app.Reference, ServiceKey: keyAusweis, Title: "Personalausweis beantragen",
			Status: casework.StatusWaiting, Applicant: uid, CreatedAt: app.SubmittedAt, UpdatedAt: time.Now().UTC()},
		{Tenant: arsDarmstadt, ID: old.ID, Reference: old.Reference, ServiceKey: keyHund, Title: "Hundesteuer anmelden",
			Status: casework.StatusClosed, Decision: casework.DecisionApprove, Applicant: uid, CreatedAt: old.SubmittedAt, UpdatedAt: time.Now().UTC()},
	} {
		must(t, f.db.Cases().PutCase(bg, c))
		must(t, f.db.Cases().Append(bg, casework.Entry{Tenant: c.Tenant, CaseID: c.ID, At: c.CreatedAt, Actor: "system", Kind: casework.KindStep, Text: "Antrag eingegangen (" + c.Reference + ")"}))
	}
	deadline := time.Now().Add(14 * 24 * time.Hour)
	f.post(mailbox.Message{Tenant: arsDarmstadt, UserID: uid, ApplicationID: old.ID, Kind: mailbox.KindNotice,
		Subject: "Bescheid zu Ihrem Antrag " + old.Reference, Body: "Anbei erhalten Sie Ihren Bescheid.",
		Attachments: []mailbox.Attachment{{Filename: "Bescheid.pdf", MediaType: "application/pdf", Data: testPDF}}})
	req := f.post(mailbox.Message{Tenant: arsDarmstadt, UserID: uid, ApplicationID: app.ID, Kind: mailbox.KindRequest,
		Subject: "Nachforderung zu Ihrem Antrag " + app.Reference, Body: "Bitte reichen Sie ein aktuelles biometrisches Lichtbild nach.", DueAt: &deadline})

	page := browsertest.NewPage(t, ctx)
	page.Timeout = 20 * time.Second
	do, text, axe := page.Do, page.Text, page.AxeWithScripts
	do("session cookie and no scripts", browsertest.SetCookie(f.ts.URL, erika), browsertest.Scripts(true))

	do("open mailbox", chromedp.Navigate(f.ts.URL+"/postfach"), chromedp.WaitVisible(chromedp.CSS("#mailbox-unread")))
	if got := text("#mailbox-unread"); !strings.Contains(got, "2") {
		t.Errorf("unread line = %q", got)
	}
	axe()
	if os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
		if err := browsertest.Screenshot(ctx, filepath.Join(testenv.RepoRoot(t), "docs", "screenshots", "mailbox.png")); err != nil {
			t.Error(err)
		}
	}

	do("status while waiting", chromedp.Navigate(f.ts.URL+"/antraege/"+app.ID), chromedp.WaitVisible(chromedp.CSS("#status-expected")))
	if got := text("#status-expected"); !strings.Contains(got, "Lichtbild") || !strings.Contains(got, "Frist: ") {
		t.Errorf("expected while waiting = %q", got)
	}
	axe()
	if os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
		if err := browsertest.Screenshot(ctx, filepath.Join(testenv.RepoRoot(t), "docs", "screenshots", "mailbox-status.png")); err != nil {
			t.Error(err)
		}
	}
	do("back to the mailbox", chromedp.Navigate(f.ts.URL+"/postfach"), chromedp.WaitVisible(chromedp.CSS("#mailbox-unread")))
	do("open request", chromedp.Click(chromedp.CSS(`a[href="/postfach/`+req.ID+`"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#reply-text")))
	if got := text("#message-body"); !strings.Contains(got, "Lichtbild") {
		t.Errorf("message body = %q", got)
	}
	axe()
	photo := filepath.Join(t.TempDir(), "lichtbild.jpg")
	must(t, os.WriteFile(photo, []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0}, 0o600))
	do("reply", chromedp.SendKeys(chromedp.CSS("#reply-text"), "Anbei das Lichtbild.", chromedp.NodeVisible),
		chromedp.SetUploadFiles(chromedp.CSS("#reply-files"), []string{photo}),
		chromedp.Click(chromedp.CSS(`form[action$="/antwort"] button[type=submit]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#reply-sent")))
	axe()
	if got := text("main"); !strings.Contains(got, "lichtbild.jpg") || !strings.Contains(got, "Anbei das Lichtbild.") {
		t.Errorf("sent reply page lacks the text or the file:\n%s", got)
	}
	if len(f.replies) != 1 || f.replies[0] != app.ID {
		t.Errorf("OnReply saw %v", f.replies)
	}

	do("status page", chromedp.Navigate(f.ts.URL+"/antraege/"+app.ID), chromedp.WaitVisible(chromedp.CSS("#status-steps")))
	if got := text("#status-expected"); !strings.Contains(got, "Zurzeit nichts") {
		t.Errorf("expected after the reply = %q", got)
	}
	axe()
	do("closed application", chromedp.Navigate(f.ts.URL+"/antraege/"+old.ID), chromedp.WaitVisible(chromedp.CSS("#status-state")))
	if got := text("#status-state"); got != "abgeschlossen" {
		t.Errorf("state of the closed application = %q", got)
	}
	do("applications", chromedp.Navigate(f.ts.URL+"/antraege"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	axe()
}
