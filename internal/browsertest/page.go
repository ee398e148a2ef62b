// SPDX-License-Identifier: EUPL-1.2

package browsertest

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Page drives one browser tab in a test: every step is bounded in time
// and fails the test with what it was doing.
type Page struct {
	t       testing.TB
	ctx     context.Context
	Timeout time.Duration // per Do; 30 s when zero
}

// NewPage wraps the browser context ctx (from New).
func NewPage(t testing.TB, ctx context.Context) *Page { return &Page{t: t, ctx: ctx} }

// Ctx returns the browser context.
func (p *Page) Ctx() context.Context { return p.ctx }

// Do runs actions within the page's timeout and fails the test on error.
func (p *Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	d := p.Timeout
	if d <= 0 {
		d = 30 * time.Second
	}
	tctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// Text returns the visible text of the first element matching sel.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// AxeWithScripts runs Axe on the current page of a tab that browses with
// scripts disabled: axe needs script execution, so it is switched on for
// the check and off again after it.
func (p *Page) AxeWithScripts() {
	p.t.Helper()
	p.Do("scripts on for axe", Scripts(false))
	Axe(p.t, p.ctx)
	p.Do("scripts off", Scripts(true))
}

// Scripts switches JavaScript execution in the tab off (disabled) or on.
func Scripts(disabled bool) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled})
		return chromedp.Void{}, err
	}
}

// SetCookie puts c (e.g. a session cookie made by the test) into the
// browser for the site at base.
func SetCookie(base string, c *http.Cookie) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		u, err := url.Parse(base)
		if err != nil {
			return chromedp.Void{}, err
		}
		_, err = cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: base, Domain: u.Hostname(), Path: "/"})
		return chromedp.Void{}, err
	}
}
