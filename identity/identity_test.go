// SPDX-License-Identifier: EUPL-1.2

package identity

import "testing"

func TestAllowed(t *testing.T) {
	const (
		hessen = "060000000000"
		kreis  = "064320000000"
		gemA   = "064320001001"
		gemB   = "064320001002"
		bayern = "091620000000"
	)
	for _, tc := range []struct {
		name   string
		grants []Grant
		role   Role
		ars    string
		want   bool
	}{
		{"no grants", nil, RoleCaseworker, gemA, false},
		{"same node", []Grant{{Tenant: gemA, Role: RoleCaseworker}}, RoleCaseworker, gemA, true},
		{"Land covers its Gemeinden", []Grant{{Tenant: hessen, Role: RoleCaseworker}}, RoleCaseworker, gemB, true},
		{"Kreis covers its Gemeinden", []Grant{{Tenant: kreis, Role: RoleServiceDesigner}}, RoleServiceDesigner, gemA, true},
		{"Gemeinde A never covers B", []Grant{{Tenant: gemA, Role: RoleCaseworker}}, RoleCaseworker, gemB, false},
		{"Gemeinde never covers its Kreis", []Grant{{Tenant: gemA, Role: RoleCaseworker}}, RoleCaseworker, kreis, false},
		{"other Land", []Grant{{Tenant: hessen, Role: RoleCaseworker}}, RoleCaseworker, bayern, false},
		{"role must match", []Grant{{Tenant: hessen, Role: RoleCaseworker}}, RoleServiceDesigner, gemA, false},
		{"designer is no caseworker", []Grant{{Tenant: hessen, Role: RoleServiceDesigner}}, RoleCaseworker, gemA, false},
		{"operator may do what a caseworker may", []Grant{{Tenant: kreis, Role: RoleOperator}}, RoleCaseworker, gemA, true},
		{"operator may do what a designer may", []Grant{{Tenant: kreis, Role: RoleOperator}}, RoleServiceDesigner, gemB, true},
		{"operator only in its subtree", []Grant{{Tenant: gemA, Role: RoleOperator}}, RoleCaseworker, gemB, false},
		{"operator on Bund covers all", []Grant{{Tenant: "000000000000", Role: RoleOperator}}, RoleOperator, bayern, true},
		{"caseworker is no operator", []Grant{{Tenant: "000000000000", Role: RoleCaseworker}}, RoleOperator, gemA, false},
		{"second grant counts", []Grant{{Tenant: bayern, Role: RoleCaseworker}, {Tenant: gemB, Role: RoleCaseworker}}, RoleCaseworker, gemB, true},
		{"invalid target", []Grant{{Tenant: "000000000000", Role: RoleOperator}}, RoleOperator, "", false},
		{"empty role never allowed", []Grant{{Tenant: gemA, Role: ""}}, "", gemA, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Allowed(tc.grants, tc.role, tc.ars); got != tc.want {
				t.Errorf("Allowed(%v, %s, %s) = %v, want %v", tc.grants, tc.role, tc.ars, got, tc.want)
			}
		})
	}
}

func TestParseLoA(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want LoA
	}{
		{"http://eidas.europa.eu/LoA/low", LoALow},
		{"normal", LoALow},
		{"http://eidas.europa.eu/LoA/substantial", LoASubstantial},
		{"substanziell", LoASubstantial},
		{"STORK-QAA-Level-3", LoASubstantial},
		{"http://eidas.europa.eu/LoA/high", LoAHigh},
		{"hoch", LoAHigh},
		{"HIGH", LoANone}, // exact values only: fail closed
		{"http://eidas.europa.eu/LoA/high ", LoANone},
		{"", LoANone},
	} {
		if got := ParseLoA(tc.in); got != tc.want {
			t.Errorf("ParseLoA(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for l, want := range map[LoA]string{LoANone: "none", LoALow: "low", LoASubstantial: "substantial", LoAHigh: "high", LoA(9): "none"} {
		if l.String() != want {
			t.Errorf("LoA(%d).String() = %q, want %q", int(l), l.String(), want)
		}
		if l >= LoALow && l <= LoAHigh && (ParseLoA(l.String()) != l || ParseLoA(l.EIDASURI()) != l) {
			t.Errorf("ParseLoA(%q) or ParseLoA(%q) does not round-trip", l.String(), l.EIDASURI())
		}
		if (l < LoALow || l > LoAHigh) && l.EIDASURI() != "" {
			t.Errorf("LoA(%d).EIDASURI() = %q, want \"\"", int(l), l.EIDASURI())
		}
	}
}
