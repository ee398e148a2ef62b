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
)

// TestDeliveryBrowser walks the operator's dead-letter view in headless
// Chromium without scripts: the list with the reason, the delivery log,
// re-drive and its confirmation; axe-core finds no WCAG 2.1 AA violation.
func TestDeliveryBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	df := newDeliveryFixture(t, "sqlite")
	if _, err := df.svc.IsolationFixture(context.Background(), arsDarmstadt, "antrag-0815", "Fachverfahren antwortet HTTP 503"); err != nil {
		t.Fatal(err)
	}
	page := browsertest.NewPage(t, ctx)
	page.Timeout = 20 * time.Second
	do, text, axe := page.Do, page.Text, page.AxeWithScripts
	do("session cookie and no scripts", browsertest.SetCookie(df.ts.URL, df.operator), browsertest.Scripts(true))
	do("open the view", chromedp.Navigate(df.ts.URL+"/verwaltung/zustellung"), chromedp.WaitVisible(chromedp.CSS("#delivery-failed")))
	if got := text("#delivery-failed"); !strings.Contains(got, "antrag-0815") || !strings.Contains(got, "HTTP 503") || !strings.Contains(got, "gescheitert") {
		t.Errorf("list = %q", got)
	}
	axe()
	if os.Getenv("RATHAUS_SCREENSHOTS") == "1" {
		if err := browsertest.Screenshot(ctx, filepath.Join(testenv.RepoRoot(t), "docs", "screenshots", "delivery.png")); err != nil {
			t.Error(err)
		}
	}
	do("open the log", chromedp.Click(chromedp.CSS(`#delivery-failed a`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#delivery-log")))
	if got := text("#delivery-log"); !strings.Contains(got, "HTTP 503") {
		t.Errorf("log = %q", got)
	}
	axe()
	do("re-drive", chromedp.Click(chromedp.CSS(`#delivery-routes button[type=submit]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#delivery-redriven")))
	if got := text("#delivery-log"); !strings.Contains(got, "redrive") {
		t.Errorf("log after re-drive = %q", got)
	}
	axe()
	do("back to the list", chromedp.Navigate(df.ts.URL+"/verwaltung/zustellung"), chromedp.WaitVisible(chromedp.CSS("#delivery-empty")))
	axe()
}
