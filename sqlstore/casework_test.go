// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/casework"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
)

// TestCaseStore checks the inbox (subtree, filters, sorting, paging) and
// the history (order, idempotent keys) on both dialects.
func TestCaseStore(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const darmstadt, regensburg, weiterstadt = "064110000000", "093620000000", "064320023023"
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := sqltest.Open(t, d)
			s := db.Cases()
			// A subtree of several tenants is queried per tenant (union).
			if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
				{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bund"},
				{ARS: "060000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Hessen"},
				{ARS: "064000000000", Parent: "060000000000", Level: tenant.LevelRegierungsbezirk, Name: "RB Darmstadt"},
				{ARS: darmstadt, Parent: "064000000000", Level: tenant.LevelGemeinde, Name: "Darmstadt"},
				{ARS: "064320000000", Parent: "064000000000", Level: tenant.LevelKreis, Name: "Darmstadt-Dieburg"},
				{ARS: weiterstadt, Parent: "064320000000", Level: tenant.LevelGemeinde, Name: "Weiterstadt"},
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.PutCase(ctx, &casework.Case{Tenant: weiterstadt, ID: "w1", Status: casework.StatusNew, Office: "buergeramt", CreatedAt: t0.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			for i := range 30 {
				c := &casework.Case{Tenant: darmstadt, ID: fmt.Sprintf("c%02d", i), Reference: fmt.Sprintf("DA-%02d", 29-i), ServiceKey: "99001",
					Status: casework.StatusNew, Office: "buergeramt", Role: "Sachbearbeitung", CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
				if i%3 == 0 {
					c.ServiceKey = "99002"
				}
				if i%5 == 0 {
					c.Assignee = "u1"
					c.Status = casework.StatusInProgress
				}
				if i < 4 {
					c.DueAt = t0.Add(time.Duration(i) * 24 * time.Hour)
				}
				if i == 0 {
					c.Status = casework.StatusClosed
				}
				if err := s.PutCase(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.PutCase(ctx, &casework.Case{Tenant: regensburg, ID: "r1", Status: casework.StatusNew, Office: "buergeramt", CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			ids := func(p casework.Page) []string {
				var out []string
				for _, c := range p.Cases {
					out = append(out, c.ID)
				}
				return out
			}
			now := t0.Add(50 * time.Hour)
			for _, tc := range []struct {
				name  string
				f     casework.Filter
				total int
				want  []string
			}{
				{"subtree page 1", casework.Filter{Root: "064000000000", PageSize: 3}, 31, []string{"w1", "c00", "c01"}},
				{"subtree page 2", casework.Filter{Root: "064000000000", PageSize: 3, Page: 2}, 31, []string{"c02", "c03", "c04"}},
				{"subtree desc", casework.Filter{Root: "064000000000", PageSize: 2, Desc: true}, 31, []string{"c29", "c28"}},
				{"subtree by reference", casework.Filter{Root: "064000000000", PageSize: 2, Sort: casework.SortReference}, 31, []string{"w1", "c29"}},
				{"page 2 desc", casework.Filter{Root: darmstadt, PageSize: 2, Page: 2, Desc: true}, 30, []string{"c27", "c26"}},
				{"other tenant", casework.Filter{Root: regensburg}, 1, []string{"r1"}},
				{"bund sees all", casework.Filter{Root: "000000000000", PageSize: 1}, 32, []string{"w1"}},
				{"service", casework.Filter{Root: darmstadt, ServiceKey: "99002", PageSize: 2}, 10, []string{"c00", "c03"}},
				{"assignee", casework.Filter{Root: darmstadt, Assignee: "u1"}, 6, []string{"c00", "c05", "c10", "c15", "c20", "c25"}},
				{"unassigned open", casework.Filter{Root: darmstadt, Assignee: "-", Status: "open", PageSize: 1}, 24, []string{"c01"}},
				{"status", casework.Filter{Root: darmstadt, Status: casework.StatusClosed}, 1, []string{"c00"}},
				{"overdue", casework.Filter{Root: darmstadt, Overdue: true, Now: now}, 2, []string{"c01", "c02"}},
				{"due before", casework.Filter{Root: darmstadt, DueBefore: t0.Add(48 * time.Hour)}, 3, []string{"c00", "c01", "c02"}},
				{"by due", casework.Filter{Root: darmstadt, Sort: casework.SortDue, PageSize: 5}, 30, []string{"c00", "c01", "c02", "c03", "c04"}},
				{"by reference", casework.Filter{Root: darmstadt, Sort: casework.SortReference, PageSize: 2}, 30, []string{"c29", "c28"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p, err := s.Inbox(ctx, tc.f)
					if err != nil {
						t.Fatal(err)
					}
					if p.Total != tc.total {
						t.Errorf("total %d, want %d", p.Total, tc.total)
					}
					if diff := cmp.Diff(tc.want, ids(p)); diff != "" {
						t.Errorf("ids (-want +got):\n%s", diff)
					}
				})
			}
			if _, err := s.Inbox(ctx, casework.Filter{Root: darmstadt, Sort: "nope"}); rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("bad sort: %v", err)
			}
			if _, err := s.Case(ctx, regensburg, "c01"); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("case of other tenant: %v", err)
			}
			c, err := s.Case(ctx, darmstadt, "c01")
			if err != nil || !c.DueAt.Equal(t0.Add(24*time.Hour)) || !c.Overdue(now) {
				t.Errorf("case: %+v %v", c, err)
			}
			e := casework.Entry{Tenant: darmstadt, CaseID: "c01", Kind: casework.KindRule, Text: "Regel", Key: "rule/1"}
			for range 2 {
				if err := s.Append(ctx, e, casework.Entry{Tenant: darmstadt, CaseID: "c01", Kind: casework.KindNote, Text: "Notiz"}); err != nil {
					t.Fatal(err)
				}
			}
			h, err := s.History(ctx, darmstadt, "c01")
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, e := range h {
				texts = append(texts, fmt.Sprint(e.Seq, e.Text))
			}
			if diff := cmp.Diff([]string{"1Regel", "2Notiz", "3Notiz"}, texts); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			if h, _ := s.History(ctx, regensburg, "c01"); len(h) != 0 {
				t.Errorf("history of other tenant: %+v", h)
			}
			// Rules are inherited down the tree; the nearest tenant wins.
			land := []casework.Rule{{Name: "land", When: "true", Decision: "approve"}}
			own := []casework.Rule{{Name: "own", When: "x > 1", Route: "amt"}}
			if err := s.PutRules(ctx, "060000000000", "99001", land); err != nil {
				t.Fatal(err)
			}
			if err := s.PutRules(ctx, weiterstadt, "99001", own); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				ars  string
				want []casework.Rule
			}{{darmstadt, land}, {weiterstadt, own}, {regensburg, nil}} {
				got, err := s.RulesFor(ctx, tc.ars, "99001")
				if err != nil || !cmp.Equal(got, tc.want) {
					t.Errorf("RulesFor(%s) = %+v %v, want %+v", tc.ars, got, err, tc.want)
				}
			}
			if err := s.PutRules(ctx, weiterstadt, "99001", nil); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.RulesFor(ctx, weiterstadt, "99001"); !cmp.Equal(got, land) {
				t.Errorf("after removing own rules: %+v", got)
			}
		})
	}
}
