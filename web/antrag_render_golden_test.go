// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rathaus/fim"
	"rathaus/form"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

// updateRenderGolden rewrites testdata/render_golden.txt from the current
// renderer: go test ./web -run TestRenderStepGolden -update-render-golden.
var updateRenderGolden = flag.Bool("update-render-golden", false, "rewrite testdata/render_golden.txt")

// realSchemas are the real FIM schemas of the shared data (every step of
// each is rendered by the golden test and the render benchmark).
var realSchemas = []string{
	"fim-schemas/xdf2/S00000246V1.1",
	"fim-schemas/xdf2/S00000094V1.0",
	"fim-schemas/xdf2/S00000009",
	"fim-schemas/xdf2/S05000058V1.0",
}

// goldenAnswers builds deterministic answers for every element of the
// model: every other field filled, a few with values that fail validation
// or need escaping, repeatable groups and fields with two instances.
func goldenAnswers(m *form.Model, broken bool) form.Answers {
	k := 0
	texts := []string{`Müller & "Söhne" <b>`, "Erika", "a'b", strings.Repeat("x", 40)}
	var value func(it *form.Item) any
	var group func(items []form.Item) map[string]any
	value = func(it *form.Item) any {
		k++
		if it.Kind == form.KindGroup {
			g := group(it.Items)
			if len(g) == 0 {
				return nil
			}
			if it.Repeatable() {
				if k%3 == 0 {
					return []any{g, group(it.Items)}
				}
				return []any{g}
			}
			return g
		}
		if k%2 == 1 || it.Feldart == form.FeldLabel || it.Feldart == form.FeldHidden {
			return nil
		}
		var v any
		if opts := options(m, it); len(opts) > 0 {
			v = opts[(k/2)%len(opts)].Code
			if broken && k%5 == 0 {
				v = `X<"&>`
			}
		} else {
			switch it.Datentyp {
			case form.TypBool:
				v = k%4 == 0
			case form.TypDate:
				v = "1980-12-31"
				if broken && k%3 == 0 {
					v = "31.13.1980"
				}
			case form.TypTime:
				v = "14:30"
			case form.TypDateTime:
				v = "2024-02-29T10:15:00+01:00"
			case form.TypNum, form.TypNumInt, form.TypNumCurrency:
				v = json.Number("12.5")
				if broken && k%3 == 0 {
					v = "zwölf"
				}
			case form.TypFile, form.TypObj:
				v = map[string]any{"id": "f1", "name": `Nachweis <1>.pdf`, "mediaType": "application/pdf", "size": json.Number("2048")}
			default:
				v = texts[(k/2)%len(texts)]
				if broken && k%3 == 0 {
					v = strings.Repeat("lang ", 200)
				}
			}
		}
		if it.Repeatable() {
			return []any{v, v}
		}
		return v
	}
	group = func(items []form.Item) map[string]any {
		out := map[string]any{}
		for i := range items {
			if v := value(&items[i]); v != nil {
				out[items[i].ID] = v
			}
		}
		return out
	}
	return form.Answers(group(m.Root))
}

// goldenExtras marks a few paths of a step as prefilled, filters the
// first filterable select and asks for two instances of repeatables.
func goldenExtras(m *form.Model, st form.Step, sc *stepCtx) {
	sc.prefill, sc.filters, sc.counts = map[string]bool{}, map[string]string{}, map[string]int{}
	n := 0
	var walk func(items []form.Item, path string)
	walk = func(items []form.Item, path string) {
		for i := range items {
			it := &items[i]
			p := joinPath(path, it.ID)
			if it.Kind == form.KindGroup {
				if it.Repeatable() {
					sc.counts[p] = 2
				}
				walk(it.Items, p+"[0]")
				continue
			}
			n++
			if n%4 == 0 && !it.Repeatable() {
				sc.prefill[p] = true
			}
			if len(sc.filters) == 0 && len(options(m, it)) > filterLimit {
				sc.filters[p] = "de"
			}
		}
	}
	walk(st.Items, "")
}

type goldenPage struct {
	name string
	body string
}

// goldenPages renders every step of every real schema and of the universal
// form in German and English: empty, partially filled (with prefill
// marks, a filter and instance counts) and with the validation errors of
// broken answers.
func goldenPages(t testing.TB) []goldenPage {
	db := sqltest.Open(t, sqlstore.SQLite)
	s, err := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Tenants: db.Tenants(), Catalog: db.Catalog()})
	if err != nil {
		t.Fatal(err)
	}
	h := newAntrag(s, FormFeature{})
	type schema struct {
		name string
		m    *form.Model
	}
	var schemas []schema
	for _, dir := range realSchemas {
		m, err := fim.LoadDir(testenv.SharedData(t, dir))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		schemas = append(schemas, schema{filepath.Base(dir), m})
	}
	schemas = append(schemas, schema{"universal-de", submission.UniversalForm("de")}, schema{"universal-en", submission.UniversalForm("en")})
	var out []goldenPage
	for _, sch := range schemas {
		m := sch.m
		partial, broken := goldenAnswers(m, false), goldenAnswers(m, true)
		for n, st := range m.Steps() {
			ids := make([]string, 0, len(st.Items))
			for _, it := range st.Items {
				ids = append(ids, it.ID)
			}
			errs := m.Validate(broken, form.ValidateOptions{Items: ids})
			errs = append(errs, form.FieldError{Path: "", Code: form.ErrOneOf, Message: "Formularfehler <x>", MessageEN: "form error <x>"})
			for _, lang := range []string{"de", "en"} {
				for _, variant := range []string{"empty", "partial", "errors"} {
					d := &submission.Draft{Tenant: "064110000000", ID: "golden", ServiceKey: "golden", FormID: m.ID, FormVersion: m.Version, Answers: form.Answers{}}
					h.svcNames.put(d.Tenant+"\x00"+d.ServiceKey, "Leistung <&>", farFuture)
					var sc stepCtx
					var fe []form.FieldError
					notice := ""
					switch variant {
					case "partial":
						d.Answers = partial
						goldenExtras(m, st, &sc)
						notice = "Neue Felder <sichtbar>"
					case "errors":
						d.Answers = broken
						fe = errs
					}
					req := httptest.NewRequest(http.MethodGet, stepURL(d, fmt.Sprint(n+1))+"?x=<1>", nil)
					req = req.WithContext(context.WithValue(req.Context(), langKey{}, lang))
					rec := httptest.NewRecorder()
					h.renderStep(rec, req, http.StatusOK, d, m, n+1, sc, fe, notice)
					if rec.Code != http.StatusOK {
						t.Fatalf("%s step %d: status %d", sch.name, n+1, rec.Code)
					}
					out = append(out, goldenPage{fmt.Sprintf("%s/step%d/%s/%s", sch.name, n+1, lang, variant), rec.Body.String()})
				}
			}
		}
	}
	return out
}

// TestRenderStepGolden pins the HTML of every step page (hashes in
// testdata/render_golden.txt, written from the reference renderer) so that
// optimisations of the renderer keep the output byte-identical. With
// RATHAUS_RENDER_DUMP=dir the pages are written to dir for diffing.
func TestRenderStepGolden(t *testing.T) {
	pages := goldenPages(t)
	var lines []string
	dump := os.Getenv("RATHAUS_RENDER_DUMP")
	for _, p := range pages {
		sum := sha256.Sum256([]byte(p.body))
		lines = append(lines, p.name+" "+hex.EncodeToString(sum[:]))
		if dump != "" {
			f := filepath.Join(dump, strings.ReplaceAll(p.name, "/", "_")+".html")
			if err := os.WriteFile(f, []byte(p.body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	golden := filepath.Join("testdata", "render_golden.txt")
	if *updateRenderGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(want) != len(lines) {
		t.Errorf("%d pages, golden file has %d", len(lines), len(want))
	}
	for i, l := range lines {
		if i < len(want) && l != want[i] {
			t.Errorf("page %s differs from the reference renderer (RATHAUS_RENDER_DUMP=dir to compare)", strings.Fields(l)[0])
		}
	}
	if len(pages) < 100 || !slices.ContainsFunc(pages, func(p goldenPage) bool { return strings.Contains(p.body, "error-message") }) {
		t.Errorf("golden pages do not cover errors (%d pages)", len(pages))
	}
}
