// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"mime"
	"net/http"
	"strconv"
)

// sendDownload writes a stored file (a citizen's upload, a notice, a
// mailbox attachment) as a download: always Content-Disposition
// attachment, a media type that parses (else application/octet-stream),
// and a sandboxing Content-Security-Policy, so an uploaded HTML or SVG
// file can never run as a page of the portal, even in a browser that
// ignores the disposition. Errors writing the body are not reported:
// the headers are out, and the client has gone.
func sendDownload(w http.ResponseWriter, mediaType, filename string, data []byte) {
	if _, _, err := mime.ParseMediaType(mediaType); err != nil || mediaType == "" {
		mediaType = "application/octet-stream"
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	if disposition == "" {
		disposition = "attachment"
	}
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write(data) // a failed write is a gone client: nothing left to tell it
}
