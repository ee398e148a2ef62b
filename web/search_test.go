// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"rathaus/assistant"
	"rathaus/catalog"
	"rathaus/demo"
	"rathaus/search"
	"rathaus/sqlstore/sqltest"
	"rathaus/web"
)

// keyRegensburgOnly is a service that only Regensburg describes.
const keyRegensburgOnly = "demo-rgb-dultmarkt"

// newSearchPortal seeds the demo catalog plus a Regensburg-only service,
// builds the search index from it and serves a portal whose /suche uses it.
func newSearchPortal(t *testing.T, dialect string) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	db := sqltest.Open(t, dialect)
	must(t, demo.Seed(ctx, db.Tenants(), db.Catalog()))
	must(t, db.Catalog().UpsertServices(ctx, []catalog.Service{{
		Tenant: demo.Regensburg, Key: keyRegensburgOnly, Source: "demo", Name: "Hundeauslaufwiese Dultplatz reservieren",
		Summary:  "Nur in Regensburg: eine eingezäunte Wiese für Hunde stundenweise reservieren.",
		Keywords: []string{"Hund", "Hundewiese", "Personalausweis verloren"},
	}}))
	idx, n, err := assistant.BuildIndex(ctx, db.Catalog(), search.Options{})
	must(t, err)
	if n == 0 {
		t.Fatal("empty index")
	}
	srv, err := web.New(web.Config{Demo: true}, web.Deps{
		Tenants: db.Tenants(), Catalog: db.Catalog(),
		Search: web.IndexSearch(func() *search.Index { return idx }),
	})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// getPage fetches path with the municipality cookie set to ars ("" = none).
func getPage(t *testing.T, ts *httptest.Server, path, ars, lang string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	must(t, err)
	if ars != "" {
		req.AddCookie(&http.Cookie{Name: "municipality", Value: ars})
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	return res.StatusCode, string(b)
}

// TestSearchIndexPage checks that /suche uses the search index: everyday
// questions find the demo services of the chosen municipality with the
// responsible office and why they matched, and services of other
// municipalities stay out.
func TestSearchIndexPage(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			ts := newSearchPortal(t, d)
			cases := []struct {
				name, q, ars, lang string
				want               []string
				notWant            []string
				once               string // must appear exactly once
			}{
				{name: "hund angeschafft Darmstadt", q: "Hund+angeschafft", ars: demo.Darmstadt,
					want: []string{`href="/leistungen/` + demo.KeyHundesteuer + `"`, "Hundesteuer anmelden", "Wer in Darmstadt einen Hund hält",
						"Zuständig", "Steueramt – Hundesteuer", "Luisenplatz 5", "Gefunden über", "Es werden Leistungen angezeigt, die für Darmstadt"},
					notWant: []string{keyRegensburgOnly, "Hundeauslaufwiese", "Weiterstadt"}},
				{name: "perso verloren Darmstadt", q: "Perso+verloren", ars: demo.Darmstadt,
					want:    []string{`href="/leistungen/` + demo.KeyPersonalausweis + `"`, "Personalausweis beantragen", "Bürgerbüro Darmstadt", "Gefunden über"},
					notWant: []string{keyRegensburgOnly, "Bürgerbüro Mitte"}},
				{name: "typo Hundesteur Darmstadt", q: "Hundesteur", ars: demo.Darmstadt,
					want:    []string{"Hundesteuer anmelden", "ähnliche Schreibweise"},
					notWant: []string{keyRegensburgOnly}},
				{name: "Regensburg sees its own service", q: "Hundewiese", ars: demo.Regensburg,
					want:    []string{`href="/leistungen/` + keyRegensburgOnly + `"`, "Hundeauslaufwiese Dultplatz reservieren"},
					notWant: []string{"Steueramt – Hundesteuer"}},
				{name: "Regensburg does not see Darmstadt parking", q: "Anwohnerparken", ars: demo.Regensburg,
					notWant: []string{demo.KeyBewohnerparken, "Bewohnerparkausweis"}},
				{name: "national view lists every municipality", q: "Hundewiese",
					want: []string{keyRegensburgOnly}},
				{name: "national view lists a service once", q: "Hundesteuer",
					want: []string{"Hundesteuer anmelden"}, once: `href="/leistungen/` + demo.KeyHundesteuer + `"`},
				{name: "english", q: "Perso+verloren", ars: demo.Darmstadt, lang: "en",
					want: []string{"Matched by", "Responsible office", "Bürgerbüro Darmstadt"}},
				{name: "nothing", q: "Raumfahrt", ars: demo.Darmstadt,
					want: []string{"Keine Leistungen gefunden"}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					status, body := getPage(t, ts, "/suche?q="+c.q, c.ars, c.lang)
					if status != http.StatusOK {
						t.Fatalf("status %d", status)
					}
					for _, w := range c.want {
						if !strings.Contains(body, w) {
							t.Errorf("page lacks %q", w)
						}
					}
					for _, w := range c.notWant {
						if strings.Contains(body, w) {
							t.Errorf("page contains %q", w)
						}
					}
					if c.once != "" && strings.Count(body, c.once) != 1 {
						t.Errorf("%q appears %d times, want once", c.once, strings.Count(body, c.once))
					}
					if t.Failed() {
						i := strings.Index(body, "<main")
						t.Logf("page: %s", body[max(i, 0):])
					}
				})
			}
		})
	}
}

// TestSearchIndexPaging pages through more hits than fit on one page.
func TestSearchIndexPaging(t *testing.T) {
	hits := make([]web.SearchHit, 45)
	for i := range hits {
		hits[i] = web.SearchHit{Key: "demo-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Name: "Leistung", Why: []string{"name:leistung"}}
	}
	var gotM string
	ts := newPagingPortal(t, func(_ context.Context, q, m string, limit, offset int) ([]web.SearchHit, int, error) {
		gotM = m
		end := min(offset+limit, len(hits))
		if offset >= len(hits) {
			return nil, len(hits), nil
		}
		return hits[offset:end], len(hits), nil
	})
	for _, c := range []struct {
		page string
		want []string
	}{
		{"1", []string{"Suchergebnisse (45)", "Treffer 1 bis 20 von 45", `rel="next"`, "Seite 1 von 3"}},
		{"3", []string{"Treffer 41 bis 45 von 45", `rel="prev"`, "„leistung“ im Namen"}},
	} {
		t.Run("page "+c.page, func(t *testing.T) {
			status, body := getPage(t, ts, "/suche?q=Leistung&seite="+c.page, demo.Darmstadt, "")
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
	if gotM != demo.Darmstadt {
		t.Errorf("search got municipality %q, want %q", gotM, demo.Darmstadt)
	}
}

func newPagingPortal(t *testing.T, fn web.SearchFunc) *httptest.Server {
	t.Helper()
	db := sqltest.Open(t, "sqlite")
	must(t, demo.Seed(context.Background(), db.Tenants(), db.Catalog()))
	srv, err := web.New(web.Config{}, web.Deps{Tenants: db.Tenants(), Catalog: db.Catalog(), Search: fn})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}
