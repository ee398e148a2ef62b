// SPDX-License-Identifier: EUPL-1.2

package receipt

import (
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Font is the family name NewPDF registers (regular "" and bold "B").
const Font = "go"

// NewPDF starts an A4 document in the house setup shared by the receipt
// and the notice (casework.RenderNotice): 20 mm margins, automatic page
// breaks, the Go fonts embedded as UTF-8 TrueType under Font, the title
// (cleaned) and producer set, and the creation date when date is not zero.
func NewPDF(title string, date time.Time) *fpdf.Fpdf {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(true, margin)
	p.AddUTF8FontFromBytes(Font, "", goregular.TTF)
	p.AddUTF8FontFromBytes(Font, "B", gobold.TTF)
	p.SetTitle(Clean(title), true)
	p.SetProducer("rathaus", true)
	if !date.IsZero() {
		p.SetCreationDate(date)
		p.SetModificationDate(date)
	}
	return p
}

// Clean makes citizen- or caseworker-controlled text safe for the PDF:
// invalid UTF-8 and characters beyond the Basic Multilingual Plane (emoji;
// the embedded font has no glyphs for them, and fpdf's UTF-8 width table
// covers only the BMP, so they fail the whole document) become "?",
// control characters other than line breaks become spaces, and
// bidirectional overrides (which could make a text read differently than
// it is) are dropped.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r > 0xFFFF:
			return '?'
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			return ' '
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			return -1
		}
		return r
	}, s)
}
