// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/http/httptest"
	"testing"
)

func TestSendDownload(t *testing.T) {
	for _, tc := range []struct {
		name, mediaType, filename string
		wantType, wantDisposition string
	}{
		{"pdf", "application/pdf", "Bescheid-DA-1.pdf", "application/pdf", "attachment; filename=Bescheid-DA-1.pdf"},
		{"html upload stays a download", "text/html", "x.html", "text/html", "attachment; filename=x.html"},
		{"no media type", "", "a.bin", "application/octet-stream", "attachment; filename=a.bin"},
		{"media type that does not parse", "text/html; <script>", "a", "application/octet-stream", "attachment; filename=a"},
		{"umlaut and quote in the name", "image/png", "Pass\"bild ä.png", "image/png", "attachment; filename*=utf-8''Pass%22bild%20%C3%A4.png"},
		{"header injection in the name", "image/png", "a\r\nSet-Cookie: x=y", "image/png", "attachment; filename*=utf-8''a%0D%0ASet-Cookie%3A%20x%3Dy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			sendDownload(w, tc.mediaType, tc.filename, []byte("data"))
			h := w.Result().Header
			if got := h.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			if got := h.Get("Content-Disposition"); got != tc.wantDisposition {
				t.Errorf("Content-Disposition %q, want %q", got, tc.wantDisposition)
			}
			if got := h.Get("Content-Security-Policy"); got != "default-src 'none'; sandbox" {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if h.Get("Content-Length") != "4" || w.Body.String() != "data" || h.Get("Set-Cookie") != "" {
				t.Errorf("body %q, Content-Length %q, Set-Cookie %q", w.Body.String(), h.Get("Content-Length"), h.Get("Set-Cookie"))
			}
		})
	}
}
