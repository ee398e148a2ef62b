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

	"rathaus/internal/browsertest"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
)

// TestFormsAdminBrowser works the forms management in headless Chromium
// with scripts off (no-JS first) as a designer of Darmstadt: the list with
// the Land's inherited form, a check ("Nur prüfen") and then the upload of
// a real FIM schema with its code lists through the plain file input, the
// result with its warnings and the
// unrecognised rule texts, and an upload of broken XML with its error
// summary; axe-core finds no WCAG 2.1 AA violation on any of these pages.
// With RATHAUS_SCREENSHOTS=1 it saves docs/screenshots/forms-admin.png.
func TestFormsAdminBrowser(t *testing.T) {
	dir := testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1")
	ctx := browsertest.New(t)
	ff := newFormsFixture(t, sqlstore.SQLite)
	attach(t, ff.db.Forms(), context.Background(), "test", arsHessen, keyAusweis, sampleForm("S100", "1.0", "Landesformular Ausweis"))
	es, err := os.ReadDir(dir)
	must(t, err)
	var files []string
	for _, e := range es {
		files = append(files, filepath.Join(dir, e.Name()))
	}
	bad := filepath.Join(t.TempDir(), "kaputt.xml")
	must(t, os.WriteFile(bad, []byte("<?xml version=\"1.0\"?>\n<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_2\">\n<header><a></b>\n"), 0o600))

	page := browsertest.NewPage(t, ctx)
	page.Timeout = 30 * time.Second
	do, text, axe := page.Do, page.Text, page.AxeWithScripts
	list := ff.ts.URL + "/verwaltung/" + arsDarmstadt + "/formulare"
	do("session cookie and no scripts", browsertest.SetCookie(ff.ts.URL, ff.designer), browsertest.Scripts(true))
	do("tenant page links the forms", chromedp.Navigate(ff.ts.URL+"/verwaltung/"+arsDarmstadt), chromedp.Click(chromedp.CSS(`a[href$="/formulare"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#forms-list")))
	if got := text("#forms-list"); !strings.Contains(got, "Landesformular Ausweis") || !strings.Contains(got, "geerbt von Land Hessen") {
		t.Errorf("list = %q", got)
	}
	axe()
	do("check a real schema only", chromedp.SetUploadFiles(chromedp.CSS("#f-dateien"), files, chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#f-service"), keyHund, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form.forms-upload button[name=aktion]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#forms-checked")))
	if got := text("#form-warnings"); !strings.Contains(got, "R60000024") {
		t.Errorf("warnings of the check = %q", got)
	}
	axe()
	do("upload it from the check page", chromedp.SetUploadFiles(chromedp.CSS("#f-dateien"), files, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form.forms-upload button:not([name])`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#forms-saved")))
	if got := text("#form-warnings"); !strings.Contains(got, "R60000024") || !strings.Contains(got, "nicht erkannt") {
		t.Errorf("warnings = %q", got)
	}
	if got := text("#form-rules"); !strings.Contains(got, "Nachweis Hochschulabschluss") {
		t.Errorf("unrecognised rules = %q", got)
	}
	axe()
	if os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
		if err := browsertest.Screenshot(ctx, filepath.Join(testenv.RepoRoot(t), "docs", "screenshots", "forms-admin.png")); err != nil {
			t.Error(err)
		}
	}
	do("back to the list", chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS("#forms-list")))
	if got := text("#forms-list"); !strings.Contains(got, "S00000246") || !strings.Contains(got, "Hundesteuer anmelden") {
		t.Errorf("list after upload = %q", got)
	}
	do("upload broken XML", chromedp.SetUploadFiles(chromedp.CSS("#f-dateien"), []string{bad}, chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#f-service"), keyHund, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form.forms-upload button:not([name])`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#fehler")))
	if got := text("#fehler"); !strings.Contains(got, "kaputt.xml:3:") || !strings.Contains(got, "nichts gespeichert") {
		t.Errorf("error summary = %q", got)
	}
	axe()
}
