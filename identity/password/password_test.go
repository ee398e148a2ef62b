// SPDX-License-Identifier: EUPL-1.2

package password

import (
	"strings"
	"testing"

	"rathaus"
)

// cheap keeps the tests fast; Default is exercised once.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := Hash("Rathaus-Betrieb 2026!")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q does not use the default parameters", h)
	}
	if NeedsRehash(h) {
		t.Error("default hash needs rehash")
	}
	tests := []struct {
		name, pw string
		want     bool
	}{
		{"right", "Rathaus-Betrieb 2026!", true},
		{"wrong", "Rathaus-Betrieb 2026?", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.pw, h)
			if err != nil || ok != tt.want {
				t.Errorf("Verify = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
}

func TestSaltIsRandom(t *testing.T) {
	a, _ := HashWith("x", cheap)
	b, _ := HashWith("x", cheap)
	if a == b {
		t.Error("two hashes of the same password are equal")
	}
	if !NeedsRehash(a) {
		t.Error("cheap hash does not need rehash")
	}
	if _, err := HashWith("", cheap); rathaus.ErrorCode(err) != rathaus.EINVALID {
		t.Errorf("empty password: %v", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := HashWith("x", cheap)
	parts := strings.Split(good, "$")
	tests := map[string]string{
		"empty":        "",
		"bcrypt":       "$2a$10$abcdefghijklmnopqrstuu5R7U8uWzPq0n0Rj6nq8CfJ0rR5E5f4u",
		"argon2i":      strings.Replace(good, "argon2id", "argon2i", 1),
		"version":      strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":  strings.Join([]string{"", parts[1], parts[2], "m=4294967295,t=1,p=1", parts[4], parts[5]}, "$"),
		"zero time":    strings.Join([]string{"", parts[1], parts[2], "m=64,t=0,p=1", parts[4], parts[5]}, "$"),
		"trailing":     strings.Join([]string{"", parts[1], parts[2], "m=64,t=1,p=1x", parts[4], parts[5]}, "$"),
		"bad salt":     strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short key":    strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"extra fields": good + "$x",
	}
	for name, phc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, err := Verify("x", phc)
			if ok || rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("Verify(%q) = %v, %v; want false, invalid", phc, ok, err)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	good, _ := HashWith("x", cheap)
	f.Add("x", good)
	f.Add("x", "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("", "$$$$$")
	f.Fuzz(func(t *testing.T, pw, phc string) {
		p, _, _, err := parse(phc)
		if err == nil && (p.Memory > maxMemory || p.Time > maxTime) {
			t.Fatalf("accepted out-of-range parameters %+v", p)
		}
		if err == nil && p.Memory <= 4096 {
			Verify(pw, phc)
		}
	})
}
