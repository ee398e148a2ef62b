// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
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
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	scripts := func(disabled bool) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled})
			return chromedp.Void{}, err
		}
	}
	axe := func() {
		t.Helper()
		do("scripts on for axe", scripts(false))
		browsertest.Axe(t, ctx)
		do("scripts off", scripts(true))
	}
	u, _ := url.Parse(df.ts.URL)
	do("session cookie and no scripts", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: df.operator.Name, Value: df.operator.Value, URL: df.ts.URL, Domain: u.Hostname(), Path: "/"}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	})
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
