// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"rathaus/audit"
	"rathaus/catalog"
	"rathaus/demo"
)

// searchPage fetches /suche?q=… as a visitor who chose municipality ars.
func searchPage(t *testing.T, base, q, ars string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/suche?q="+q, nil)
	serveMust(t, err)
	req.AddCookie(&http.Cookie{Name: "municipality", Value: ars})
	res, err := http.DefaultClient.Do(req)
	serveMust(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	serveMust(t, err)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /suche?q=%s: %d", q, res.StatusCode)
	}
	return string(b)
}

// waitFor polls the search page until it contains want (the index is
// rebuilt in the background) or 20 s pass.
func waitFor(t *testing.T, base, q, ars, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if strings.Contains(searchPage(t, base, q, ars), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %q never showed %q after the catalog changed", q, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeSearchIndex: serve answers /suche from the shared search index,
// per municipality with the responsible office, and rebuilds the index
// when the catalog changes (new service; a re-import that only changes
// texts, noticed through its audit entry).
func TestServeSearchIndex(t *testing.T) {
	r := startServe(t, map[string]string{"RATHAUS_DATA": t.TempDir(), "RATHAUS_SEARCH_REFRESH": "200ms"}, "--demo")
	ctx := context.Background()

	page := searchPage(t, r.base, "Hund+angeschafft", demo.Darmstadt)
	for _, want := range []string{"Hundesteuer anmelden", "Steueramt – Hundesteuer", "Gefunden über"} {
		if !strings.Contains(page, want) {
			t.Errorf("Hund angeschafft (Darmstadt) lacks %q", want)
		}
	}
	if strings.Contains(searchPage(t, r.base, "Anwohnerparken", demo.Regensburg), "Bewohnerparkausweis") {
		t.Error("Regensburg finds Darmstadt's Bewohnerparkausweis")
	}

	// A new service of Darmstadt appears without a restart.
	tree := catalog.Service{Tenant: demo.Darmstadt, Key: "demo-baum", Source: "demo", Name: "Baumfällgenehmigung beantragen",
		Summary: "Wer in Darmstadt einen Baum fällen will, braucht oft eine Genehmigung.", Keywords: []string{"Baum fällen", "Baumschutzsatzung"},
		UpdatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	serveMust(t, r.DB.Catalog().UpsertServices(ctx, []catalog.Service{tree}))
	waitFor(t, r.base, "Baum+f%C3%A4llen", demo.Darmstadt, "Baumfällgenehmigung beantragen")
	if strings.Contains(searchPage(t, r.base, "Baumschutzsatzung", demo.Regensburg), "Baumfällgenehmigung") {
		t.Error("Regensburg finds Darmstadt's new service")
	}

	// A re-import that changes only a text (same count, same date) is
	// noticed through the import's audit entry.
	tree.Name = "Baumfällung genehmigen lassen"
	serveMust(t, r.DB.Catalog().UpsertServices(ctx, []catalog.Service{tree}))
	serveMust(t, r.DB.InTx(ctx, func(tx *sql.Tx) error {
		_, err := r.DB.AppendAudit(ctx, tx, audit.Entry{Tenant: demo.Darmstadt, Actor: "cli", Action: "import.test", Object: "baum.json"})
		return err
	}))
	waitFor(t, r.base, "Baumschutzsatzung", demo.Darmstadt, "Baumfällung genehmigen lassen")
	if !strings.Contains(r.stderr.String(), "search index rebuilt") {
		t.Error("no log line for the rebuild")
	}
}

// TestServeSearchRefreshBadInput: a bad RATHAUS_SEARCH_REFRESH stops serve
// with a one-line reason.
func TestServeSearchRefreshBadInput(t *testing.T) {
	for _, v := range []string{"soon", "1ms"} {
		code, _, errs := runMain(t, map[string]string{"RATHAUS_DATA": t.TempDir(), "RATHAUS_SEARCH_REFRESH": v}, "serve", "--addr", "127.0.0.1:0")
		if code == 0 || !strings.Contains(errs, "RATHAUS_SEARCH_REFRESH") {
			t.Errorf("%s: exit %d, %q", v, code, errs)
		}
	}
}
