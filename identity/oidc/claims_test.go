// SPDX-License-Identifier: EUPL-1.2

package oidc_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/identity"
	"rathaus/identity/oidc"
)

func TestParseRoles(t *testing.T) {
	tests := []struct {
		name  string
		roles []string
		want  []identity.Grant
		err   string
	}{
		{"none", nil, nil, ""},
		{"caseworker", []string{"caseworker@064110000000"}, []identity.Grant{{UserID: "u", Tenant: "064110000000", Role: identity.RoleCaseworker}}, ""},
		{"several, duplicate dropped", []string{"designer@060000000000", " operator@000000000000 ", "designer@060000000000"}, []identity.Grant{
			{UserID: "u", Tenant: "060000000000", Role: identity.RoleServiceDesigner},
			{UserID: "u", Tenant: "000000000000", Role: identity.RoleOperator},
		}, ""},
		{"no at", []string{"caseworker"}, nil, "entry 1"},
		{"unknown role", []string{"caseworker@064110000000", "admin@064110000000"}, nil, `entry 2 "admin@064110000000": unknown role`},
		{"short ars", []string{"caseworker@06411"}, nil, "12-digit ARS"},
		{"letters", []string{"caseworker@06411000000x"}, nil, "12-digit ARS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := oidc.ParseRoles("u", tt.roles)
			if tt.err != "" {
				if rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want invalid containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/", "/a?b=c#d", "//evil", "/\\evil", "https://evil", "/%2F%2Fevil", "\t/x", "/x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got, ok := oidc.SafeNext(next)
		if !ok {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("SafeNext(%q) accepted %q", next, got)
		}
		// A browser resolving it against our origin stays on our origin.
		base, _ := url.Parse("https://rathaus.example/x/")
		if r := base.ResolveReference(u); r.Host != "rathaus.example" {
			t.Fatalf("SafeNext(%q) = %q leaves the site: %s", next, got, r)
		}
	})
}
