// SPDX-License-Identifier: EUPL-1.2

// Package receipt renders the PDF receipt of an application
// ("Eingangsbestätigung"): municipality and office, service, reference
// number, date and time, every answer with its label in form order (groups,
// repeated groups numbered), the attachment list (name, size, SHA-256) and a
// note on what happens next.
//
// The PDF is made with github.com/go-pdf/fpdf and the Go fonts
// (golang.org/x/image/font/gofont, BSD licence) embedded as UTF-8 TrueType,
// so umlauts, ß and other Latin characters of DIN 91379 render.
package receipt

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Berlin without a system zoneinfo

	"rathaus"
	"rathaus/form"
	"rathaus/submission"
)

// Receipt is what the PDF shows.
type Receipt struct {
	Lang        string // "de" (default) or "en"
	Tenant      string // municipality, e.g. "Wissenschaftsstadt Darmstadt"
	Office      string // responsible office, optional
	Service     string // name of the service applied for
	Reference   string
	SubmittedAt time.Time
	// Location for the date and time; default Europe/Berlin.
	Location *time.Location
	// Form gives the labels and the order of the answers; nil lists no answers.
	Form        *form.Model
	Answers     form.Answers
	Attachments []submission.Attachment
	// NextSteps replaces the default note on what happens next.
	NextSteps string
}

// FromApplication fills a Receipt from a stored application, its opened
// answers and the form version it was made with.
func FromApplication(app *submission.Application, model *form.Model, answers form.Answers, tenantName, serviceName, lang string) Receipt {
	return Receipt{Lang: lang, Tenant: tenantName, Service: serviceName, Reference: app.Reference, SubmittedAt: app.SubmittedAt,
		Form: model, Answers: answers, Attachments: app.Attachments}
}

type texts struct {
	title, tenant, office, service, reference, submitted, answers, attachments, none, next, page, yes, no, entry, generated string
}

var de = texts{"Eingangsbestätigung", "Kommune", "Zuständige Stelle", "Leistung", "Aktenzeichen", "Eingegangen am",
	"Ihre Angaben", "Anhänge", "Keine Anhänge.",
	"Wir haben Ihren Antrag erhalten und sicher gespeichert. Die zuständige Stelle bearbeitet ihn und meldet sich bei Ihnen, wenn Angaben oder Unterlagen fehlen. Bitte geben Sie bei Rückfragen immer das Aktenzeichen an. Diese Bestätigung ist kein Bescheid.",
	"Seite %d von {nb}", "Ja", "Nein", "Eintrag", "Erstellt von rathaus"}

var en = texts{"Acknowledgement of receipt", "Municipality", "Responsible office", "Service", "Reference number", "Received on",
	"Your answers", "Attachments", "No attachments.",
	"We have received your application and stored it securely. The responsible office will process it and contact you if information or documents are missing. Please always quote the reference number. This acknowledgement is not a decision.",
	"Page %d of {nb}", "Yes", "No", "Entry", "Made by rathaus"}

const (
	margin = 20.0
	labelW = 62.0
	lineH  = 5.2
)

// Render writes the receipt as PDF to w.
func Render(w io.Writer, r Receipt) error {
	if r.Reference == "" {
		return rathaus.Errorf(rathaus.EINVALID, "receipt: field Reference: empty")
	}
	tx := de
	if r.Lang == "en" {
		tx = en
	}
	loc := r.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Europe/Berlin"); err != nil {
			loc = time.UTC
		}
	}
	p := NewPDF(tx.title+" "+r.Reference, r.SubmittedAt)
	p.SetCreator(tx.generated, true)
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-15)
		p.SetFont("go", "", 8)
		p.CellFormat(0, 5, tx.reference+" "+Clean(r.Reference)+" · "+fmt.Sprintf(tx.page, p.PageNo()), "", 0, "C", false, 0, "")
	})
	p.AddPage()
	width, _ := p.GetPageSize()
	textW := width - 2*margin

	p.SetFont("go", "B", 18)
	p.CellFormat(0, 10, tx.title, "", 1, "L", false, 0, "")
	p.Ln(2)

	row := func(label, value string, bold bool) {
		label, value = Clean(label), Clean(value)
		style := ""
		if bold {
			style = "B"
		}
		p.SetFont("go", "", 10)
		ll := p.SplitText(label, labelW-2)
		p.SetFont("go", style, 10)
		vl := p.SplitText(value, textW-labelW)
		n := max(len(ll), len(vl), 1)
		_, pageH := p.GetPageSize()
		if p.GetY()+float64(n)*lineH > pageH-margin {
			p.AddPage()
		}
		y := p.GetY()
		p.SetFont("go", "", 10)
		for i, l := range ll {
			p.SetXY(margin, y+float64(i)*lineH)
			p.CellFormat(labelW, lineH, l, "", 0, "L", false, 0, "")
		}
		p.SetFont("go", style, 10)
		for i, l := range vl {
			p.SetXY(margin+labelW, y+float64(i)*lineH)
			p.CellFormat(textW-labelW, lineH, l, "", 0, "L", false, 0, "")
		}
		p.SetXY(margin, y+float64(n)*lineH+0.8)
	}
	heading := func(s string, size float64) {
		if _, pageH := p.GetPageSize(); p.GetY() > pageH-margin-25 {
			p.AddPage() // keep a heading with what follows
		}
		s = Clean(s)
		p.Ln(3)
		p.SetFont("go", "B", size)
		p.MultiCell(0, lineH+1, s, "", "L", false)
		p.Ln(1)
	}

	if r.Tenant != "" {
		row(tx.tenant, r.Tenant, false)
	}
	if r.Office != "" {
		row(tx.office, r.Office, false)
	}
	if r.Service != "" {
		row(tx.service, r.Service, false)
	}
	row(tx.reference, r.Reference, true)
	if !r.SubmittedAt.IsZero() {
		layout := "02.01.2006, 15:04:05 MST"
		if r.Lang == "en" {
			layout = "2006-01-02, 15:04:05 MST"
		}
		row(tx.submitted, r.SubmittedAt.In(loc).Format(layout), false)
	}

	if r.Form != nil {
		heading(tx.answers, 13)
		fileText := func(x map[string]any) string {
			name, _ := x["name"].(string)
			var size float64
			if _, err := fmt.Sscan(fmt.Sprint(x["size"]), &size); err == nil && size >= 0 {
				return name + " (" + humanSize(int64(size), r.Lang) + ")"
			}
			return name
		}
		for _, l := range Lines(r.Form, r.Answers, tx.yes, tx.no, fileText) {
			if l.Group {
				heading(strings.Repeat("  ", l.Depth)+l.Label, max(11.5-float64(l.Depth), 10))
				continue
			}
			row(l.Label, l.Value, false)
		}
	}

	heading(tx.attachments, 13)
	if len(r.Attachments) == 0 {
		p.SetFont("go", "", 10)
		p.MultiCell(0, lineH, tx.none, "", "L", false)
	}
	for _, a := range r.Attachments {
		if _, pageH := p.GetPageSize(); p.GetY() > pageH-margin-12 {
			p.AddPage()
		}
		p.SetFont("go", "B", 10)
		p.MultiCell(0, lineH, Clean(a.Filename)+" ("+humanSize(a.Size, r.Lang)+")", "", "L", false)
		p.SetFont("go", "", 8)
		p.MultiCell(0, lineH-1, "SHA-256: "+Clean(a.SHA256), "", "L", false)
		p.Ln(1)
	}

	heading(map[bool]string{true: "Wie geht es weiter?", false: "What happens next?"}[r.Lang != "en"], 13)
	p.SetFont("go", "", 10)
	next := r.NextSteps
	if next == "" {
		next = tx.next
	}
	p.MultiCell(0, lineH, Clean(next), "", "L", false)

	if err := p.Error(); err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "receipt: PDF could not be made")
	}
	return p.Output(w)
}

// humanSize renders a byte count ("1,5 MB" in German, "1.5 MB" in English).
func humanSize(n int64, lang string) string {
	s := fmt.Sprintf("%d Bytes", n)
	switch {
	case n >= 1<<20:
		s = fmt.Sprintf("%.1f MB", math.Round(float64(n)/(1<<20)*10)/10)
	case n >= 1<<10:
		s = fmt.Sprintf("%.1f KB", math.Round(float64(n)/(1<<10)*10)/10)
	}
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
