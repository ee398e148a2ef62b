// SPDX-License-Identifier: EUPL-1.2

package web_test

import (
	"archive/zip"
	"bytes"
	"testing"

	"rathaus"
	"rathaus/web"
)

// zipOf builds a zip archive of name → content.
func zipOf(tb testing.TB, files map[string]string) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

const fuzzSchema = `<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_2">
<xdf:header><xdf:nachrichtID>1</xdf:nachrichtID><xdf:erstellungszeitpunkt>2020-01-01T00:00:00</xdf:erstellungszeitpunkt></xdf:header>
<xdf:stammdatenschema><xdf:identifikation><xdf:id>S1</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:name>Test</xdf:name></xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>`

// FuzzFormsUpload feeds arbitrary bytes as an uploaded file (as XML and as
// a zip archive) through UnpackUploads and ParseFIMUpload: no panic, and
// every failure is a safe EINVALID message naming the file.
func FuzzFormsUpload(f *testing.F) {
	f.Add([]byte(fuzzSchema), false)
	f.Add([]byte("<a></b>"), false)
	f.Add(zipOf(f, map[string]string{"x/schema.xml": fuzzSchema, "readme.txt": "hallo"}), true)
	f.Add(zipOf(f, map[string]string{"../../etc/a.xml": "<a/>"}), true)
	f.Add([]byte("PK\x03\x04 kaputt"), true)
	f.Fuzz(func(t *testing.T, data []byte, asZip bool) {
		name := "upload.xml"
		if asZip {
			name = "upload.zip"
		}
		files, err := web.UnpackUploads([]web.UploadFile{{Name: name, Data: data}})
		if err == nil {
			for _, u := range files {
				if len(u.Name) < len(name) || u.Name[:len(name)] != name {
					t.Fatalf("unpacked name %q does not start with the archive's", u.Name)
				}
			}
			_, err = web.ParseFIMUpload(files)
		}
		if err != nil && rathaus.ErrorCode(err) != rathaus.EINVALID {
			t.Fatalf("error code %s: %v", rathaus.ErrorCode(err), err)
		}
	})
}
