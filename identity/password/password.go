// SPDX-License-Identifier: EUPL-1.2

// Package password hashes and verifies the password of the optional local
// operator account with Argon2id (BSI TR-02102-1 recommends it), stored in the
// PHC string format:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt b64>$<hash b64>
//
// rathaus stores no other passwords; citizens and staff log in through OIDC.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"rathaus"
)

// Params are the Argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// Default is m=64 MiB, t=3, p=2 with a 16-byte salt and a 32-byte key.
var Default = Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

// Limits that Verify accepts for a stored hash, so that a tampered hash
// cannot make verification allocate unbounded memory.
const (
	maxMemory = 1 << 20 // 1 GiB in KiB
	maxTime   = 20
	minKeyLen = 16
)

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of password with the Default parameters.
func Hash(password string) (string, error) { return HashWith(password, Default) }

// HashWith returns the PHC string of password with p.
func HashWith(password string, p Params) (string, error) {
	if password == "" {
		return "", rathaus.Errorf(rathaus.EINVALID, "Das Passwort darf nicht leer sein.")
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "Zufallszahlen nicht verfügbar.")
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC string phc. A malformed
// phc returns an EINVALID error; a wrong password returns (false, nil).
func Verify(password, phc string) (bool, error) {
	p, salt, key, err := parse(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether phc was made with weaker parameters than Default.
func NeedsRehash(phc string) bool {
	p, _, key, err := parse(phc)
	if err != nil {
		return true
	}
	return p.Memory < Default.Memory || p.Time < Default.Time || uint32(len(key)) < Default.KeyLen
}

func parse(phc string) (Params, []byte, []byte, error) {
	bad := func(reason string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, rathaus.Errorf(rathaus.EINVALID, "password hash: %s", reason)
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return bad("unsupported version")
	}
	var p Params
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 {
		return bad("bad parameters")
	}
	if p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) {
		return bad("parameters out of range")
	}
	if fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) != parts[3] {
		return bad("bad parameters")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("bad salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > 128 {
		return bad("bad hash")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
