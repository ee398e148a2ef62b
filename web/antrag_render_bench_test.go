// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"rathaus/fim"
	"rathaus/form"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
)

var farFuture = time.Now().Add(24 * time.Hour)

// BenchmarkRenderStep renders form steps from a draft in memory: the step
// view (conditions, code lists, prefill marks) and the page template with
// the layout, without the store (BenchmarkFormStep in the external tests
// measures the whole request with session, draft and vault). Target ≥
// 5,000 pages/s.
func BenchmarkRenderStep(b *testing.B) {
	load := func(dir string) *form.Model {
		m, err := fim.LoadDir(testenv.SharedData(b, "fim-schemas/xdf2/"+dir))
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	m246, m094, m009, m058 := load("S00000246V1.1"), load("S00000094V1.0"), load("S00000009"), load("S05000058V1.0")
	db := sqltest.Open(b, sqlstore.SQLite)
	s, err := New(Config{}, Deps{Tenants: db.Tenants(), Catalog: db.Catalog()})
	if err != nil {
		b.Fatal(err)
	}
	h := newAntrag(s, FormFeature{})
	// The largest step of each real schema (S00000246 has three large
	// ones: step 1 with the Staat/Staatsangehörigkeit code lists, step 4
	// with 20 conditional groups) and a typical universal step.
	for _, bc := range []struct {
		name string
		m    *form.Model
		step int
	}{
		{"S00000246-step1", m246, 1},
		{"S00000246-step2", m246, 2},
		{"S00000246-step4", m246, 4},
		{"S00000009-step4", m009, 4},
		{"S00000094-step2", m094, 2},
		{"S05000058-step2", m058, 2},
		{"universal-step2", submission.UniversalForm("de"), 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := &submission.Draft{Tenant: "064110000000", ID: "bench", ServiceKey: "bench", FormID: bc.m.ID, FormVersion: bc.m.Version, Answers: form.Answers{}}
			h.svcNames.put(d.Tenant+"\x00"+d.ServiceKey, "Leistung", farFuture)
			req := httptest.NewRequest(http.MethodGet, stepURL(d, "1"), nil)
			rec := httptest.NewRecorder()
			h.renderStep(rec, req, http.StatusOK, d, bc.m, bc.step, stepCtx{}, nil, "")
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
			size := rec.Body.Len()
			b.ReportAllocs()
			var ru0, ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					h.renderStep(rec, req, http.StatusOK, d, bc.m, bc.step, stepCtx{}, nil, "")
				}
			})
			b.StopTimer()
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
			b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/page")
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
