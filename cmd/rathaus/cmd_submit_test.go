// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rathaus/vault"
)

func TestSubmitAndReceipt(t *testing.T) {
	dir := t.TempDir()
	_, master, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
			if k == "RATHAUS_MASTER_KEY" {
				return master
			}
			return ""
		}}
		return Main(context.Background(), e, append(args, "--data", dir)), out.String(), errb.String()
	}
	answers := filepath.Join(dir, "antrag.json")
	os.WriteFile(answers, []byte(`{
		"anliegen": {"beschreibung": "Bitte um Genehmigung für ein Straßenfest in der Heinrichstraße."},
		"kontakt": {"vorname": "Jürgen", "nachname": "Müller", "email": "juergen@example.org", "telefon": ""},
		"unterlagen": {"datei": [{"name": "plan.pdf", "size": 22, "mediaType": "application/pdf"}]},
		"einwilligung": {"zustimmung": "ja"}}`), 0o600)
	plan := filepath.Join(dir, "plan.pdf")
	os.WriteFile(plan, []byte("%PDF-1.4\n%%EOF\n......"), 0o600)
	pdf := filepath.Join(dir, "receipt.pdf")

	code, out, errs := run("submit", answers, "--tenant", "064110000000", "--service", "99050012104000", "--attach", plan, "--key", "k1", "--receipt", pdf, "--json")
	if code != 0 {
		t.Fatalf("submit exit %d: %s", code, errs)
	}
	var first submitResult
	if err := json.Unmarshal([]byte(out), &first); err != nil || first.Reference == "" || first.Replayed || first.Form != "rathaus-universal 1.0" {
		t.Fatalf("submit output %s (%v)", out, err)
	}
	t.Run("Replay", func(t *testing.T) {
		code, out, errs := run("submit", answers, "--tenant", "064110000000", "--service", "99050012104000", "--attach", plan, "--key", "k1", "--json")
		var again submitResult
		json.Unmarshal([]byte(out), &again)
		if code != 0 || !again.Replayed || again.ID != first.ID {
			t.Fatalf("second submit exit %d %s %s", code, out, errs)
		}
	})
	t.Run("Receipt", func(t *testing.T) {
		other := filepath.Join(dir, "again.pdf")
		if code, _, errs := run("receipt", strings.ToLower(first.Reference), "--tenant", "064110000000", "--out", other); code != 0 {
			t.Fatalf("receipt exit %d: %s", code, errs)
		}
		for _, p := range []string{pdf, other} {
			b, err := os.ReadFile(p)
			if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Fatalf("%s: %v", p, err)
			}
			if bin, err := exec.LookPath("pdftotext"); err == nil {
				txt, _ := exec.Command(bin, "-enc", "UTF-8", p, "-").Output()
				for _, want := range []string{"Eingangsbestätigung", first.Reference, "Jürgen", "Heinrichstraße", "plan.pdf"} {
					if !strings.Contains(string(txt), want) {
						t.Errorf("%s lacks %q", p, want)
					}
				}
			}
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"ErrInvalidAnswers", []string{"submit", plan, "--tenant", "064110000000", "--service", "x"}, "kein JSON"},
		{"ErrMissingTenant", []string{"submit", answers, "--service", "x"}, "--tenant"},
		{"ErrUnknownReference", []string{"receipt", "2026-0000-000J", "--tenant", "064110000000", "--out", filepath.Join(dir, "x.pdf")}, "nicht gefunden"},
		{"ErrTypo", []string{"receipt", "2026-0000-0001", "--tenant", "064110000000", "--out", filepath.Join(dir, "x.pdf")}, "Prüfzeichen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := run(tc.args...)
			if code == 0 || !strings.Contains(errs, tc.msg) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want a one-line error containing %q", code, errs, tc.msg)
			}
		})
	}
	t.Run("ErrFieldErrors", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, []byte(`{"anliegen": {"beschreibung": "x"}}`), 0o600)
		code, _, errs := run("submit", bad, "--tenant", "064110000000", "--service", "x")
		if code == 0 || !strings.Contains(errs, "kontakt[0]") && !strings.Contains(errs, "kontakt") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}
