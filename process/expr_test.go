// SPDX-License-Identifier: EUPL-1.2

package process

import "testing"

func TestTranslateJUEL(t *testing.T) {
	tests := []struct {
		in   string
		want string
		vars map[string]any
		is   bool
	}{
		{"${var == 'x'}", "var == 'x'", map[string]any{"var": "x"}, true},
		{"${var == 'x'}", "var == 'x'", map[string]any{"var": "y"}, false},
		{"${a > 3 && b}", "a > 3 && b", map[string]any{"a": 4, "b": true}, true},
		{"${a > 3 && b}", "a > 3 && b", map[string]any{"a": 4, "b": false}, false},
		{"${!approved}", "!approved", map[string]any{"approved": false}, true},
		{"${!approved}", "!approved", map[string]any{"approved": true}, false},
		{"${empty x}", "isEmpty(x)", map[string]any{}, true},
		{"${empty x}", "isEmpty(x)", map[string]any{"x": ""}, true},
		{"${empty x}", "isEmpty(x)", map[string]any{"x": "a"}, false},
		{"${not empty x.y}", "! isEmpty(x.y)", map[string]any{"x": map[string]any{"y": "a"}}, true},
		{"${a eq 'x' and b ne 2}", "a == 'x' && b != 2", map[string]any{"a": "x", "b": 3}, true},
		{"${a gt 1 or a lt -5}", "a > 1 || a < -5", map[string]any{"a": 0}, false},
		{"${isFormValid==false}", "isFormValid==false", map[string]any{"isFormValid": false}, true},
		{`${radioAntrag=="angenommen"}`, `radioAntrag=="angenommen"`, map[string]any{"radioAntrag": "angenommen"}, true},
		{"${x == null}", "x == nil", map[string]any{}, true},
		{"${'eq and' == s}", "'eq and' == s", map[string]any{"s": "eq and"}, true},
		{"amount <= 500", "amount <= 500", map[string]any{"amount": 100}, true},
		{"${!missing}", "!missing", map[string]any{}, true},
		{"${a && !b}", "a && !b", map[string]any{"a": true}, true},
		{"${undefinedVar == true}", "undefinedVar == true", map[string]any{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := TranslateJUEL(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("TranslateJUEL = %q, want %q", got, tt.want)
			}
			p, err := compileCondition(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := evalBool(p, tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.is {
				t.Errorf("eval = %v, want %v", ok, tt.is)
			}
		})
	}
}

func TestTranslateJUELErrors(t *testing.T) {
	for _, in := range []string{"${'open}", "${empty}", "${empty (a}", "text ${x}"} {
		t.Run(in, func(t *testing.T) {
			if got, err := TranslateJUEL(in); err == nil {
				t.Errorf("TranslateJUEL(%q) = %q, want error", in, got)
			}
		})
	}
}

func FuzzTranslateJUEL(f *testing.F) {
	for _, s := range []string{"${a == 'x'}", "${empty x}", "${not empty (a.b)}", "${a gt 3 and !b}", "#{x}", "${'unterminated}", "${empty}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := TranslateJUEL(s)
		if err != nil {
			return
		}
		if p, err := compileCondition(s); err == nil {
			_, _ = evalBool(p, map[string]any{"a": 1, "b": true, "x": "y"})
		}
		_ = code
	})
}

func TestNewUUID(t *testing.T) {
	id := newUUID()
	if len(id) != 36 || id[14] != '4' || id == newUUID() {
		t.Errorf("newUUID() = %q", id)
	}
}
