// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"rathaus"
)

// MetadataSchema100 is the $schema of metadata version 1.0.0.
const MetadataSchema100 = "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"

// LeikaURNPrefix prefixes a 14-digit LeiKa key in publicServiceType.identifier.
const LeikaURNPrefix = "urn:de:fim:leika:leistung:"

// Attachment purposes.
const (
	PurposeForm       = "form"       // generated PDF of the application form
	PurposeAttachment = "attachment" // uploaded by the citizen
	PurposeReport     = "report"     // produced later by the online service
)

// Metadata is the metadata record (Metadatensatz) of a submission, schema
// version 1.0.0. It travels encrypted as encryptedMetadata.
type Metadata struct {
	Schema                    string                      `json:"$schema,omitempty"`
	ContentStructure          ContentStructure            `json:"contentStructure"`
	PublicServiceType         *PublicServiceType          `json:"publicServiceType,omitempty"`
	AuthenticationInformation []AuthenticationInformation `json:"authenticationInformation,omitempty"`
	PaymentInformation        *PaymentInformation         `json:"paymentInformation,omitempty"`
	ReplyChannel              *ReplyChannel               `json:"replyChannel,omitempty"`
	AdditionalReferenceInfo   *AdditionalReferenceInfo    `json:"additionalReferenceInfo,omitempty"`
}

// ContentStructure describes the data and the attachments.
type ContentStructure struct {
	Data        *DataDescription        `json:"data,omitempty"`
	Attachments []AttachmentDescription `json:"attachments"`
}

// Hash is a SHA-512 hash in lowercase hex.
type Hash struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

// SHA512 returns the Hash of b.
func SHA512(b []byte) Hash { return Hash{Type: "sha512", Content: SHA512Hex(b)} }

// DataDescription describes the specialist data (Fachdaten).
type DataDescription struct {
	Hash             Hash             `json:"hash"`
	SubmissionSchema SubmissionSchema `json:"submissionSchema"`
	Signature        *Signature       `json:"signature,omitempty"`
}

// SubmissionSchema names the schema of the data.
type SubmissionSchema struct {
	SchemaURI string `json:"schemaUri"`
	MimeType  string `json:"mimeType"` // application/json or application/xml
}

// AttachmentDescription describes one attachment.
type AttachmentDescription struct {
	AttachmentID string     `json:"attachmentId"`
	Hash         Hash       `json:"hash"`
	Purpose      string     `json:"purpose"`
	Filename     string     `json:"filename,omitempty"`
	Description  string     `json:"description,omitempty"`
	MimeType     string     `json:"mimeType"`
	Signature    *Signature `json:"signature,omitempty"`
}

// Signature describes an electronic signature of data or an attachment.
type Signature struct {
	SignatureFormat   string `json:"signatureFormat"`
	EidasAdesProfile  string `json:"eidasAdesProfile,omitempty"`
	DetachedSignature bool   `json:"detachedSignature"`
	Content           string `json:"content,omitempty"`
}

// PublicServiceType names the administrative service (LeiKa URN).
type PublicServiceType struct {
	Identifier  string `json:"identifier"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// AuthenticationInformation carries a proof of identity
// (identificationReport, base64url content).
type AuthenticationInformation struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	Content string `json:"content"`
}

// PaymentInformation is what the payment service reported (XBezahldienste).
type PaymentInformation struct {
	TransactionURL       string  `json:"transactionUrl,omitempty"`
	TransactionID        string  `json:"transactionId"`
	TransactionReference string  `json:"transactionReference"`
	TransactionTimestamp string  `json:"transactionTimestamp,omitempty"`
	PaymentMethod        string  `json:"paymentMethod"`
	PaymentMethodDetail  string  `json:"paymentMethodDetail,omitempty"`
	Status               string  `json:"status"`
	GrossAmount          float64 `json:"grossAmount,omitempty"`
}

// ReplyChannel is exactly one way to answer the applicant.
type ReplyChannel struct {
	EMail  *EMailChannel  `json:"eMail,omitempty"`
	DeMail *DeMailChannel `json:"deMail,omitempty"`
	Fink   *FinkChannel   `json:"fink,omitempty"`
	Elster *ElsterChannel `json:"elster,omitempty"`
}

// EMailChannel answers by e-mail.
type EMailChannel struct {
	Address      string `json:"address"`
	PGPPublicKey string `json:"pgpPublicKey,omitempty"`
}

// DeMailChannel answers by De-Mail.
type DeMailChannel struct {
	Address string `json:"address"`
}

// FinkChannel answers into a FINK service account mailbox.
type FinkChannel struct {
	FinkPostfachRef string `json:"finkPostfachRef"`
	Host            string `json:"host,omitempty"`
}

// ElsterChannel answers through ELSTER.
type ElsterChannel struct {
	AccountID         string `json:"accountId"`
	LieferTicket      string `json:"lieferTicket,omitempty"`
	Geschaeftszeichen string `json:"geschaeftszeichen,omitempty"`
}

// AdditionalReferenceInfo carries the sender's reference and the application date.
type AdditionalReferenceInfo struct {
	SenderReference string `json:"senderReference,omitempty"`
	ApplicationDate string `json:"applicationDate,omitempty"` // YYYY-MM-DD
}

var (
	reHex128   = regexp.MustCompile(`^[a-f0-9]{128}$`)
	reURN      = regexp.MustCompile(`^urn:[a-z0-9][a-z0-9-]{0,31}:[a-z0-9()+,.:=@;$_!*'%/?#-]+$`)
	reMime     = regexp.MustCompile(`^[-\w.]+/[-\w.+]+$`)
	reSemver   = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)
	reB64URL   = regexp.MustCompile(`^[a-zA-Z0-9_\-.]+$`)
	reTxID     = regexp.MustCompile(`^[\w-]{1,36}$`)
	reElster   = regexp.MustCompile(`^\d{10}$`)
	reFinkRef  = regexp.MustCompile(`^[-._a-z0-9~/]*$`)
	reLeikaKey = regexp.MustCompile(`^\d{14}$`)
	reDate     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// LeikaIdentifier returns the publicServiceType identifier of a 14-digit
// LeiKa key.
func LeikaIdentifier(key string) (string, error) {
	if !reLeikaKey.MatchString(key) {
		return "", rathaus.Errorf(rathaus.EINVALID, "leika key %q: want 14 digits", key)
	}
	return LeikaURNPrefix + key, nil
}

func bad(field, format string, args ...any) error {
	return rathaus.Errorf(rathaus.EINVALID, "metadata: %s: "+format, append([]any{field}, args...)...)
}

func checkHash(field string, h Hash) error {
	if h.Type != "sha512" {
		return bad(field+".type", "must be sha512, is %q", h.Type)
	}
	if !reHex128.MatchString(h.Content) {
		return bad(field+".content", "must be 128 lowercase hex characters")
	}
	return nil
}

func checkSignature(field string, s *Signature) error {
	if s == nil {
		return nil
	}
	switch s.SignatureFormat {
	case "cms", "xml", "pdf", "asic", "json":
	default:
		return bad(field+".signatureFormat", "must be cms, xml, pdf, asic or json, is %q", s.SignatureFormat)
	}
	return nil
}

func absURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}

// Validate checks the constraints of metadata schema 1.0.0 and returns the
// first violation as EINVALID naming the field and the reason.
func (m *Metadata) Validate() error {
	if m.Schema != "" && m.Schema != MetadataSchema100 {
		return bad("$schema", "unsupported metadata schema %q", m.Schema)
	}
	cs := m.ContentStructure
	if cs.Attachments == nil {
		return bad("contentStructure.attachments", "required (may be empty)")
	}
	if d := cs.Data; d != nil {
		if err := checkHash("contentStructure.data.hash", d.Hash); err != nil {
			return err
		}
		if !absURI(d.SubmissionSchema.SchemaURI) {
			return bad("contentStructure.data.submissionSchema.schemaUri", "must be an absolute URI, is %q", d.SubmissionSchema.SchemaURI)
		}
		if mt := d.SubmissionSchema.MimeType; mt != "application/json" && mt != "application/xml" {
			return bad("contentStructure.data.submissionSchema.mimeType", "must be application/json or application/xml, is %q", mt)
		}
		if err := checkSignature("contentStructure.data.signature", d.Signature); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, a := range cs.Attachments {
		f := "contentStructure.attachments[" + strconv.Itoa(i) + "]"
		if err := uuid.Validate(a.AttachmentID); err != nil || len(a.AttachmentID) != 36 {
			return bad(f+".attachmentId", "must be a UUID, is %q", a.AttachmentID)
		}
		if seen[a.AttachmentID] {
			return bad(f+".attachmentId", "duplicate %s", a.AttachmentID)
		}
		seen[a.AttachmentID] = true
		if err := checkHash(f+".hash", a.Hash); err != nil {
			return err
		}
		switch a.Purpose {
		case PurposeForm, PurposeAttachment, PurposeReport:
		default:
			return bad(f+".purpose", "must be form, attachment or report, is %q", a.Purpose)
		}
		if !reMime.MatchString(a.MimeType) {
			return bad(f+".mimeType", "not a media type: %q", a.MimeType)
		}
		if err := checkSignature(f+".signature", a.Signature); err != nil {
			return err
		}
	}
	if p := m.PublicServiceType; p != nil {
		if n := len(p.Identifier); n < 7 || n > 255 || !reURN.MatchString(p.Identifier) {
			return bad("publicServiceType.identifier", "must be a URN such as %s<key>, is %q", LeikaURNPrefix, p.Identifier)
		}
	}
	if m.AuthenticationInformation != nil && len(m.AuthenticationInformation) == 0 {
		return bad("authenticationInformation", "must not be empty when present")
	}
	for i, a := range m.AuthenticationInformation {
		f := "authenticationInformation[" + strconv.Itoa(i) + "]"
		if a.Type != "identificationReport" {
			return bad(f+".type", "must be identificationReport, is %q", a.Type)
		}
		if !reSemver.MatchString(a.Version) {
			return bad(f+".version", "must be a semantic version, is %q", a.Version)
		}
		if !reB64URL.MatchString(a.Content) {
			return bad(f+".content", "must be base64url")
		}
	}
	if p := m.PaymentInformation; p != nil {
		if !reTxID.MatchString(p.TransactionID) {
			return bad("paymentInformation.transactionId", "must be 1–36 word characters or hyphens")
		}
		switch p.PaymentMethod {
		case "GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "INVOICE", "OTHER":
		default:
			return bad("paymentInformation.paymentMethod", "unknown payment method %q", p.PaymentMethod)
		}
		switch p.Status {
		case "INITIAL", "BOOKED", "FAILED", "CANCELED":
		default:
			return bad("paymentInformation.status", "unknown status %q", p.Status)
		}
		if p.TransactionURL != "" && !absURI(p.TransactionURL) {
			return bad("paymentInformation.transactionUrl", "must be an absolute URI")
		}
		if p.PaymentMethodDetail != "" && !reTxID.MatchString(p.PaymentMethodDetail) {
			return bad("paymentInformation.paymentMethodDetail", "must be 1–36 word characters or hyphens")
		}
		if p.GrossAmount < 0 {
			return bad("paymentInformation.grossAmount", "must be at least 0.01")
		}
	}
	if r := m.ReplyChannel; r != nil {
		n := 0
		if r.EMail != nil {
			n++
			if _, err := mail.ParseAddress(r.EMail.Address); err != nil {
				return bad("replyChannel.eMail.address", "not an e-mail address")
			}
			if r.EMail.PGPPublicKey != "" && !strings.HasPrefix(r.EMail.PGPPublicKey, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n") {
				return bad("replyChannel.eMail.pgpPublicKey", "must be an ASCII-armoured PGP public key block")
			}
		}
		if r.DeMail != nil {
			n++
			if _, err := mail.ParseAddress(r.DeMail.Address); err != nil {
				return bad("replyChannel.deMail.address", "not an e-mail address")
			}
		}
		if r.Fink != nil {
			n++
			if len(r.Fink.FinkPostfachRef) > 150 || !reFinkRef.MatchString(r.Fink.FinkPostfachRef) {
				return bad("replyChannel.fink.finkPostfachRef", "invalid mailbox reference")
			}
		}
		if r.Elster != nil {
			n++
			if !reElster.MatchString(r.Elster.AccountID) {
				return bad("replyChannel.elster.accountId", "must be 10 digits")
			}
			if len(r.Elster.Geschaeftszeichen) > 10 {
				return bad("replyChannel.elster.geschaeftszeichen", "at most 10 characters")
			}
		}
		if n != 1 {
			return bad("replyChannel", "exactly one channel required, have %d", n)
		}
	}
	if a := m.AdditionalReferenceInfo; a != nil && a.ApplicationDate != "" && !reDate.MatchString(a.ApplicationDate) {
		return bad("additionalReferenceInfo.applicationDate", "must be YYYY-MM-DD")
	}
	return nil
}

// ParseMetadata decodes and validates a metadata record.
func ParseMetadata(b []byte) (*Metadata, error) {
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "metadata: not valid JSON: %v", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}
