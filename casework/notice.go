// SPDX-License-Identifier: EUPL-1.2

package casework

import (
	"io"
	"time"
	_ "time/tzdata" // Europe/Berlin without a system zoneinfo

	"rathaus"
	"rathaus/receipt"
)

// Notice is the content of a notice (Bescheid).
type Notice struct {
	Letterhead string // the authority, e.g. "Wissenschaftsstadt Darmstadt – Bürgeramt"
	Reference  string
	Service    string
	Applicant  string
	Decision   string // approve | reject | "" (a summary, no decision yet)
	Reason     string
	Date       time.Time
}

// RenderNotice writes the notice as PDF (A4, German). Texts are cleaned
// with receipt.Clean: an emoji in a name or reason must not fail the
// decision step.
func RenderNotice(w io.Writer, n Notice) error {
	if n.Reference == "" || (n.Decision != "" && n.Decision != DecisionApprove && n.Decision != DecisionReject) {
		return rathaus.Errorf(rathaus.EINVALID, "notice: needs a reference and a decision (approve, reject, or none for a summary)")
	}
	if n.Date.IsZero() {
		n.Date = time.Now()
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		loc = time.UTC
	}
	for _, f := range []*string{&n.Letterhead, &n.Reference, &n.Service, &n.Applicant, &n.Reason} {
		*f = receipt.Clean(*f)
	}
	title := "Bewilligungsbescheid"
	verdict := "Ihrem Antrag wird stattgegeben."
	switch n.Decision {
	case DecisionReject:
		title, verdict = "Ablehnungsbescheid", "Ihr Antrag wird abgelehnt."
	case "":
		title, verdict = "Antragsübersicht", "Ihr Antrag ist eingegangen und wird bearbeitet."
	}
	p := receipt.NewPDF(title+" "+n.Reference, n.Date)
	p.AddPage()
	p.SetFont(receipt.Font, "B", 11)
	p.MultiCell(0, 6, n.Letterhead, "B", "L", false)
	p.Ln(8)
	p.SetFont(receipt.Font, "", 10)
	if n.Applicant != "" {
		p.MultiCell(0, 5, n.Applicant, "", "L", false)
	}
	p.CellFormat(0, 5, n.Date.In(loc).Format("02.01.2006"), "", 1, "R", false, 0, "")
	p.Ln(6)
	p.SetFont(receipt.Font, "B", 16)
	p.CellFormat(0, 9, title, "", 1, "L", false, 0, "")
	p.SetFont(receipt.Font, "", 10)
	p.CellFormat(0, 6, "Aktenzeichen: "+n.Reference, "", 1, "L", false, 0, "")
	if n.Service != "" {
		p.MultiCell(0, 6, "Leistung: "+n.Service, "", "L", false)
	}
	p.Ln(4)
	p.SetFont(receipt.Font, "B", 11)
	p.MultiCell(0, 6, verdict, "", "L", false)
	if n.Reason != "" {
		p.Ln(2)
		p.SetFont(receipt.Font, "B", 10)
		p.CellFormat(0, 6, "Begründung", "", 1, "L", false, 0, "")
		p.SetFont(receipt.Font, "", 10)
		p.MultiCell(0, 5, n.Reason, "", "L", false)
	}
	p.Ln(6)
	p.SetFont(receipt.Font, "", 9)
	p.MultiCell(0, 4.5, "Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch erhoben werden.", "", "L", false)
	return p.Output(w)
}
