// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rathaus/audit"
	fm "rathaus/form"
	"rathaus/identity"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/web"
	"rathaus/web/webtest"
)

// formsFixture is the portal with the forms management and its users.
type formsFixture struct {
	*fixture
	designer, caseworker, operatorKS *http.Cookie
}

func newFormsFixture(t *testing.T, dialect string) *formsFixture {
	t.Helper()
	fa := &web.FormsAdmin{MaxUploadBytes: 4 << 20}
	f := newFixture(t, dialect, web.Config{}, option{deps: func(d *web.Deps) { d.Features = append(d.Features, fa) }})
	fa.Store = f.db.Forms()
	return &formsFixture{fixture: f,
		designer:   f.login(identity.KindStaff, "designer-da", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleServiceDesigner}),
		caseworker: f.login(identity.KindStaff, "caseworker-da", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker}),
		operatorKS: f.login(identity.KindStaff, "operator-ks", identity.LoASubstantial, identity.Grant{Tenant: arsKassel, Role: identity.RoleOperator}),
	}
}

// sampleForm is a small form with one rule the parser did not recognise
// and a warning.
func sampleForm(id, version, title string) *fm.Model {
	return &fm.Model{ID: id, Version: version, Name: title, Title: title, Format: fm.FormatXDF2,
		Root: []fm.Item{{Kind: fm.KindGroup, ID: "G1", Version: "1.0", Label: "Angaben zur Person", Min: 1, Max: 1, Items: []fm.Item{
			{Kind: fm.KindGroup, ID: "G2", Version: "1.0", Label: "Anschrift", Min: 1, Max: 1, Items: []fm.Item{
				{Kind: fm.KindField, ID: "F2", Version: "1.0", Label: "Straße", Feldart: fm.FeldInput, Datentyp: fm.TypText, Min: 1, Max: 1}}},
			{Kind: fm.KindField, ID: "F1", Version: "1.0", Label: "Name", Feldart: fm.FeldInput, Datentyp: fm.TypText, Min: 1, Max: 1}}}},
		Rules:    []fm.Rule{{ID: "R1", Version: "1.0", Name: "Plausi", Owner: "G1", Text: "Das Datum muss plausibel sein, sonst „Fehler“."}},
		Warnings: []string{"schema.xml:3:4: Codeliste C1 nicht gefunden"}}
}

// attach stores and binds a form, failing the test on error.
func attach(t *testing.T, forms *sqlstore.FormStore, ctx context.Context, actor, ten, service string, m *fm.Model) {
	t.Helper()
	if _, err := forms.AttachForm(ctx, actor, ten, service, m); err != nil {
		t.Fatal(err)
	}
}

// multipartBody builds an upload of files with the service key and more
// fields as key/value pairs.
func multipartBody(t *testing.T, service string, files map[string][]byte, kv ...string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	must(t, mw.WriteField("service", service))
	for i := 0; i+1 < len(kv); i += 2 {
		must(t, mw.WriteField(kv[i], kv[i+1]))
	}
	for name, data := range files {
		w, err := mw.CreateFormFile("dateien", name)
		must(t, err)
		_, err = w.Write(data)
		must(t, err)
	}
	must(t, mw.Close())
	return b.String(), mw.FormDataContentType()
}

// readDir reads every file of a shared data directory.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	es, err := os.ReadDir(dir)
	must(t, err)
	out := map[string][]byte{}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must(t, err)
		out[e.Name()] = b
	}
	return out
}

func (ff *formsFixture) upload(t *testing.T, cookie *http.Cookie, ars, service string, files map[string][]byte) response {
	t.Helper()
	body, ct := multipartBody(t, service, files)
	return ff.do(http.MethodPost, "/verwaltung/"+ars+"/formulare", body, []*http.Cookie{cookie}, map[string]string{"Content-Type": ct})
}

func formImports(t *testing.T, db *sqlstore.DB) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	must(t, db.Audit().Walk(context.Background(), func(e audit.Entry) error {
		if e.Action == "form.import" {
			out = append(out, e)
		}
		return nil
	}))
	return out
}

// TestFormsAdmin: a designer of Darmstadt sees the Land's form as
// inherited and the town's own, reads the detail with warnings and the
// unrecognised rule text, downloads the JSON Schema and uploads a real FIM
// schema; bad XML is refused with file, line and column and stores
// nothing; other tenants and caseworkers are refused.
func TestFormsAdmin(t *testing.T) {
	dir := testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1")
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			ff := newFormsFixture(t, d)
			ctx := context.Background()
			forms := ff.db.Forms()
			attach(t, forms, ctx, "test", arsHessen, keyAusweis, sampleForm("S100", "1.0", "Landesformular Ausweis"))
			v2 := sampleForm("S100", "2.0", "Landesformular Ausweis")
			v2.Root[0].Items = append(v2.Root[0].Items, fm.Item{Kind: fm.KindField, ID: "F3", Version: "1.0", Label: "Geburtsort",
				Feldart: fm.FeldInput, Datentyp: fm.TypText, Min: 0, Max: 1})
			attach(t, forms, ctx, "test", arsHessen, keyAusweis, v2)
			attach(t, forms, ctx, "test", arsDarmstadt, keyHund, sampleForm("S200", "1.0", "Hundesteuer Darmstadt"))
			attach(t, forms, ctx, "test", arsKassel, keyHund, sampleForm("S300", "1.0", "Geheimes Kasseler Formular"))

			t.Run("list", func(t *testing.T) {
				res := ff.get("/verwaltung/"+arsDarmstadt+"/formulare", ff.designer)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", res.StatusCode, res.body)
				}
				for _, want := range []string{"Landesformular Ausweis", "geerbt von Land Hessen", "Hundesteuer Darmstadt", "Personalausweis beantragen",
					keyAusweis, "2 Felder, 2 Gruppen", "0 von 1", "/verwaltung/" + arsDarmstadt + "/formulare/S100/1.0"} {
					if !strings.Contains(res.body, want) {
						t.Errorf("list lacks %q", want)
					}
				}
				if strings.Contains(res.body, "Kasseler") {
					t.Error("list shows Kassel's form")
				}
				// Versions newest first, the active one marked.
				if i, j := strings.Index(res.body, `/S100/2.0">2.0</a>`), strings.Index(res.body, `/S100/1.0">1.0</a>`); i < 0 || j < 0 || i > j {
					t.Errorf("versions not newest first: %d %d", i, j)
				}
			})
			t.Run("detail", func(t *testing.T) {
				res := ff.get("/verwaltung/"+arsDarmstadt+"/formulare/S100/2.0", ff.designer)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", res.StatusCode, res.body)
				}
				for _, want := range []string{"Codeliste C1 nicht gefunden", "Das Datum muss plausibel sein, sonst „Fehler“.", "Angaben zur Person", "Anschrift",
					"geerbt von Land Hessen", "XDatenfelder 2.0", "Personalausweis beantragen (" + keyAusweis + ")"} {
					if !strings.Contains(res.body, want) {
						t.Errorf("detail lacks %q", want)
					}
				}
				if !strings.Contains(res.body, "Änderungen gegenüber Version 1.0") || !strings.Contains(res.body, "Geburtsort (F3 1.0)") {
					t.Error("detail does not show what changed against 1.0")
				}
				old := ff.get("/verwaltung/"+arsDarmstadt+"/formulare/S100/1.0", ff.designer)
				if old.StatusCode != http.StatusOK || !strings.Contains(old.body, "ältere Version") {
					t.Errorf("old version: %d", old.StatusCode)
				}
				if res := ff.get("/verwaltung/"+arsDarmstadt+"/formulare/S100/9.9", ff.designer); res.StatusCode != http.StatusNotFound {
					t.Errorf("unknown version: %d, want 404", res.StatusCode)
				}
			})
			t.Run("activate", func(t *testing.T) {
				// Darmstadt pins the Land's older version 1.0; Kassel keeps 2.0.
				path := "/verwaltung/" + arsDarmstadt + "/formulare/S100/1.0/aktivieren"
				page := ff.get("/verwaltung/"+arsDarmstadt+"/formulare/S100/1.0", ff.designer)
				if !strings.Contains(page.body, `action="`+path+`"`) || !strings.Contains(page.body, `<option value="`+keyAusweis+`">`) {
					t.Fatalf("detail has no activation form")
				}
				for _, c := range []struct {
					name   string
					cookie *http.Cookie
					path   string
					body   string
					want   int
				}{
					{"caseworker", ff.caseworker, path, form("service", keyAusweis), http.StatusForbidden},
					{"other tenant", ff.designer, "/verwaltung/" + arsKassel + "/formulare/S100/1.0/aktivieren", form("service", keyAusweis), http.StatusForbidden},
					{"service without this form", ff.designer, path, form("service", keyHund), http.StatusBadRequest},
					{"unknown version", ff.designer, "/verwaltung/" + arsDarmstadt + "/formulare/S100/7.0/aktivieren", form("service", keyAusweis), http.StatusNotFound},
				} {
					if res := ff.do(http.MethodPost, c.path, c.body, []*http.Cookie{c.cookie}, nil); res.StatusCode != c.want {
						t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.want)
					}
				}
				if ref, _ := forms.Binding(ctx, arsDarmstadt, keyAusweis); ref == nil || ref.Tenant != arsHessen {
					t.Fatalf("refused activations changed the binding: %+v", ref)
				}
				res := ff.do(http.MethodPost, path, form("service", keyAusweis), []*http.Cookie{ff.designer}, nil)
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("activate: %d %s", res.StatusCode, res.body)
				}
				if ref, err := forms.Binding(ctx, arsDarmstadt, keyAusweis); err != nil || ref.Tenant != arsDarmstadt || ref.Version != "1.0" {
					t.Errorf("Darmstadt binding %+v %v", ref, err)
				}
				if ref, err := forms.Binding(ctx, arsKassel, keyAusweis); err != nil || ref.Version != "2.0" {
					t.Errorf("Kassel binding %+v %v", ref, err)
				}
				if page := ff.get(res.Header.Get("Location"), ff.designer); !strings.Contains(page.body, "jetzt für neue Anträge aktiv") {
					t.Errorf("no confirmation")
				}
				var acts int
				must(t, ff.db.Audit().Walk(ctx, func(e audit.Entry) error {
					if e.Action == "form.activate" && e.Tenant == arsDarmstadt && e.Object == "form/S100:1.0" {
						acts++
					}
					return nil
				}))
				if acts != 1 {
					t.Errorf("%d form.activate entries, want 1", acts)
				}
			})
			t.Run("schema", func(t *testing.T) {
				res := ff.get("/verwaltung/"+arsDarmstadt+"/formularschema/S100/2.0", ff.designer)
				if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/schema+json" {
					t.Fatalf("schema: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
				}
				var js map[string]any
				if err := json.Unmarshal([]byte(res.body), &js); err != nil || js["$schema"] == nil {
					t.Errorf("not a JSON Schema: %v %.200s", err, res.body)
				}
			})
			t.Run("refused", func(t *testing.T) {
				for _, c := range []struct {
					name   string
					cookie *http.Cookie
					path   string
				}{
					{"other tenant list", ff.designer, "/verwaltung/" + arsKassel + "/formulare"},
					{"other tenant detail", ff.designer, "/verwaltung/" + arsKassel + "/formulare/S300/1.0"},
					{"other tenant schema", ff.designer, "/verwaltung/" + arsKassel + "/formularschema/S300/1.0"},
					{"caseworker list", ff.caseworker, "/verwaltung/" + arsDarmstadt + "/formulare"},
					{"caseworker detail", ff.caseworker, "/verwaltung/" + arsDarmstadt + "/formulare/S200/1.0"},
					{"operator of Kassel in Darmstadt", ff.operatorKS, "/verwaltung/" + arsDarmstadt + "/formulare"},
				} {
					t.Run(c.name, func(t *testing.T) {
						res := ff.get(c.path, c.cookie)
						if res.StatusCode != http.StatusForbidden {
							t.Errorf("status %d, want 403", res.StatusCode)
						}
						if strings.Contains(res.body, "Kasseler") || strings.Contains(res.body, "Hundesteuer Darmstadt") {
							t.Error("refusal shows a form")
						}
					})
				}
				if res := ff.get("/verwaltung/"+arsKassel+"/formulare", ff.operatorKS); res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Geheimes Kasseler Formular") {
					t.Errorf("operator of Kassel: %d", res.StatusCode)
				}
				if res := ff.upload(t, ff.caseworker, arsDarmstadt, keyHund, readDir(t, dir)); res.StatusCode != http.StatusForbidden {
					t.Errorf("caseworker upload: %d, want 403", res.StatusCode)
				}
				if res := ff.upload(t, ff.designer, arsKassel, keyHund, readDir(t, dir)); res.StatusCode != http.StatusForbidden {
					t.Errorf("upload into Kassel: %d, want 403", res.StatusCode)
				}
				big := map[string][]byte{"riesig.xml": bytes.Repeat([]byte("<a/>"), 5<<20/4+1)}
				if res := ff.upload(t, ff.designer, arsDarmstadt, keyHund, big); res.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("upload over the limit: %d, want 413", res.StatusCode)
				}
				body, ct := multipartBody(t, keyHund, readDir(t, dir))
				if res := ff.do(http.MethodPost, "/verwaltung/"+arsDarmstadt+"/formulare", body, []*http.Cookie{ff.designer},
					map[string]string{"Content-Type": ct, "Sec-Fetch-Site": "cross-site"}); res.StatusCode != http.StatusForbidden {
					t.Errorf("cross-site upload: %d, want 403", res.StatusCode)
				}
				if vs, _ := forms.FormVersionsAt(ctx, arsDarmstadt, "S00000246"); len(vs) != 0 {
					t.Errorf("refused uploads stored %v", vs)
				}
			})
			t.Run("check only", func(t *testing.T) {
				before := len(formImports(t, ff.db))
				body, ct := multipartBody(t, keyAusweis, readDir(t, dir), "aktion", "pruefen")
				res := ff.do(http.MethodPost, "/verwaltung/"+arsDarmstadt+"/formulare", body, []*http.Cookie{ff.designer}, map[string]string{"Content-Type": ct})
				if res.StatusCode != http.StatusOK {
					t.Fatalf("check: %d %.500s", res.StatusCode, res.body)
				}
				for _, want := range []string{"es wurde nichts gespeichert", "59 Felder, 34 Gruppen", "R60000024", "Nachweis Hochschulabschluss", `value="` + keyAusweis + `"`} {
					if !strings.Contains(res.body, want) {
						t.Errorf("check page lacks %q", want)
					}
				}
				if strings.Contains(res.body, "JSON Schema herunterladen") || strings.Contains(res.body, "/aktivieren") {
					t.Error("check page offers actions on a stored version")
				}
				if vs, _ := forms.FormVersionsAt(ctx, arsDarmstadt, "S00000246"); len(vs) != 0 || len(formImports(t, ff.db)) != before {
					t.Errorf("check stored something: %v", vs)
				}
			})
			t.Run("upload", func(t *testing.T) {
				before := len(formImports(t, ff.db))
				res := ff.upload(t, ff.designer, arsDarmstadt, keyAusweis, readDir(t, dir))
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("upload: %d %s", res.StatusCode, res.body)
				}
				loc := res.Header.Get("Location")
				if loc != "/verwaltung/"+arsDarmstadt+"/formulare/S00000246/1.1?gespeichert=1" {
					t.Fatalf("Location %q", loc)
				}
				page := ff.get(loc, ff.designer)
				for _, want := range []string{"gespeichert", "59 Felder, 34 Gruppen", "32 von 34", "R60000024", "Datumkorrekt", "Nachweis Hochschulabschluss",
					"Personalausweis beantragen (" + keyAusweis + ")", "eigenes Formular", "Verwendete Codelisten (7)"} {
					if !strings.Contains(page.body, want) {
						t.Errorf("result page lacks %q", want)
					}
				}
				ref, err := forms.Binding(ctx, arsDarmstadt, keyAusweis)
				if err != nil || ref.Tenant != arsDarmstadt || ref.ID != "S00000246" || ref.Version != "1.1" {
					t.Errorf("binding %+v %v", ref, err)
				}
				if ref, err := forms.Binding(ctx, arsKassel, keyAusweis); err != nil || ref.ID != "S100" {
					t.Errorf("Kassel still inherits the Land's form: %+v %v", ref, err)
				}
				imports := formImports(t, ff.db)
				if len(imports) != before+1 {
					t.Fatalf("audit: %d form.import entries, want %d", len(imports), before+1)
				}
				last := imports[len(imports)-1]
				if last.Tenant != arsDarmstadt || last.Object != "form/S00000246:1.1" || last.Details["service"] != keyAusweis || last.Actor == "" {
					t.Errorf("audit entry %+v", last)
				}
				list := ff.get("/verwaltung/"+arsDarmstadt+"/formulare", ff.designer)
				if !strings.Contains(list.body, "ersetzt durch ein näheres Formular") {
					t.Error("list does not mark the Land's overridden form")
				}
				again := ff.upload(t, ff.designer, arsDarmstadt, keyAusweis, readDir(t, dir))
				if again.StatusCode != http.StatusSeeOther || !strings.HasSuffix(again.Header.Get("Location"), "&ersetzt=1") {
					t.Fatalf("second upload: %d %q", again.StatusCode, again.Header.Get("Location"))
				}
				if page := ff.get(again.Header.Get("Location"), ff.designer); !strings.Contains(page.body, "wurde ersetzt") {
					t.Error("result page does not say the version was replaced")
				}
				if imports := formImports(t, ff.db); imports[len(imports)-1].Details["replaced"] != "true" {
					t.Errorf("audit entry of the replacement: %+v", imports[len(imports)-1])
				}
			})
			t.Run("upload zip", func(t *testing.T) {
				var zb bytes.Buffer
				zw := zip.NewWriter(&zb)
				for name, data := range readDir(t, testenv.SharedData(t, "fim-schemas/xdf2/S05000058V1.0")) {
					w, err := zw.Create("export/" + name)
					must(t, err)
					_, err = w.Write(data)
					must(t, err)
				}
				must(t, zw.Close())
				res := ff.upload(t, ff.designer, arsDarmstadt, keyHund, map[string][]byte{"export.zip": zb.Bytes()})
				if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/S05000058/1.0") {
					t.Fatalf("zip upload: %d %s %.300s", res.StatusCode, res.Header.Get("Location"), res.body)
				}
			})
			t.Run("bad input", func(t *testing.T) {
				before := len(formImports(t, ff.db))
				for _, c := range []struct {
					name    string
					service string
					files   map[string][]byte
					want    string
				}{
					{"broken XML", keyHund, map[string][]byte{"kaputt.xml": []byte("<?xml version=\"1.0\"?>\n<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_2\">\n  <header><a></b>\n")},
						"kaputt.xml:3:"},
					{"no schema", keyHund, map[string][]byte{"liste.xml": readDir(t, dir)["2691.xml"]}, "Kein XDatenfelder-Schema"},
					{"XDatenfelder 1", keyHund, readDir(t, testenv.SharedData(t, "fim-schemas/xdf1/S00000036")), "XDatenfelder 1 wird nicht unterstützt"},
					{"unknown service", "99999999999999", readDir(t, dir), "gibt es für diesen Bereich nicht"},
					{"no service", "", readDir(t, dir), "gültigen Leistungsschlüssel"},
					{"not a zip", keyHund, map[string][]byte{"x.zip": []byte("PK\x03\x04 kaputt")}, "kein lesbares ZIP-Archiv"},
				} {
					t.Run(c.name, func(t *testing.T) {
						res := ff.upload(t, ff.designer, arsDarmstadt, c.service, c.files)
						if res.StatusCode != http.StatusUnprocessableEntity {
							t.Fatalf("status %d, want 422", res.StatusCode)
						}
						if !strings.Contains(res.body, c.want) || !strings.Contains(res.body, "Es wurde nichts gespeichert") || !strings.Contains(res.body, `role="alert"`) {
							t.Errorf("body lacks %q or the summary:\n%s", c.want, res.body)
						}
						field := "#f-dateien"
						if c.service != keyHund {
							field = "#f-service"
						}
						if !strings.Contains(res.body, `<a href="`+field+`">`) {
							t.Errorf("summary does not link %s", field)
						}
					})
				}
				t.Run("unreadable upload", func(t *testing.T) {
					// A broken multipart body: the error is the files',
					// not the (empty) service key's.
					res := ff.do(http.MethodPost, "/verwaltung/"+arsDarmstadt+"/formulare", "--x\r\nkaputt",
						[]*http.Cookie{ff.designer}, map[string]string{"Content-Type": "multipart/form-data; boundary=x"})
					if res.StatusCode != http.StatusUnprocessableEntity {
						t.Fatalf("status %d, want 422", res.StatusCode)
					}
					if !strings.Contains(res.body, `<a href="#f-dateien">`) || strings.Contains(res.body, `id="f-service" name="service" value="" required inputmode="numeric" autocomplete="off" aria-describedby="f-service-hint" aria-invalid="true"`) {
						t.Errorf("an unreadable upload is not reported on the files field:\n%s", res.body)
					}
				})
				if n := len(formImports(t, ff.db)); n != before {
					t.Errorf("bad uploads wrote %d audit entries", n-before)
				}
				if ref, err := forms.Binding(ctx, arsDarmstadt, keyHund); err != nil || ref.ID != "S05000058" {
					t.Errorf("binding changed: %+v %v", ref, err)
				}
			})
			t.Run("upload without version", func(t *testing.T) {
				// S00000009 is an old XDatenfelder 2 export without a version.
				res := ff.upload(t, ff.designer, arsDarmstadt, "dldb-a", readDir(t, testenv.SharedData(t, "fim-schemas/xdf2/S00000009")))
				loc := res.Header.Get("Location")
				if res.StatusCode != http.StatusSeeOther || loc != "/verwaltung/"+arsDarmstadt+"/formulare/S00000009/-?gespeichert=1" {
					t.Fatalf("upload: %d %q %.300s", res.StatusCode, loc, res.body)
				}
				if page := ff.get(loc, ff.designer); page.StatusCode != http.StatusOK || !strings.Contains(page.body, "S00000009") {
					t.Errorf("detail: %d", page.StatusCode)
				}
				if res := ff.get("/verwaltung/"+arsDarmstadt+"/formularschema/S00000009/-", ff.designer); res.StatusCode != http.StatusOK {
					t.Errorf("schema: %d", res.StatusCode)
				}
				list := ff.get("/verwaltung/"+arsDarmstadt+"/formulare?seite=1", ff.designer)
				if !strings.Contains(list.body, `/formulare/S00000009/-"`) {
					t.Error("list does not link the version-less form")
				}
			})
		})
	}
}

// TestFormsAdminIsolation runs the route checks on the portal with the
// forms management: every route declares its access and a designer of
// Darmstadt reaches nothing of Kassel.
func TestFormsAdminIsolation(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			ff := newFormsFixture(t, d)
			webtest.CheckDeclared(t, ff.srv.Routes())
			staffA := ff.login(identity.KindStaff, "staff-a", identity.LoASubstantial, identity.Grant{Tenant: arsDarmstadt, Role: identity.RoleCaseworker})
			p, err := ff.sessions.Load(context.Background(), requestWithCookie(staffA))
			if err != nil || p == nil {
				t.Fatalf("load principal: %v %v", p, err)
			}
			fx := &web.IsolationFixture{A: arsDarmstadt, B: arsKassel, Tenants: ff.db.Tenants(), Catalog: ff.db.Catalog(), Identity: ff.db.Identity(), Principal: p}
			webtest.CheckIsolation(t, ff.ts.URL, ff.srv.Routes(), fx, webtest.Users{Staff: []*http.Cookie{staffA}})
		})
	}
}

// TestStaffTenantLinksForms: the tenant page links the forms management
// for designers only.
func TestStaffTenantLinksForms(t *testing.T) {
	ff := newFormsFixture(t, sqlstore.SQLite)
	link := `href="/verwaltung/` + arsDarmstadt + `/formulare"`
	if res := ff.get("/verwaltung/"+arsDarmstadt, ff.designer); res.StatusCode != http.StatusOK || !strings.Contains(res.body, link) {
		t.Errorf("designer: %d, no link", res.StatusCode)
	}
	if res := ff.get("/verwaltung/"+arsDarmstadt, ff.caseworker); res.StatusCode != http.StatusOK || strings.Contains(res.body, link) {
		t.Errorf("caseworker: %d, link shown", res.StatusCode)
	}
}

// TestFormsAdminPaging: long lists are paged, and a replaced version's
// counts show at once (the list caches counts per import).
func TestFormsAdminPaging(t *testing.T) {
	ff := newFormsFixture(t, sqlstore.SQLite)
	ctx := context.Background()
	forms := ff.db.Forms()
	for i := range 30 {
		attach(t, forms, ctx, "test", arsDarmstadt, fmt.Sprintf("svc-%02d", i), sampleForm(fmt.Sprintf("S%03d", i), "1.0", fmt.Sprintf("Formular %02d", i)))
	}
	base := "/verwaltung/" + arsDarmstadt + "/formulare"
	p1 := ff.get(base, ff.designer)
	if p1.StatusCode != http.StatusOK || !strings.Contains(p1.body, "Seite 1 von 2") || !strings.Contains(p1.body, `href="`+base+`?seite=2"`) ||
		!strings.Contains(p1.body, "Formular 00") || strings.Contains(p1.body, "Formular 29") {
		t.Fatalf("page 1: %d", p1.StatusCode)
	}
	p2 := ff.get(base+"?seite=2", ff.designer)
	if p2.StatusCode != http.StatusOK || !strings.Contains(p2.body, "Formular 29") || strings.Contains(p2.body, "Formular 00") || strings.Contains(p2.body, "seite=3") {
		t.Fatalf("page 2: %d", p2.StatusCode)
	}
	for _, bad := range []string{"0", "x", "-1"} {
		if res := ff.get(base+"?seite="+bad, ff.designer); res.StatusCode != http.StatusBadRequest {
			t.Errorf("seite=%s: %d, want 400", bad, res.StatusCode)
		}
	}
	if !strings.Contains(p1.body, "2 Felder, 2 Gruppen") {
		t.Fatal("counts missing")
	}
	m := sampleForm("S000", "1.0", "Formular 00")
	for i := range 3 {
		m.Root[0].Items = append(m.Root[0].Items, fm.Item{Kind: fm.KindField, ID: fmt.Sprintf("FX%d", i), Version: "1.0", Label: "Neu",
			Feldart: fm.FeldInput, Datentyp: fm.TypText, Max: 1})
	}
	time.Sleep(time.Millisecond) // a new import time
	attach(t, forms, ctx, "test", arsDarmstadt, "svc-00", m)
	if res := ff.get(base, ff.designer); !strings.Contains(res.body, "5 Felder, 2 Gruppen") {
		t.Error("list shows the replaced version's old counts")
	}
}
