// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/jobs"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/vault"
	"rathaus/web"
	"rathaus/web/webtest"
)

// apiAnswers is a minimal valid answer set of the universal form.
const apiAnswers = `{"anliegen":{"beschreibung":"Ich möchte meinen Hund anmelden."},
	"kontakt":{"vorname":"Jürgen","nachname":"Müller","email":"juergen@example.org"},
	"einwilligung":{"zustimmung":"ja"}}`

// TestIntakeAPI drives POST /api/v1/antraege/{key} over loopback on both
// dialects: created, replayed, invalid answers with field errors, missing
// header or municipality, and a replayed key of another citizen.
func TestIntakeAPI(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			seed(t, db)
			ctx := context.Background()
			q, err := jobs.New(ctx, db, jobs.Options{})
			must(t, err)
			master, _, err := vault.GenerateMasterKey()
			must(t, err)
			store := db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
				jj := make([]jobs.Job, len(js))
				for i, j := range js {
					jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
				}
				return q.EnqueueMany(ctx, tx, jj)
			}).UseOutbox()
			svc := submission.New(store, vault.New(db.VaultKeys(), master), submission.Options{ReferencePrefix: "DA"})
			t.Cleanup(func() { svc.Close() })
			mgr := session.NewManager(db.Identity(), session.Options{})
			srv, err := web.New(web.Config{Logger: slog.New(slog.DiscardHandler)}, web.Deps{
				Tenants: db.Tenants(), Catalog: db.Catalog(), Identity: db.Identity(), Sessions: mgr.Middleware, Ready: db.Ping,
				Auth:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "auth stub") }),
				Features: []web.Feature{web.IntakeAPIFeature{Intake: svc, Form: web.FormsOf(db.Forms())}},
			})
			must(t, err)
			ts := httptest.NewServer(srv.Handler())
			t.Cleanup(ts.Close)
			f := &fixture{t: t, db: db, srv: srv, ts: ts, sessions: mgr}
			webtest.CheckDeclared(t, srv.Routes())
			citizenA := f.login(identity.KindCitizen, "citizen-a", identity.LoASubstantial)
			citizenB := f.login(identity.KindCitizen, "citizen-b", identity.LoASubstantial)
			town := &http.Cookie{Name: "municipality", Value: arsDarmstadt}
			post := func(body, key string, cookies ...*http.Cookie) (int, map[string]any) {
				t.Helper()
				hdr := map[string]string{"Content-Type": "application/json"}
				if key != "" {
					hdr["Idempotency-Key"] = key
				}
				res := f.do(http.MethodPost, "/api/v1/antraege/"+keyHund, body, cookies, hdr)
				var out map[string]any
				if err := json.Unmarshal([]byte(res.body), &out); err != nil {
					t.Fatalf("answer is not JSON (%d): %q", res.StatusCode, res.body)
				}
				return res.StatusCode, out
			}

			st, first := post(apiAnswers, "k1", town)
			if st != http.StatusCreated || !strings.HasPrefix(first["reference"].(string), "DA-") || first["replayed"] != false {
				t.Fatalf("first POST = %d %v, want 201 with a DA- reference", st, first)
			}
			app, err := store.Application(ctx, arsDarmstadt, first["id"].(string))
			if err != nil || app.ServiceKey != keyHund || app.ApplicantUserID != "" || app.IdempotencyKey != "api:k1" {
				t.Fatalf("stored application = %+v, %v", app, err)
			}
			if st, again := post(apiAnswers, "k1", town); st != http.StatusOK || again["id"] != first["id"] || again["replayed"] != true {
				t.Errorf("replay = %d %v, want 200 with the same id", st, again)
			}

			st, mine := post(apiAnswers, "k2", town, citizenA)
			if st != http.StatusCreated {
				t.Fatalf("citizen POST = %d %v", st, mine)
			}
			if app, err := store.Application(ctx, arsDarmstadt, mine["id"].(string)); err != nil || app.ApplicantUserID == "" || app.LoA != identity.LoASubstantial {
				t.Errorf("citizen's application = %+v, %v; want their user id and LoA", app, err)
			}

			for _, tc := range []struct {
				name    string
				body    string
				key     string
				cookies []*http.Cookie
				status  int
				code    string
				field   string // a path expected among the field errors
			}{
				{"ErrInvalidAnswers", `{"anliegen":{"beschreibung":""},"kontakt":{"vorname":"A","nachname":"B","email":"kein-at"},"einwilligung":{"zustimmung":"ja"}}`,
					"k3", []*http.Cookie{town}, http.StatusBadRequest, "invalid", "kontakt[0].email"},
				{"ErrNoIdempotencyKey", apiAnswers, "", []*http.Cookie{town}, http.StatusBadRequest, "invalid", ""},
				{"ErrNoMunicipality", apiAnswers, "k4", nil, http.StatusBadRequest, "invalid", ""},
				{"ErrNotJSON", `{"anliegen":`, "k5", []*http.Cookie{town}, http.StatusBadRequest, "invalid", ""},
				{"ErrTrailing", apiAnswers + `{}`, "k6", []*http.Cookie{town}, http.StatusBadRequest, "invalid", ""},
				{"ErrOtherCitizensKey", apiAnswers, "k2", []*http.Cookie{town, citizenB}, http.StatusConflict, "conflict", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					st, out := post(tc.body, tc.key, tc.cookies...)
					e, _ := out["error"].(map[string]any)
					if st != tc.status || e == nil || e["code"] != tc.code {
						t.Fatalf("POST = %d %v, want %d %s", st, out, tc.status, tc.code)
					}
					if strings.Contains(strings.ToLower(fmtAny(out)), strings.ToLower(mine["reference"].(string))) {
						t.Errorf("answer reveals another application's reference: %v", out)
					}
					if tc.field != "" && !strings.Contains(fmtAny(e["fields"]), tc.field) {
						t.Errorf("field errors %v lack %s", e["fields"], tc.field)
					}
				})
			}
			if n := countRows(t, f, `SELECT count(*) FROM applications`); n != 2 {
				t.Errorf("%d applications stored, want 2", n)
			}
		})
	}
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func countRows(t *testing.T, f *fixture, q string) int {
	t.Helper()
	var n int
	must(t, f.db.SQL().QueryRowContext(context.Background(), q).Scan(&n))
	return n
}
