// SPDX-License-Identifier: EUPL-1.2

package password

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rathaus"
)

func TestFileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, FileName)
	if _, _, err := ReadFile(path); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
		t.Fatalf("missing file: %v", err)
	}
	h, _ := HashWith("lange-passphrase", cheap)
	if err := WriteFile(path, "betrieb", h); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v", fi.Mode(), err)
	}
	name, phc, err := ReadFile(path)
	if err != nil || name != "betrieb" || phc != h {
		t.Fatalf("ReadFile = %q, %q, %v", name, phc, err)
	}
	h2, _ := HashWith("andere-passphrase", cheap)
	if err := WriteFile(path, "betrieb", h2); err != nil {
		t.Fatal(err)
	}
	if _, phc, _ := ReadFile(path); phc != h2 {
		t.Error("second write did not replace the hash")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	h, _ := HashWith("x", cheap)
	if err := WriteFile(filepath.Join(dir, "a"), "bad name", h); rathaus.ErrorCode(err) != rathaus.EINVALID {
		t.Errorf("bad name: %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "a"), "ok", "$plain$"); rathaus.ErrorCode(err) != rathaus.EINVALID {
		t.Errorf("bad hash: %v", err)
	}
	tests := map[string]string{
		"no colon": "# comment\nbetrieb\n",
		"bad hash": "betrieb:$argon2id$v=19$m=1,t=1,p=1$x$y\n",
		"empty":    "\n# nur Kommentar\n",
		"bad name": "be trieb:" + h + "\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			os.WriteFile(p, []byte(content), 0o600)
			_, _, err := ReadFile(p)
			if rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.Contains(err.Error(), p) {
				t.Errorf("err = %v, want invalid naming the file", err)
			}
		})
	}
	for pw, ok := range map[string]bool{"kurz": false, "genau-zwölf": false, "genau-zwölf!": true, " mit-leerzeichen ": false} {
		if err := CheckStrength(pw); (err == nil) != ok {
			t.Errorf("CheckStrength(%q) = %v", pw, err)
		}
	}
}
