// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"regexp"
	"strings"
	"testing"

	"rathaus"
	"rathaus/submission"
)

var refShape = regexp.MustCompile(`^(?:[A-Z0-9]{1,8}-)?[0-9]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

func TestReference(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		r := submission.NewReference("da", 2026)
		if !refShape.MatchString(r) || !strings.HasPrefix(r, "DA-2026-") {
			t.Fatalf("reference %q has the wrong shape", r)
		}
		if seen[r] {
			t.Fatalf("reference %q drawn twice in 2000", r)
		}
		seen[r] = true
		if n, err := submission.NormalizeReference(r); err != nil || n != r {
			t.Fatalf("NormalizeReference(%q) = %q, %v", r, n, err)
		}
	}
	ref := submission.NewReference("", 2026)
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"Canonical", ref, ref, true},
		{"LowerCaseSpaces", " " + strings.ToLower(strings.ReplaceAll(ref, "-", " ")) + " ", ref, true},
		{"NoHyphens", strings.ReplaceAll(ref, "-", ""), ref, true},
		{"ZeroBody", "2026-0000-000J", "2026-0000-000J", true},
		{"ReadOAsZero", "2026-oOoo-OOOj", "2026-0000-000J", true},
		{"ReadILAsOne", "2026-ILl0-000d", "2026-1110-000D", true},
		{"ErrU", "2026-U000-000J", "", false},
		{"ErrEmpty", "", "", false},
		{"ErrShort", "2026-7K3M", "", false},
		{"ErrUmlaut", "2026-7K3Ä-9QXT", "", false},
		{"ErrNoYear", "ABCD-0000-0000", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := submission.NormalizeReference(tc.in)
			if tc.ok && (err != nil || got != tc.want) || !tc.ok && rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("NormalizeReference(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
	t.Run("TyposDetected", func(t *testing.T) {
		const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
		body := []byte(strings.ReplaceAll(ref, "-", ""))
		for i := range body {
			for _, c := range []byte(alphabet) {
				if c == body[i] || i < 4 && (c < '0' || c > '9') {
					continue
				}
				bad := append([]byte(nil), body...)
				bad[i] = c
				if _, err := submission.NormalizeReference(string(bad)); err == nil {
					t.Fatalf("single wrong character at %d (%q) not detected", i, bad)
				}
			}
			if i+1 < len(body) && body[i] != body[i+1] {
				sw := append([]byte(nil), body...)
				sw[i], sw[i+1] = sw[i+1], sw[i]
				if _, err := submission.NormalizeReference(string(sw)); err == nil {
					t.Fatalf("swap at %d (%q) not detected", i, sw)
				}
			}
		}
	})
}

// TestRedrawReference: a taken reference is replaced by one of the same
// prefix and year with new random characters and a valid check character.
func TestRedrawReference(t *testing.T) {
	for _, old := range []string{"DA-2026-7K3M-9QXT", "2019-0000-000J", "OFFICE12-2031-ABCD-EFGH"} {
		for range 50 {
			r := submission.RedrawReference(old)
			if r == old {
				t.Fatalf("RedrawReference(%q) kept it", old)
			}
			if !refShape.MatchString(r) || r[:len(r)-9] != old[:len(old)-9] {
				t.Fatalf("RedrawReference(%q) = %q: want the same prefix and year, new characters", old, r)
			}
			if n, err := submission.NormalizeReference(r); err != nil || n != r {
				t.Fatalf("RedrawReference(%q) = %q: NormalizeReference says %q, %v", old, r, n, err)
			}
		}
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	prev := ""
	for i := 0; i < 1000; i++ {
		id := submission.NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID = %q, not a UUIDv7", id)
		}
		if id[:13] < prev[:min(13, len(prev))] {
			t.Fatalf("ids not time-ordered: %s after %s", id, prev)
		}
		prev = id
	}
}

func FuzzNormalizeReference(f *testing.F) {
	for _, s := range []string{"DA-2026-7K3M-9QXT", "2026-0000-0000", "", "ü", "----", "ABCDEFGHIJ-2026-OOOO-IIII", "2026 7k3m 9qxt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := submission.NormalizeReference(s)
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("error code %q", rathaus.ErrorCode(err))
			}
			return
		}
		if !refShape.MatchString(n) {
			t.Fatalf("NormalizeReference(%q) = %q, not canonical", s, n)
		}
		if again, err := submission.NormalizeReference(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, n, again, err)
		}
	})
}
