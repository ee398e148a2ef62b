// SPDX-License-Identifier: EUPL-1.2

package password

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"rathaus"
)

// FileName is the name of the operator password file in the data
// directory.
const FileName = "operator.passwd"

// WriteFile stores the account name and PHC hash as the single line
// "name:phc" in path, readable only by the owner (0600). It replaces the
// file atomically.
func WriteFile(path, name, phc string) error {
	if !ValidName(name) {
		return rathaus.Errorf(rathaus.EINVALID, "operator name %q: use 1–64 letters, digits, '.', '-' or '_'", name)
	}
	if _, _, _, err := parse(phc); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot create %s", dir)
	}
	tmp, err := os.CreateTemp(dir, ".operator-*")
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot write in %s", dir)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = fmt.Fprintf(tmp, "%s:%s\n", name, phc)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot write %s", path)
		}
		return nil
	}
	tmp.Close()
	return rathaus.Errorf(rathaus.EUNAVAILABLE, "cannot restrict the permissions of %s", tmp.Name())
}

// ReadFile returns the account name and PHC hash stored in path. A missing
// file returns ENOTFOUND; a malformed one EINVALID with file and line.
func ReadFile(path string) (name, phc string, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", rathaus.Errorf(rathaus.ENOTFOUND, "no operator account (%s missing); run: rathaus operator set-password", path)
	}
	if err != nil {
		return "", "", rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read %s", path)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, phc, ok := strings.Cut(text, ":")
		if !ok || !ValidName(name) {
			return "", "", rathaus.Errorf(rathaus.EINVALID, "%s:%d: field name: want name:hash", path, line)
		}
		if _, _, _, err := parse(phc); err != nil {
			return "", "", rathaus.Errorf(rathaus.EINVALID, "%s:%d: field hash: %s", path, line, rathaus.ErrorMessage(err))
		}
		return name, phc, nil
	}
	if err := sc.Err(); err != nil {
		return "", "", rathaus.Wrap(rathaus.EINVALID, err, "%s:%d: unreadable", path, line+1)
	}
	return "", "", rathaus.Errorf(rathaus.EINVALID, "%s: no account line", path)
}

// ValidName reports whether name is acceptable as an operator account name.
func ValidName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// MinLength is the shortest operator password accepted (BSI: long
// passphrases rather than composition rules).
const MinLength = 12

// CheckStrength returns EINVALID if pw is too weak for the operator account.
func CheckStrength(pw string) error {
	if len([]rune(pw)) < MinLength {
		return rathaus.Errorf(rathaus.EINVALID, "the password needs at least %d characters", MinLength)
	}
	if strings.TrimSpace(pw) != pw {
		return rathaus.Errorf(rathaus.EINVALID, "the password must not start or end with spaces")
	}
	return nil
}
