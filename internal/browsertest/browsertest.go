// SPDX-License-Identifier: EUPL-1.2

// Package browsertest drives a real headless Chromium from tests
// (github.com/chromedp/chromedp v0.23.0, generic API) and checks pages for
// accessibility with axe-core (WCAG 2.1 A and AA rules). Chromium comes
// from testenv.Chromium, axe-core from node_modules (npm ci); a test skips
// with a message when either is missing, and fails under
// RATHAUS_REQUIRE_ALL=1.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rathaus/internal/testenv"
)

// Timeout bounds one browser session of a test.
const Timeout = 3 * time.Minute

// New launches headless Chromium for the test and returns the context of
// its first tab; pass it to chromedp.Do and chromedp.Run. The browser stops
// and its temporary profile is removed when the test ends.
func New(tb testing.TB) context.Context {
	tb.Helper()
	exe := testenv.Chromium(tb)
	dir, err := os.MkdirTemp("", "rathaus-chromium-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "de-DE"),
		chromedp.Flag("accept-lang", "de-DE,de"),
	)
	base, cancelBase := context.WithTimeout(context.Background(), Timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelBase()
		removeAll(dir)
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now, so failures show here
		tb.Fatalf("browsertest: start Chromium %s: %v", exe, err)
	}
	return ctx
}

// removeAll removes the profile directory, retrying while Chromium's child
// processes still write into it.
func removeAll(dir string) {
	for range 50 {
		if err := os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Violation is one failed axe rule with the elements it failed on.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s\n      %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n      "))
}

// AxeTags are the rule sets Axe checks: WCAG 2.0 and 2.1, levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeSource returns axe.min.js from the repository's node_modules, or
// skips the test.
func axeSource(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(testenv.RepoRoot(tb), "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("RATHAUS_REQUIRE_ALL") != "" {
			tb.Fatalf("browsertest: axe-core is not installed (%v): run npm ci", err)
		}
		tb.Skipf("browsertest: axe-core is not installed at %s: run npm ci", p)
	}
	return string(b)
}

// AxeRun injects axe-core into the current page (if not there yet) and
// returns the WCAG 2.1 A/AA violations.
func AxeRun(tb testing.TB, ctx context.Context) ([]Violation, error) {
	tb.Helper()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource(tb)+"\n;true")); err != nil {
			return nil, fmt.Errorf("browsertest: inject axe-core: %w", err)
		}
	}
	tags := `["` + strings.Join(AxeTags, `","`) + `"]`
	script := `axe.run(document, {runOnly: {type: "tag", values: ` + tags + `}}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help,
		nodes: v.nodes.map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " "))
	})))`
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](script, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("browsertest: axe.run: %w", err)
	}
	return vs, nil
}

// Axe checks the current page with axe-core and fails the test listing
// every violation of the WCAG 2.1 A and AA rules.
func Axe(tb testing.TB, ctx context.Context) {
	tb.Helper()
	vs, err := AxeRun(tb, ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if len(vs) == 0 {
		return
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("\n    " + v.String())
	}
	tb.Errorf("axe: %d WCAG 2.1 AA violation(s) on %s:%s", len(vs), loc, b.String())
}

// Screenshot saves a PNG of the whole page at path, creating its directory.
func Screenshot(ctx context.Context, path string) error {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}
